// A scripted Platform: sockets the test drives by hand and a clock the test advances.
import { codec } from "./codec.mjs";

/** Decodes every whole packet in `bytes` (client → broker direction) to {type, flags, bytes}. */
export function splitPackets(bytes) {
  const out = [];
  let o = 0;
  while (o < bytes.length) {
    const r = codec.readLength(bytes, o + 1, bytes.length);
    const end = o + 2 + (r & 3) + (r >> 2);
    if (r < 0 || end > bytes.length) throw new Error(`the client wrote a broken packet at byte ${o}: ${Buffer.from(bytes).toString("hex")}`);
    out.push({ type: bytes[o] >> 4, flags: bytes[o] & 15, bytes: bytes.slice(o, end) });
    o = end;
  }
  return out;
}

/** A scripted platform of Espruino-shaped sockets. Each connection `c` records what the client wrote
 *  (`written`, byte arrays) and whether it was ended (`closed`); `c.handler` drives it as the network
 *  would: onOpen, onData (bytes or a byte string), onDrain, onClose. `refuse = true` makes the next
 *  connect throw as Espruino's Linux build does when the broker refuses. */
export function fakePlatform() {
  const conns = [];
  let now = 1000;
  let ticker = null;
  let period = 0;
  let nextTick = 0;
  const fake = { refuse: false };
  const platform = {
    connect(options, onOpen) {
      if (fake.refuse) throw new Error("InternalError: Unable to create socket");
      const listeners = {};
      const fire = (event, arg) => { for (const fn of listeners[event] || []) fn.call(c, arg); };
      const c = {
        host: options.host, port: options.port, written: [], closed: false,
        on(event, fn) { (listeners[event] ||= []).push(fn); },
        write(data) { c.written.push(Uint8Array.from(data, (ch) => ch.charCodeAt(0))); },
        end() { c.closed = true; },
        handler: {
          onOpen: () => onOpen.call(c, c), // as Espruino: the socket is the argument too
          onData: (_c, d) => fire("data", typeof d === "string" ? d : String.fromCharCode(...d)),
          onDrain: () => fire("drain", c),
          onClose: () => fire("close", false), // as Espruino: close gives a boolean
        },
      };
      conns.push(c);
      return c;
    },
    time: () => now / 1000,
    setInterval(fn, ms, arg) { ticker = () => fn(arg); period = ms; nextTick = now + ms; return 1; },
    clearInterval() { ticker = null; },
    random: () => 0.5,
  };
  return {
    platform,
    conns,
    set refuse(v) { fake.refuse = v; },
    get conn() { return conns[conns.length - 1]; },
    get ticking() { return ticker !== null; },
    get now() { return now; },
    /** Moves the clock on, running the periodic timer as it would fire. */
    advance(ms) {
      const until = now + ms;
      while (ticker && nextTick <= until) {
        now = nextTick;
        nextTick += period;
        ticker();
      }
      now = until;
    },
    /** Moves the clock on in 250 ms steps until cond() holds; throws naming `what` after maxMs. */
    advanceUntil(cond, maxMs, what) {
      for (const until = now + maxMs; !cond(); this.advance(250)) {
        if (now >= until) throw new Error(`${what}: not within ${maxMs} ms of fake time`);
      }
    },
    /** Packets the client wrote on the current connection since the last call. */
    sent(c = conns[conns.length - 1]) {
      const all = c.written.splice(0);
      return all.flatMap((b) => splitPackets(b));
    },
  };
}
