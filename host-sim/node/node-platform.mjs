// The Platform (firmware/platform.ts) on Node: node:net sockets, setInterval, performance.now().
// Used to run dist/wisp.js directly in Node; the simulated boards use the Espruino stand-ins instead.
import net from "node:net";
import { randomBytes } from "node:crypto";

/** A Platform for Node. `drain` is reported when every write so far has been flushed to the kernel. */
export function nodePlatform() {
  return {
    open(host, port, handler) {
      const s = net.connect({ host, port });
      s.wisp = { handler, writing: 0 };
      s.on("connect", () => handler.onOpen(s));
      s.on("data", (d) => handler.onData(s, new Uint8Array(d.buffer, d.byteOffset, d.length)));
      s.on("close", () => handler.onClose(s));
      s.on("error", () => handler.onClose(s));
      return s;
    },
    send(s, buf, start, end) {
      if (s.destroyed) return;
      s.wisp.writing++;
      s.write(Buffer.from(buf.subarray(start, end)), () => {
        if (--s.wisp.writing === 0 && !s.destroyed) s.wisp.handler.onDrain(s);
      });
    },
    close(s) { s.destroy(); },
    now: () => performance.now(),
    every: (fn, ms) => setInterval(fn, ms),
    cancel: (h) => clearInterval(h),
    random: Math.random,
    deviceId: () => "wisp" + randomBytes(6).toString("hex"),
  };
}
