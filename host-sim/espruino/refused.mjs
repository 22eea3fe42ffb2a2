// Answers "is a TCP connection to host:port refused?" synchronously, so that the net stand-in can throw
// from net.connect as Espruino's Linux build does (it connects blocking): a worker thread tries the
// connection and closes it while this thread waits on a shared flag. A host that does not answer within
// `timeoutMs` counts as not refused (the connection is then left to fail asynchronously).
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const flag = new Int32Array(workerData);
parentPort.on("message", ({ seq, host, port }) => {
  const s = net.connect({ host, port });
  const done = (refused) => {
    s.destroy();
    Atomics.store(flag, 1, refused ? 1 : 0);
    Atomics.store(flag, 0, seq);
    Atomics.notify(flag, 0);
  };
  s.once("connect", () => done(false));
  s.once("error", (e) => done(e.code === "ECONNREFUSED"));
});`;

let worker;
let flag;
let seq = 0;

/** True when nothing listens at host:port (the connection attempt was refused). */
export function isRefused(host, port, timeoutMs = 2000) {
  if (!worker) {
    flag = new Int32Array(new SharedArrayBuffer(8));
    worker = new Worker(WORKER, { eval: true, workerData: flag.buffer });
    worker.unref();
  }
  const mine = ++seq;
  worker.postMessage({ seq: mine, host, port });
  const until = performance.now() + timeoutMs;
  for (let seen = Atomics.load(flag, 0); seen !== mine; seen = Atomics.load(flag, 0)) {
    const left = until - performance.now();
    if (left <= 0) return false;
    Atomics.wait(flag, 0, seen, left);
  }
  return Atomics.load(flag, 1) === 1;
}
