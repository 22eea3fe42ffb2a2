// Real brokers for the tests: Aedes in-process and Mosquitto started here on a free loopback port.
// In CI (CI=true) a missing mosquitto is a failure, never a skip.
import net from "node:net";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes } from "aedes";

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Aedes on a free port (or `port`); stop() closes it. */
export async function startAedes(port) {
  port = port || (await freePort());
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const sockets = new Set();
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    name: "aedes", port, url: `127.0.0.1:${port}`, aedes,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => aedes.close(resolve));
    },
  };
}

export const MOSQUITTO = process.env.MOSQUITTO_BIN || (existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto");
/** True when the mosquitto binary runs here. */
export const haveMosquitto = spawnSync(MOSQUITTO, ["-h"]).error === undefined;
/** For test options: skip without mosquitto, except in CI, where its absence must fail. */
export const skipWithoutMosquitto = haveMosquitto || process.env.CI ? false : "mosquitto is not installed (apt-get install mosquitto)";

/** Mosquitto on a free loopback port (or `port`), anonymous; with `persistDir`, sessions and queued
 *  messages survive a stop("SIGTERM") and start again from that folder; with `websockets`, also MQTT
 *  over WebSockets on another free port (`wsUrl`). stop() kills it (SIGKILL). */
export async function startMosquitto(port, { persistDir, websockets = false } = {}) {
  if (!haveMosquitto) throw new Error(`mosquitto not found (${MOSQUITTO}); CI installs it with apt-get install mosquitto`);
  port = port || (await freePort());
  const dir = persistDir || mkdtempSync(join(tmpdir(), "wisp-mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  // As root, mosquitto would switch to its own user, which cannot write our persistence folder.
  const user = process.getuid && process.getuid() === 0 ? "user root\n" : "";
  const wsPort = websockets ? await freePort() : 0;
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 20\nmax_queued_messages 100000\n${user}` +
    (persistDir ? `persistence true\npersistence_location ${dir}/\nautosave_interval 0\n` : "persistence false\n") +
    (wsPort ? `listener ${wsPort} 127.0.0.1\nprotocol websockets\n` : ""));
  const child = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const ready = Promise.all([waitForPort(port), wsPort && waitForPort(wsPort)]);
  await Promise.race([ready, exited.then(() => { throw new Error(`mosquitto exited: ${log}`); })]);
  return {
    name: "mosquitto", port, url: `127.0.0.1:${port}`, wsUrl: wsPort ? `ws://127.0.0.1:${wsPort}` : null,
    async stop(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}

/** Mosquitto keeping its sessions and queued messages in a fresh temporary folder, on a free port, for
 *  tests that stop it mid-stream: stop(signal) as startMosquitto's, start() again on the same port and
 *  folder. */
export async function restartableMosquitto(folderPrefix) {
  const port = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), folderPrefix));
  let broker = await startMosquitto(port, { persistDir });
  return {
    port, url: `127.0.0.1:${port}`,
    async start() { broker = await startMosquitto(port, { persistDir }); },
    stop: (signal) => broker.stop(signal),
  };
}

/** Both brokers, for tests that run against each. */
export const BROKERS = [
  { name: "aedes", start: startAedes, skip: false },
  { name: "mosquitto", start: startMosquitto, skip: skipWithoutMosquitto },
];
