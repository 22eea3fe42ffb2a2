// Espruino's net module, over node:net. Measured on Espruino 2v29 Linux builds (default and 1,700
// JsVars) with the probes in test/stand-ins.test.mjs, against a Node server on 127.0.0.1:
// - net.connect to a port nothing listens on throws at once, "InternalError: Unable to create
//   socket", and emits nothing (the Linux build connects blocking). Here a worker thread tries the
//   connection first (refused.mjs) so the stand-in can throw at the same moment.
// - net.connect returns before the connect callback runs; the callback gets `this` = the socket.
// - socket.write() returns false; a non-string is sent as its text (a Uint8Array goes out as "48,2,65").
// - `drain` comes whenever the send buffer empties after the connection opened, after writes and
//   after end(): writes in the connect callback then end() on the first drain give
//   drain, drain, end, close(false); end() right after writes still sends them all first.
// - The send buffer is unbounded and drains 536 bytes per main-loop pass.
// - Incoming data are binary strings of at most 536 bytes, one chunk per loop pass (2,000 bytes
//   arrive as 536, 536, 536, 392); the peer closing gives `end`, then `close` with false.
// Not measured (the Linux build has no Wi-Fi): with the link down a connection fails with
// `error` {type: "ENETUNREACH"} then `close` true on a later pass.
import net from "node:net";
import vm from "node:vm";
import { bytesOf } from "./strings.mjs";
import { isRefused } from "./refused.mjs";

const CHUNK = 536;
const LOOP_MS = 1;

/** The net module of one board on `loop`, online while `link.connected`. */
export function createNet({ loop, link, context }) {
  const sockets = new Set();
  const { call, later } = loop;

  /** An Espruino socket over `node` (a node:net socket by default; tls.mjs gives a node:tls one, which
   *  is up at `secureConnect`). */
  function simSocket(host, port, onConnect, node = net.connect({ host, port }), upEvent = "connect") {
    const s = loop.emitter({});
    const queue = [];
    let pumping = false;
    let ending = false;
    let closed = false;
    node.setNoDelay(true);
    sockets.add(s);
    const finish = () => {
      if (closed) return;
      closed = true;
      sockets.delete(s);
      later(() => { s.emit("end"); s.emit("close", false); });
    };
    /** One main-loop pass of the send buffer: up to 536 bytes out; `drain` once it is empty. */
    const pump = () => {
      if (closed || !loop.power.on) { pumping = false; return; }
      let budget = CHUNK;
      while (budget > 0 && queue.length) {
        const head = queue[0];
        const n = Math.min(budget, head.length);
        node.write(head.subarray(0, n));
        budget -= n;
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
      }
      if (queue.length) { setTimeout(pump, LOOP_MS); return; }
      pumping = false;
      const closing = ending; // an end() inside this drain's listeners closes after one more pass (and drain)
      call(() => s.emit("drain", s)); // the interpreter passes the socket to drain and connect listeners
      if (closing) { node.end(); finish(); } // the interpreter closes its socket once the buffer is out
    };
    const schedule = () => { if (!pumping) { pumping = true; setTimeout(pump, LOOP_MS); } };
    // The interpreter empties the send buffer (and says `drain`) in the pass that runs the connect callback.
    node.on(upEvent, () => later(() => { if (onConnect) onConnect.call(s, s); pumping = true; pump(); }));
    node.on("data", (buf) => {
      for (let o = 0; o < buf.length; o += CHUNK) {
        const chunk = buf.subarray(o, o + CHUNK).toString("latin1");
        setImmediate(() => { if (!closed) call(() => s.emit("data", chunk)); });
      }
    });
    node.on("error", (e) => later(() => s.emit("error", { type: e.code, message: e.reason || e.message }))); // TLS errors: the reason alone
    node.on("close", finish);
    s.write = function (data) {
      if (closed) return false;
      if (typeof data !== "string") data = String(data); // Espruino sends e.g. a Uint8Array as "1,2,3"
      queue.push(bytesOf(data));
      schedule();
      return false;
    };
    s.end = function () { ending = true; schedule(); };
    s.destroy = function () { node.destroy(); finish(); };
    return s;
  }

  const ContextError = vm.runInContext("Error", context);
  /** The checks before a socket: no link gives a socket that fails; a refused port throws. Returns
   *  that failing socket, or null when the connection may go ahead. */
  const unreachable = (host, port) => {
    if (!link.connected) { // no network: fail the way a board without a link does
      const s = loop.emitter({ write() { return false; }, end() {} });
      later(() => { s.emit("error", { type: "ENETUNREACH", message: "no network" }); s.emit("close", true); });
      return s;
    }
    if (isRefused(host, port)) {
      const e = new ContextError("Unable to create socket");
      e.name = "InternalError";
      throw e;
    }
    return null;
  };
  const module = {
    connect(options, onConnect) {
      const port = options.port || 23;
      return unreachable(options.host, port) || simSocket(options.host, port, onConnect);
    },
  };

  const destroyAll = () => { for (const s of [...sockets]) s.destroy(); };
  loop.whenOff(destroyAll);
  return {
    /** What require("net") returns. */
    module,
    /** For tls.mjs: unreachable(host, port) and simSocket(host, port, onConnect, nodeSocket, upEvent). */
    unreachable,
    simSocket,
    /** The board's open sockets. */
    sockets,
    /** Kills every open socket at once, as a lost link does. */
    destroyAll,
  };
}
