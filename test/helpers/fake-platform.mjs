// A scripted Platform: sockets the test drives by hand and a clock the test advances.
import { codec } from "./codec.mjs";

/** Decodes every whole packet in `bytes` (client → broker direction) to {type, flags, bytes}. */
export function splitPackets(bytes) {
  const out = [];
  let o = 0;
  while (o < bytes.length) {
    const p = codec.readLength(bytes, o + 1, bytes.length);
    const end = p + codec.lengthOut.value;
    if (p < 0 || end > bytes.length) throw new Error(`the client wrote a broken packet at byte ${o}: ${Buffer.from(bytes).toString("hex")}`);
    out.push({ type: bytes[o] >> 4, flags: bytes[o] & 15, bytes: bytes.slice(o, end) });
    o = end;
  }
  return out;
}

export function fakePlatform() {
  const conns = [];
  let now = 1000;
  let ticker = null;
  let period = 0;
  let nextTick = 0;
  const platform = {
    open(host, port, handler) {
      const c = { host, port, handler, written: [], closed: false };
      conns.push(c);
      return c;
    },
    send(c, buf, start, end) { c.written.push(buf.slice(start, end)); },
    close(c) { c.closed = true; },
    now: () => now,
    every(fn, ms) { ticker = fn; period = ms; nextTick = now + ms; return 1; },
    cancel() { ticker = null; },
    random: () => 0.5,
    deviceId: () => "wispfake",
  };
  return {
    platform,
    conns,
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
