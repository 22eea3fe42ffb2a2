// The Platform (firmware/platform.ts) on Node: Espruino-shaped sockets over node:net that take and give
// byte strings, a clock in seconds, setInterval. Tests run dist/wisp.js (inside the Espruino stand-ins,
// see load.mjs) on it when they need the sockets themselves, e.g. to cut one abruptly. Type-checked
// against Platform by the build (rollup.config.js → dist/node-platform.mjs): a change to the interface
// that this file does not follow stops the build.
import net from "node:net";
import type { Platform, Socket } from "../../firmware/platform";

/** An Espruino-shaped socket with its node:net socket (`node`), for tests that cut or inspect it. */
export interface NodeSocket extends Socket {
  node: net.Socket;
  destroy(): void;
  readonly bytesRead: number;
  readonly destroyed: boolean;
}

/** A socket as Espruino's net module gives it, over a node:net socket. `drain` is emitted when every
 *  write so far has reached the kernel; a refused connection is an `error` and a `close` (the Linux
 *  interpreter throws instead: the session handles both). */
function espruinoSocket(node: net.Socket, onOpen: (this: Socket) => void): NodeSocket {
  const listeners: { [event: string]: ((this: Socket, data?: any) => void)[] } = {};
  let writing = 0;
  const emit = (event: string, arg?: any) => { for (const fn of listeners[event] || []) fn.call(s, arg); };
  const s: NodeSocket = {
    node,
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    write(data) {
      if (node.destroyed) return;
      writing++;
      node.write(Buffer.from(data, "latin1"), () => { if (--writing === 0 && !node.destroyed) emit("drain"); });
    },
    end() { node.destroy(); },
    destroy() { node.destroy(); },
    get bytesRead() { return node.bytesRead; },
    get destroyed() { return node.destroyed; },
  };
  node.setNoDelay(true);
  node.on("connect", () => onOpen.call(s));
  // As on the interpreter: byte strings of at most 536 bytes.
  node.on("data", (d: Buffer) => { for (let o = 0; o < d.length; o += 536) emit("data", d.toString("latin1", o, Math.min(d.length, o + 536))); });
  node.on("error", (e: NodeJS.ErrnoException) => emit("error", { type: e.code, message: e.message }));
  node.on("close", () => emit("close"));
  return s;
}

/** A Platform for Node. */
export function nodePlatform(): Platform {
  return {
    connect: (options, onOpen) => espruinoSocket(net.connect({ host: options.host, port: options.port }), onOpen),
    time: () => performance.now() / 1000,
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h),
    random: Math.random,
  };
}
