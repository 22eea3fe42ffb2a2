// MQTT over TLS with passwords, client certificates and an ACL, against Mosquitto with certificates made
// here (test/helpers/tls.mjs): dist/wisp-esp32.js (the layered module: the compact dist/wisp.js has no TLS) on the tls stand-in (as on a board) and on the Node platform,
// the firmware on simulated boards, `npm start` and `npm run flash` with certificates, and, with
// ESPRUINO_BIN, the real interpreter's tls module.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { createBareEnv } from "../host-sim/espruino/env.mjs";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { startSimRepl } from "../host-sim/upload/repl.mjs";
import { flash, espruinoCli } from "../host-sim/upload/flash.mjs";
import { nodePlatform } from "../dist/node-platform.mjs";
import { loadWisp } from "../host-sim/node/load.mjs";
import { skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { makeCertificates, startSecureMosquitto, startReadmeMosquitto, skipWithoutTlsTools, USERS } from "./helpers/tls.mjs";
import { runOnEspruino, ESPRUINO_BIN, skipWithoutEspruino } from "./helpers/espruino.mjs";
import { waitFor, recordEvents } from "./helpers/util.mjs";

const WISP = readFileSync("dist/wisp-esp32.js", "utf8");
let clientCount = 0;

describe("MQTT over TLS against Mosquitto", { skip: skipWithoutMosquitto || skipWithoutTlsTools }, () => {
  let certs, broker;
  const cleanup = [];
  before(async () => {
    certs = makeCertificates();
    broker = await startSecureMosquitto(certs);
  });
  after(async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve().then(fn).catch((e) => console.log(`[tls] cleanup: ${e.message}`));
    await broker.stop();
  });

  /** dist/wisp-esp32.js in a bare board context whose require("tls") is the stand-in; `lines` its console. */
  function board() {
    const lines = [];
    const env = createBareEnv({ log: (l) => lines.push(l), modules: { wisp: WISP } });
    cleanup.push(() => env.off());
    return { wisp: env.context.require("wisp"), lines };
  }

  /** A client of robot1 (by default) with its events recorded; disconnected at the end. */
  function robot(wisp, server, options = {}) {
    const client = wisp.create(server, { client_id: `tls-${process.pid}-${++clientCount}`, username: "robot1", password: USERS.robot1, reconnect_min: 200, reconnect_max: 800, ...options });
    cleanup.push(() => client.disconnect());
    return { client, events: recordEvents(client) };
  }

  /** An MQTT.js client of `user` over TLS, subscribed to `filter`; `got` collects [topic, text]. */
  async function peer(user, filter) {
    const p = mqtt.connect(`mqtts://127.0.0.1:${broker.port}`, { username: user, password: USERS[user], ca: certs.pem("ca.pem"), reconnectPeriod: 0, clientId: `tls-peer-${++clientCount}` });
    cleanup.push(() => p.end(true));
    const got = [];
    p.on("message", (t, m) => got.push([t, String(m)]));
    await new Promise((resolve, reject) => { p.once("connect", resolve); p.once("error", reject); });
    await p.subscribeAsync(filter, { qos: 1 });
    return { p, got };
  }

  test("connects with the CA on the tls stand-in, which says once that it does not verify the server, and does a QoS 1 round trip", async () => {
    const b = board();
    const a = robot(b.wisp, `mqtts://127.0.0.1:${broker.port}`, { ca: certs.der("ca.pem") });
    const other = robot(b.wisp, `127.0.0.1:${broker.port}`, { tls: true, ca: () => certs.der("ca.pem") }); // the tls option, ca as a function
    const got = [];
    a.client.subscribe("wisp/robot1/echo", { qos: 1 }, (m) => got.push(m.text()));
    a.client.connect();
    other.client.connect();
    await waitFor(() => a.client.connected && other.client.connected, () => `both connected over TLS: ${JSON.stringify([a.events, other.events])}`);
    await waitFor(() => a.events.some((e) => e[0] === "subscribed"), "SUBACK");
    a.client.publish("wisp/robot1/echo", "over TLS", { qos: 1 });
    await waitFor(() => got.length === 1 && a.events.some((e) => e[0] === "puback"), "the message back and its PUBACK");
    assert.deepEqual(got, ["over TLS"]);
    assert.equal(b.lines.filter((l) => /not verified/.test(l)).length, 1, `said once: ${b.lines}`);
  });

  test("a client certificate required: accepted with it; refused without it, said in words, retried with backoff (no storm)", async () => {
    const b = board();
    const server = `mqtts://127.0.0.1:${broker.certPort}`;
    const without = robot(b.wisp, server, { ca: certs.der("ca.pem") });
    const withCert = robot(b.wisp, server, { ca: certs.der("ca.pem"), key: certs.der("client.key"), cert: certs.der("client.pem") });
    withCert.client.connect();
    const t0 = Date.now();
    without.client.connect();
    await waitFor(() => withCert.client.connected, () => `connected with the certificate: ${JSON.stringify(withCert.events)}`);
    await new Promise((r) => setTimeout(r, 3000 - (Date.now() - t0))); // a window to count attempts in
    const errors = without.events.filter((e) => e[0] === "error");
    console.log(`[tls] without a client certificate: ${errors.length} attempts in 3 s (backoff 200..800 ms), e.g. "${errors[0] && errors[0][1]}"`);
    assert.ok(!without.events.some((e) => e[0] === "connected"), "never connected");
    assert.ok(errors.length >= 3 && errors.length <= 10, `${errors.length} attempts in 3 s`);
    for (const e of errors) assert.match(e[1], /^connection closed before CONNACK: .*(handshake|certificate)/);
  });

  test("a wrong password: the refused CONNACK is said in words (Node platform)", async () => {
    const c = robot(loadWisp("wisp-esp32.js"), `mqtts://127.0.0.1:${broker.port}`, { platform: nodePlatform(), ca: certs.der("ca.pem"), password: "wrong", reconnect: false });
    c.client.connect();
    await waitFor(() => c.events.some((e) => e[0] === "error"), "an error");
    assert.deepEqual(c.events.find((e) => e[0] === "error").slice(1), ["connection refused: not authorized", -16]);
    assert.ok(!c.client.connected);
  });

  test("the ACL: a subscription it denies is subscribed_fail, an allowed one subscribed", async () => {
    const a = robot(board().wisp, `mqtts://127.0.0.1:${broker.port}`, { ca: certs.der("ca.pem") });
    a.client.subscribe("wisp/robot2/cmd", { qos: 1 });
    a.client.subscribe("wisp/robot1/cmd", { qos: 1 });
    a.client.connect();
    await waitFor(() => a.events.filter((e) => e[0] === "subscribed" || e[0] === "subscribed_fail").length === 2, () => `two SUBACKs: ${JSON.stringify(a.events)}`);
    assert.deepEqual(a.events.filter((e) => e[0].startsWith("subscribed")).map((e) => e.slice(0, 2)).sort(), [["subscribed", "wisp/robot1/cmd"], ["subscribed_fail", "wisp/robot2/cmd"]]);
  });

  test("a publish the ACL denies is dropped silently, as MQTT 3.1.1 has the broker do: PUBACK, and nobody receives it", async () => {
    const watcher = await peer("watcher", "wisp/#");
    const a = robot(board().wisp, `mqtts://127.0.0.1:${broker.port}`, { ca: certs.der("ca.pem") });
    a.client.connect();
    await waitFor(() => a.client.connected, "connected");
    const denied = a.client.publish("wisp/robot2/cmd", "denied", { qos: 1 });
    const allowed = a.client.publish("wisp/robot1/status", "allowed", { qos: 1 });
    await waitFor(() => watcher.got.length >= 1, "the allowed message at the watcher");
    await waitFor(() => a.events.filter((e) => e[0] === "puback").length === 2, "both PUBACKs");
    assert.deepEqual(a.events.filter((e) => e[0] === "puback").map((e) => e[1]).sort(), [denied, allowed].sort());
    // Sent in order on one connection: the denied one would have arrived first.
    assert.deepEqual(watcher.got, [["wisp/robot1/status", "allowed"]]);
    assert.ok(!a.events.some((e) => e[0] === "error" || e[0] === "disconnected"), "no error, no disconnection");
  });

  test("README's Mosquitto example (acl_file): robot1 and alice reach wisp/robot1/#, mallory neither reads nor writes it; acl_file grants a denied subscription", async () => {
    const readme = await startReadmeMosquitto(certs);
    cleanup.push(() => readme.stop());
    const client = async (user) => {
      const p = mqtt.connect(`mqtts://127.0.0.1:${readme.port}`, { username: user, password: USERS[user], ca: certs.pem("ca.pem"), cert: certs.pem("client.pem"), key: certs.pem("client.key"), reconnectPeriod: 0, clientId: `readme-${user}` });
      cleanup.push(() => p.end(true));
      const got = [];
      p.on("message", (t, m) => got.push(String(m)));
      await new Promise((resolve, reject) => { p.once("connect", resolve); p.once("error", reject); });
      await p.subscribeAsync("wisp/robot1/#", { qos: 1 });
      return { p, got };
    };
    const a = robot(board().wisp, `mqtts://127.0.0.1:${readme.port}`, { ca: certs.der("ca.pem"), key: certs.der("client.key"), cert: certs.der("client.pem") });
    const commands = [];
    a.client.subscribe("wisp/robot1/cmd", { qos: 1 }, (m) => commands.push(m.text()));
    a.client.subscribe("wisp/robot2/cmd", { qos: 1 });
    a.client.connect();
    await waitFor(() => a.events.filter((e) => e[0] === "subscribed").length === 2, () => `both subscriptions granted: ${JSON.stringify(a.events)}`);
    const [alice, mallory] = [await client("alice"), await client("mallory")];
    await mallory.p.publishAsync("wisp/robot1/cmd", "evil", { qos: 1 }); // acknowledged, dropped
    await alice.p.publishAsync("wisp/robot1/cmd", "walk", { qos: 1 });
    await waitFor(() => commands.length >= 1, "alice's command at the robot");
    a.client.publish("wisp/robot1/telemetry", "t1", { qos: 1 });
    await waitFor(() => alice.got.includes("t1"), "the robot's telemetry at alice");
    assert.deepEqual(commands, ["walk"]);
    assert.deepEqual(mallory.got, []);
  });

  test("the firmware: a simulated ESP32 with a password and certificate Storage files comes online over TLS; an ESP8266 says it has no TLS", async () => {
    const watcher = await peer("watcher", "wisp/robot1/status");
    const config = { brokers: [`mqtts://127.0.0.1:${broker.certPort}`], device: "robot1", app: "sensor", period_s: 1, mqtt_username: "robot1", mqtt_password: USERS.robot1, ca: "wisp.ca", cert: "wisp.crt", key: "wisp.key" };
    const files = { "wisp.ca": certs.der("ca.pem"), "wisp.crt": certs.der("client.pem"), "wisp.key": certs.der("client.key") };
    const esp32Log = [];
    const esp32 = new SimBoard({ board: "esp32", config, files, log: (l) => esp32Log.push(l) }).boot();
    cleanup.push(() => esp32.powerOff());
    await waitFor(() => watcher.got.some(([, m]) => m === "online"), () => `online; the board said: ${esp32Log.join(" | ")}`);
    const esp8266Log = [];
    const esp8266 = new SimBoard({ board: "esp8266", config, files, log: (l) => esp8266Log.push(l) }).boot();
    cleanup.push(() => esp8266.powerOff());
    await waitFor(() => esp8266Log.includes("mqtt: TLS is not available on this board"), () => `the ESP8266 said so: ${esp8266Log.join(" | ")}`);
    assert.ok(!esp8266.client.connected);
    esp32.powerOff(); // its client id is the next test's
  });

  test("npm start over TLS: a fleet of 3 boards with --broker mqtts://user:password@… and --ca/--cert/--key; the password is not shown", async () => {
    const args = ["host-sim/sim/cli.mjs", "--broker", `mqtts://fleet:${USERS.fleet}@127.0.0.1:${broker.certPort}`, "--ca", certs.path("ca.pem"),
      "--cert", certs.path("client.pem"), "--key", certs.path("client.key"), "--devices", "3", "--duration", "4", "--app", "sensor", "--period", "1"];
    const watcher = await peer("watcher", "wisp/+/status");
    const out = await new Promise((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.stderr.on("data", (d) => (text += d));
      child.on("exit", () => resolve(text));
    });
    assert.match(out, /fleet: 3 boards/);
    assert.deepEqual(watcher.got.filter(([, m]) => m === "online").map(([t]) => t).sort(), ["wisp/wisp-sim-1/status", "wisp/wisp-sim-2/status", "wisp/wisp-sim-3/status"]);
    assert.ok(!out.includes(USERS.fleet), "the password was printed");
  });

  test("npm run flash: the configuration's PEM certificates stored as DER Storage files, no key material printed; the flashed board connects over TLS", async () => {
    const repl = await startSimRepl({ board: "esp32" });
    cleanup.push(() => repl.close());
    const firmware = readFileSync("dist/firmware-esp32.js", "latin1");
    const config = { brokers: [`mqtts://127.0.0.1:${broker.certPort}`], device: "robot1", app: "sensor", mqtt_username: "robot1", mqtt_password: USERS.robot1,
      ca: certs.path("ca.pem"), cert: certs.path("client.pem"), key: certs.path("client.key") };
    const logged = [];
    const out = await flash({ board: "esp32", port: `tcp://127.0.0.1:${repl.port}`, config, firmware, cli: espruinoCli(), log: (l) => logged.push(l) });
    const storage = repl.board.storage;
    assert.equal(storage.read("wisp.ca"), certs.der("ca.pem"));
    assert.equal(storage.read("wisp.crt"), certs.der("client.pem"));
    assert.equal(storage.read("wisp.key"), certs.der("client.key"));
    assert.deepEqual(JSON.parse(storage.read("wisp.json")), { ...config, ca: "wisp.ca", cert: "wisp.crt", key: "wisp.key" });
    const keyBase64 = certs.pem("client.key").replace(/-----[^-]+-----|\s/g, "");
    for (const text of [out, logged.join("\n")]) {
      for (let i = 0; i + 32 <= keyBase64.length; i += 32) assert.ok(!text.includes(keyBase64.slice(i, i + 32)), "key material printed");
      assert.ok(!text.includes(certs.der("client.key").slice(20, 60)), "key bytes printed");
    }
    await waitFor(() => repl.board.client && repl.board.client.connected, "the flashed firmware connected over TLS with its certificate");
  });

  test("on the Espruino interpreter: TLS connect with a client certificate + QoS 1 round trip; JsVars and time to connect", { skip: skipWithoutEspruino }, async () => {
    const b64 = (n) => Buffer.from(certs.der(n), "latin1").toString("base64");
    // The default Linux build's heap grows by moving every JsVar, the TLS socket's state included, which
    // trips ASSERT(jsvIsFlatString(v)) in the middle of a handshake: grow it first (a board's heap is fixed).
    const script = `
      var big = new Uint8Array(400000); big = undefined;
      var m0 = process.memory().usage;
      var wisp = require("wisp");
      var m1 = process.memory().usage, t0 = getTime();
      var c = wisp.create("mqtts://127.0.0.1:${broker.certPort}", { client_id: "espruino-tls", username: "robot1", password: ${JSON.stringify(USERS.robot1)},
        ca: atob("${b64("ca.pem")}"), key: atob("${b64("client.key")}"), cert: atob("${b64("client.pem")}") });
      c.on("error", function (e) { print("ERROR " + e); });
      c.on("connected", function () {
        var ms = Math.round((getTime() - t0) * 1000), used = process.memory().usage;
        print("CONNECTED " + ms + " " + (m1 - m0) + " " + (used - m1) + " " + process.memory().blocksize);
        c.subscribe("wisp/robot1/echo", { qos: 1 }, function (m) { print("GOT " + m.text()); c.disconnect(); setTimeout(quit, 100); });
        c.on("subscribed", function () { c.publish("wisp/robot1/echo", "round trip", { qos: 1 }); });
      });
      c.connect();`;
    const out = await runOnEspruino(script, { modules: { wisp: "dist/wisp-esp32.js" }, timeoutMs: 20000 });
    const m = out.match(/CONNECTED (\d+) (\d+) (\d+) (\d+)/);
    assert.ok(m, `not connected: ${out.split("\n").filter((l) => /ERROR|Uncaught|ASSERT/.test(l)).slice(0, 5).join(" | ") || out.slice(-300)}`);
    console.log(`[tls] Espruino (${ESPRUINO_BIN}): TLS connect + CONNACK in ${m[1]} ms; JsVars (${m[4]} B each): require ${m[2]}, create + connect over TLS ${m[3]} (mbedTLS allocates from the JsVar heap)`);
    assert.match(out, /GOT round trip/);
  });

  test("on the Espruino interpreter: without the client certificate the broker refuses the handshake; said in words, retried", { skip: skipWithoutEspruino }, async () => {
    const script = `
      var big = new Uint8Array(400000); big = undefined;
      var n = 0, c = require("wisp").create("mqtts://127.0.0.1:${broker.certPort}", { client_id: "espruino-nocert", username: "robot1", password: ${JSON.stringify(USERS.robot1)},
        ca: atob("${Buffer.from(certs.der("ca.pem"), "latin1").toString("base64")}"), reconnect_min: 200, reconnect_max: 400 });
      c.on("error", function (e) { print("ERROR " + e); if (++n === 3) { c.disconnect(); setTimeout(quit, 100); } });
      c.on("connected", function () { print("CONNECTED"); quit(); });
      c.connect();`;
    const out = await runOnEspruino(script, { modules: { wisp: "dist/wisp-esp32.js" }, timeoutMs: 20000 });
    const errors = out.match(/ERROR [^\n]*/g) || [];
    console.log(`[tls] Espruino without a client certificate: ${JSON.stringify(errors.map((e) => e.slice(6).trim()))}; console: ${JSON.stringify((out.match(/Uncaught[^\n]*/) || [""])[0].trim())}`);
    assert.ok(!/CONNECTED/.test(out), "connected without a certificate");
    assert.equal(errors.length, 3, out.slice(-500));
    for (const e of errors) assert.match(e, /connection closed before CONNACK/);
  });
});

