// The Platform (firmware/platform.ts) on Node: Espruino-shaped sockets over node:net (and node:tls) that take and give
// byte strings, a clock in seconds, setInterval. Tests run dist/wisp.js (inside the Espruino stand-ins,
// see load.mjs) on it when they need the sockets themselves, e.g. to cut one abruptly. Type-checked
// against Platform by the build (rollup.config.js → dist/node-platform.mjs): a change to the interface
// that this file does not follow stops the build.
import net from "node:net";
import tls from "node:tls";
import crypto from "node:crypto";
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
function espruinoSocket(node: net.Socket, onOpen: (this: Socket) => void, upEvent = "connect"): NodeSocket {
  const listeners: { [event: string]: ((this: Socket, data?: any) => void)[] } = {};
  let writing = 0;
  const emit = (event: string, arg?: any) => { for (const fn of listeners[event] || []) fn.call(s, arg); };
  const s: NodeSocket = {
    node,
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    write(data) {
      if (node.destroyed) return;
      writing++;
      node.write(Buffer.from(data, "latin1"), () => { if (--writing === 0 && !node.destroyed) emit("drain", s); }); // as Espruino: drain and connect get the socket
    },
    end() { node.destroy(); },
    destroy() { node.destroy(); },
    get bytesRead() { return node.bytesRead; },
    get destroyed() { return node.destroyed; },
  };
  node.setNoDelay(true);
  node.on(upEvent, () => (onOpen as any).call(s, s));
  // As on the interpreter: byte strings of at most 536 bytes.
  node.on("data", (d: Buffer) => { for (let o = 0; o < d.length; o += 536) emit("data", d.toString("latin1", o, Math.min(d.length, o + 536))); });
  node.on("error", (e: NodeJS.ErrnoException & { reason?: string }) => emit("error", { type: e.code, message: e.reason || e.message }));
  node.on("close", () => emit("close", false)); // as Espruino: close gives a boolean (had an error)
  return s;
}

/** A certificate or key option as Espruino takes it (DER bytes as a byte string, or a function returning
 *  them), as PEM for node:tls; PEM text passes unchanged. */
function pem(value: any, isKey: boolean): string {
  const v = String(typeof value === "function" ? value() : value);
  if (v.startsWith("-----BEGIN")) return v;
  const der = Buffer.from(v, "latin1");
  if (!isKey) return new crypto.X509Certificate(der).toString();
  for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
    try { return crypto.createPrivateKey({ key: der, format: "der", type }).export({ format: "pem", type: "pkcs8" }) as string; } catch { /* next encoding */ }
  }
  throw new Error("TLS: the key is not a DER private key");
}

/** A Platform for Node. Its TLS, like Espruino's, does not verify the server's certificate
 *  (MBEDTLS_SSL_VERIFY_NONE on the board), and speaks TLS 1.2 as the board's mbedTLS does. */
export function nodePlatform(): Platform {
  return {
    connect: (options, onOpen) => espruinoSocket(net.connect({ host: options.host, port: options.port }), onOpen),
    tls: (options, onOpen) => espruinoSocket(tls.connect({
      host: options.host, port: options.port, rejectUnauthorized: false, maxVersion: "TLSv1.2",
      ca: options.ca && pem(options.ca, false), cert: options.cert && pem(options.cert, false), key: options.key && pem(options.key, true),
    }), onOpen, "secureConnect"),
    time: () => performance.now() / 1000,
    setInterval: (fn, ms, arg) => setInterval(fn, ms, arg),
    clearInterval: (h) => clearInterval(h),
    random: Math.random,
  };
}
