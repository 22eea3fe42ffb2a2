// The upload path without hardware: `npm run flash`'s code drives the espruino package's CLI against a
// simulated board's console on a serial port (a pseudo-terminal) and on TCP (as Espruino's network
// console), and against the real Espruino interpreter's telnet console when ESPRUINO_BIN is set. Not
// against the real interpreter on a pty: the Linux build reads its console in a second thread that
// races the interpreter over the input buffer, and a sustained upload trips "ASSERT(len <= 64) FAILED
// AT src/jsdevices.c:601" in about one run of four (its telnet console is read in the main loop).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { startSimRepl } from "../host-sim/upload/repl.mjs";
import { flash, espruinoCli, FlashError } from "../host-sim/upload/flash.mjs";
import { startAedes, startMosquitto, haveMosquitto, freePort } from "./helpers/brokers.mjs";
import { waitFor } from "./helpers/util.mjs";
import { ESPRUINO_BIN, skipWithoutEspruino } from "./helpers/espruino.mjs";

const cli = espruinoCli();

/** Runs `fn` with os.tmpdir() pointing at a fresh folder; resolves with what is left in it afterwards. */
async function leftInTmp(fn) {
  const dir = mkdtempSync(join(tmpdir(), "wisp-tmpdir-"));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return readdirSync(dir);
}

// The same upload to a simulated ESP32 over its two consoles: network (telnet) and USB serial; over the
// network, flashed again over the running firmware (which the upload must stop before rewriting its file).
for (const { over, pty, port, reflash } of [
  { over: "its network console", pty: false, port: (repl) => `tcp://127.0.0.1:${repl.port}`, reflash: true },
  { over: "a serial port (a pseudo-terminal, as /dev/ttyUSB0)", pty: true, port: (repl) => repl.path },
]) {
  test(`flashing a simulated ESP32 over ${over}: bundle and configuration byte-exact in Storage, the board boots into them, no file left in the temporary folder${reflash ? "; re-flashed with a change, the change runs" : ""}`, async () => {
    const broker = await startAedes();
    const repl = await startSimRepl({ board: "esp32", pty });
    try {
      const firmware = readFileSync("dist/firmware-esp32.js", "latin1");
      const config = { brokers: [broker.url], device: "flashed-esp32", ssid: "lab", password: "secret" };
      const left = await leftInTmp(async () => {
        const out = await flash({ board: "esp32", port: port(repl), config, firmware, cli });
        assert.match(out, /WISP_FLASHED \d+ \d+/);
        const storage = repl.board.storage;
        assert.equal(storage.read(".bootcde"), firmware);
        assert.deepEqual(JSON.parse(storage.read("wisp.json")), config);
        assert.ok(repl.received.some((l) => l.startsWith('require("Storage").write(".bootcde",atob(')), "not uploaded in Storage chunks");
        await waitFor(() => repl.board.client && repl.board.client.connected, "the flashed firmware connected to the broker");
        if (!reflash) return;
        await flash({ board: "esp32", port: port(repl), config: { ...config, device: "reflashed-esp32" }, firmware, cli });
        assert.equal(JSON.parse(repl.board.storage.read("wisp.json")).device, "reflashed-esp32");
        await waitFor(() => Object.keys(broker.aedes.clients).includes("reflashed-esp32"), () => `the re-flashed device id on the broker (clients: ${Object.keys(broker.aedes.clients)})`);
      });
      assert.deepEqual(left, [], "the flash left files (the configuration holds the Wi-Fi password)");
    } finally {
      await repl.close();
      await broker.stop();
    }
  });
}

test("a bad configuration is refused before anything is sent to the board", async () => {
  let connections = 0;
  const server = net.createServer((s) => { connections++; s.destroy(); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = `tcp://127.0.0.1:${server.address().port}`;
  try {
    for (const [config, problem] of [
      [{ app: "flyingcar" }, /app: "flyingcar" is not built into the esp32 firmware \(it has quadruped, sensor, blink\)/],
      [{ brokers: "192.168.1.10:1883" }, /brokers: "192.168.1.10:1883" is not a list/],
      [{ rate_hz: "fast" }, /rate_hz: "fast" is not an integer 1–100/],
      [{ keep_alive: -5 }, /keep_alive: -5 is out of range/],
      [{ ssid: "lab", wifi_password: "x" }, /wifi_password: unknown key/],
    ]) {
      await assert.rejects(flash({ board: "esp32", port, config, firmware: "print(1)", cli }), (e) => e instanceof FlashError && problem.test(e.message) && !e.message.includes("\n"));
    }
    assert.equal(connections, 0, "the board was contacted");
  } finally {
    server.close();
  }
});

describe("flash failures are reported in words", () => {
  const firmware = "print(1)";
  test("no such serial port", async () => {
    await assert.rejects(flash({ board: "esp32", port: "/dev/ttyWISPNONE", firmware, cli }), (e) => e instanceof FlashError && /no serial port/.test(e.message));
  });
  test("nothing listening at a network address", async () => {
    const port = await freePort();
    await assert.rejects(flash({ board: "esp32", port: `tcp://127.0.0.1:${port}`, firmware, cli }), /nothing answers/);
  });
  test("something that is not Espruino (silent, or answering garbage, e.g. a wrong baud rate)", async () => {
    for (const answer of [null, "\x00\xff\xfe garbage\r\n"]) {
      const server = net.createServer((s) => s.on("data", () => answer && s.write(answer)));
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      await assert.rejects(flash({ board: "esp32", port: `tcp://127.0.0.1:${server.address().port}`, firmware, cli, timeoutMs: 30000 }), /did not answer like Espruino/);
      server.close();
    }
  });
  test("a bundle too big for the board's JsVars is refused before anything is sent", async () => {
    await assert.rejects(flash({ board: "esp8266", port: "tcp://127.0.0.1:1", firmware: "x".repeat(40000), cli }), /bigger than the board's 1600 JsVars/);
  });
});

/** Asks the board's console at `port` whether the flashed firmware's client is connected. */
function probeConnected(port) {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, "--no-ble", "-p", port, "-e", 'print("STATE "+mqtt.connected)'], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("exit", () => resolve(out));
    setTimeout(() => c.kill(), 20000);
  });
}

/** Starts `espruino --telnet` in `dir` once it can own the telnet console's fixed port 2323, which other
 *  test runs on this machine may hold: waits for the port to be free (tried by binding it, which
 *  disturbs no one), and starts again if another interpreter took it first (the listening socket's
 *  inode is not among the child's). Resolves with {child, output()} at the prompt. */
async function telnetInterpreter(dir, timeoutMs = 120000) {
  const until = Date.now() + timeoutMs;
  const listening2323 = () => readFileSync("/proc/net/tcp", "utf8").split("\n").map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === "0A" && /:0913$/.test(f[1] || "")).map((f) => f[9]);
  const owns = (pid) => { const mine = readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ""; } }); return listening2323().some((inode) => mine.includes(`socket:[${inode}]`)); };
  for (;;) {
    if (Date.now() > until) throw new Error("port 2323 stayed busy (another Espruino --telnet?)");
    const free = await new Promise((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(2323, () => s.close(() => resolve(true)));
    });
    if (!free) { await new Promise((r) => setTimeout(r, 250)); continue; }
    const child = spawn(ESPRUINO_BIN, ["--telnet"], { cwd: dir, stdio: ["pipe", "pipe", "ignore"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    // Wait for the prompt rather than probing the port: a probe connection upsets the telnet console.
    await waitFor(() => output.includes(">"), "the interpreter's prompt");
    if (owns(child.pid)) return { child, output: () => output };
    child.kill("SIGKILL");
  }
}

test("flashing the real Espruino interpreter's telnet console: dist/firmware-linux.js boots and connects to Mosquitto; re-flashed with a change, the change runs", { skip: skipWithoutEspruino || (!haveMosquitto && "no mosquitto") }, async () => {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), "wisp-espruino-flash-"));
  // --telnet serves the console on port 2323; its emulated flash file lives in the working folder.
  const { child } = await telnetInterpreter(dir);
  try {
    const firmware = readFileSync("dist/firmware-linux.js", "latin1");
    // The Linux build's heap grows as needed, so the 1,700-JsVar check of boards/linux.json is waived.
    const config = { brokers: [broker.url], device: "espruino-telnet", app: "sensor", period_s: 1 };
    await flash({ board: "linux", port: "tcp://127.0.0.1:2323", config, firmware, cli, force: true });
    assert.match(await probeConnected("tcp://127.0.0.1:2323"), /STATE true/);
    // Again, over the firmware now running from Storage, with another device id: it must say done.
    const watcher = mqtt.connect(`mqtt://${broker.url}`);
    const seen = [];
    watcher.on("message", (topic) => seen.push(topic));
    await watcher.subscribeAsync("wisp/espruino-telnet-2/telemetry");
    try {
      await flash({ board: "linux", port: "tcp://127.0.0.1:2323", config: { ...config, device: "espruino-telnet-2" }, firmware, cli, force: true });
      await waitFor(() => seen.length > 0, "telemetry from the re-flashed device id", 15000);
    } finally {
      watcher.end(true);
    }
  } finally {
    child.kill("SIGKILL");
    await broker.stop();
  }
});
