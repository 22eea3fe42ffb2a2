// The Platform (firmware/platform.ts) on Node: Espruino-shaped sockets over node:net that take and give
// byte strings, a clock in seconds, setInterval. Tests run dist/wisp.js (inside the Espruino stand-ins,
// see load.mjs) on it when they need the sockets themselves, e.g. to cut one abruptly.
import net from "node:net";

/** A socket as Espruino's net module gives it, over a node:net socket (`node`). `drain` is emitted when
 *  every write so far has reached the kernel. A refused connection is an `error` and a `close`. */
function espruinoSocket(node, onOpen) {
  const listeners = {};
  let writing = 0;
  const s = {
    node,
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    emit(event, arg) { for (const fn of listeners[event] || []) fn.call(s, arg); },
    write(data) {
      if (node.destroyed) return;
      writing++;
      node.write(Buffer.from(data, "latin1"), () => { if (--writing === 0 && !node.destroyed) s.emit("drain"); });
    },
    end() { node.destroy(); },
    destroy() { node.destroy(); },
    get bytesRead() { return node.bytesRead; },
    get destroyed() { return node.destroyed; },
  };
  node.setNoDelay(true);
  node.on("connect", () => onOpen.call(s));
  node.on("data", (d) => s.emit("data", d.toString("latin1")));
  node.on("error", (e) => s.emit("error", { type: e.code, message: e.message }));
  node.on("close", () => s.emit("close"));
  return s;
}

/** A Platform for Node. */
export function nodePlatform() {
  return {
    connect: (options, onOpen) => espruinoSocket(net.connect({ host: options.host, port: options.port }), onOpen),
    time: () => performance.now() / 1000,
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h),
    random: Math.random,
  };
}
