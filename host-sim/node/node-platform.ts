// The Platform (firmware/platform.ts) on Node: node:net sockets, setInterval, performance.now().
// Used to run dist/wisp.js directly in Node; the simulated boards use the Espruino stand-ins instead.
// Type-checked against Platform by the build (rollup.config.js → dist/node-platform.mjs): a change to
// the interface that this file does not follow stops the build.
import net from "node:net";
import { randomBytes } from "node:crypto";
import type { Platform, NetHandler } from "../../firmware/platform";

/** A connection: a Node socket carrying its handler and the number of writes not yet flushed. */
type Conn = net.Socket & { wisp: { handler: NetHandler; writing: number } };

/** A Platform for Node. `drain` is reported when every write so far has been flushed to the kernel. */
export function nodePlatform(): Platform {
  return {
    open(host: string, port: number, handler: NetHandler): Conn {
      const s = Object.assign(net.connect({ host, port }), { wisp: { handler, writing: 0 } });
      s.on("connect", () => handler.onOpen(s));
      s.on("data", (d: Buffer) => handler.onData(s, new Uint8Array(d.buffer, d.byteOffset, d.length)));
      s.on("close", () => handler.onClose(s));
      s.on("error", () => handler.onClose(s));
      return s;
    },
    send(s: Conn, buf: Uint8Array, start: number, end: number) {
      if (s.destroyed) return;
      s.wisp.writing++;
      s.write(Buffer.from(buf.subarray(start, end)), () => {
        if (--s.wisp.writing === 0 && !s.destroyed) s.wisp.handler.onDrain(s);
      });
    },
    close(s: Conn) { s.destroy(); },
    now: () => performance.now(),
    every: (fn: () => void, ms: number) => setInterval(fn, ms),
    cancel: (h: ReturnType<typeof setInterval>) => clearInterval(h),
    random: Math.random,
    deviceId: () => "wisp" + randomBytes(6).toString("hex"),
  };
}
