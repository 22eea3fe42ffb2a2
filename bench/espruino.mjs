// The real-interpreter cases of `npm run bench` (issue 9), on up to three Espruino Linux builds given by
// ESPRUINO_BIN (default build, a heap that grows), ESPRUINO_BIN_1700 and ESPRUINO_BIN_1600 (fixed heaps of
// 16-byte JsVars, as an ESP8266 has); a heap whose variable is unset is reported as skipped. Wisp and
// Espruino's own modules (EspruinoDocs MQTT.js and tinyMQTT.js, minified, from ESPRUINO_MODULES_DIR) run
// the same script on the same binary in the same run, against Mosquitto on 127.0.0.1. Each case is one
// line with every client's figure, the target and whether Wisp meets it. Run alone: node bench/espruino.mjs
import { mkdtempSync, rmSync, mkdirSync, copyFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMosquitto, haveMosquitto } from "../test/helpers/brokers.mjs";
import { runOnEspruino, countInstructions, VALGRIND, HEAPS, espruinoClients, measureClient, bootFirmware, interpreterTrouble, MESSAGE_HOOKS, mqttConnected, esp8266Limits, WISP_MODULES, PAYLOAD_200, measuredClient } from "../test/helpers/espruino.mjs";
import { buildQuadrupedEsp8266 } from "./quadruped.mjs";
import { espruinoCli } from "../host-sim/upload/flash.mjs";

/** 49 bytes: with the topic "ebench/out" a 63-byte QoS 0 PUBLISH (2 + 2 + 10 + 49). */
const PAYLOAD_49 = "0123456789012345678901234567890123456789012345678";
const PUBLISHES = 10000;
const RECEIVES = 1000;

/** CONNECT (clean session, keep-alive 60 s, client id `id`) and the 63-byte PUBLISH, as byte strings. */
function rawPackets(id) {
  const body = "\x00\x04MQTT\x04\x02\x00\x3c" + String.fromCharCode(0, id.length) + id;
  const connect = String.fromCharCode(0x10, body.length) + body;
  const publish = String.fromCharCode(0x30, 2 + 10 + PAYLOAD_49.length, 0, 10) + "ebench/out" + PAYLOAD_49;
  return { connect, publish };
}

/** The speed configurations: the socket floor (one pre-encoded packet string written per publish), a
 *  publish that only concatenates header + topic + payload (one write, as tinyMQTT does), then each client. */
function speedConfigs(port) {
  const raw = (key, publish) => ({
    key, raw: true, publishes: true, receives: false, module: null,
    publish,
    connect: `var k = ${JSON.stringify(rawPackets(`e-${key}`))};
      PKT = k.publish;
      s = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { s.write(k.connect); });
      s.on("data", function (d) { if (d.charCodeAt(0) === 0x20 && phase === "connect") { phase = "ready"; setTimeout(ready, 1); } });
      s.on("drain", batch);`,
  });
  const list = [
    raw("floor", "s.write(PKT)"),
    raw("concat", "s.write(String.fromCharCode(48, t.length + p.length + 2, 0, t.length) + t + p)"),
  ];
  for (const c of espruinoClients(port)) {
    list.push({
      key: c.key, raw: false, publishes: c.key !== "wisp_handler", receives: true, module: c,
      publish: "return c.publish(t, p)",
      connect: `mod = require(${JSON.stringify(c.module)});
      c = ${c.create};
      ${c.hook};
      ${c.subscribedEvent ? `c.on(${JSON.stringify(c.subscribedEvent)}, onSubscribed);` : ""}
      c.on("connected", function () { if (phase !== "connect") return; phase = "subscribe"; ${c.drain}; ${c.subscribe}; ${c.subscribedEvent ? "" : "setTimeout(onSubscribed, 300);"} });
      c.connect();`,
    });
  }
  return list;
}

/** One interpreter process for speed config `k`: a warm-up round and a measured round of 10,000 QoS 0
 *  publishes (16 per drain; a refused publish, a negative return, is retried on the next drain), then of
 *  1,000 receives (the harness publishes them from Node when the script prints SEND<round>). The
 *  measured rounds are the second: the first pays the interpreter's one-time socket allocations. */
async function speedRun(k, bin, port) {
  const pub = await mqttConnected(port, `bench-feed-${k.key}`);
  const asked = new Set();
  const text = await runOnEspruino(`
    var TOPIC = "ebench/in", OUT = "ebench/out", P = ${JSON.stringify(PAYLOAD_49)}, N = ${PUBLISHES}, M = ${RECEIVES};
    var r = { publish_msg_s: [0, 0], refused: [0, 0], receive_msg_s: [0, 0], received: [0, 0], growth_publishes: 0, growth_receives: 0 };
    var phase = "connect", round = 0, sent = 0, refused = 0, start = 0, running = false, got = 0, t0 = 0, tLast = 0, seen = 0, quiet = 0, poll = 0, m1 = 0;
    var s = null, c = null, mod = null, PKT = "";
    function used() { return process.memory().usage; }
    function finish() { print("JSON " + JSON.stringify(r)); print("DONE"); quit(); }
    function publish(t, p) { ${k.publish}; }
    function batch() {
      if (!running) return;
      for (var i = 0; i < 16 && sent < N; i++) { if (publish(OUT, P) < 0) { refused++; break; } sent++; }
      if (sent < N) return;
      running = false;
      r.publish_msg_s[round] = Math.round(N / (getTime() - start));
      r.refused[round] = refused;
      setTimeout(afterPublishing, 300);
    }
    function publishRound(n) { round = n; sent = 0; refused = 0; running = true; if (n) m1 = used(); start = getTime(); batch(); }
    function afterPublishing() {
      if (round === 0) return publishRound(1);
      r.growth_publishes = used() - m1;
      ${k.receives ? "receiveRound(0);" : "finish();"}
    }
    function onMessage(m) { if (!got) t0 = getTime(); got++; tLast = getTime(); }
    ${MESSAGE_HOOKS}
    function receiveRound(n) { round = n; got = 0; seen = 0; quiet = 0; if (n) m1 = used(); print("SEND" + n); poll = setInterval(checkReceiving, 100); }
    function checkReceiving() {
      if (got < M) { if (got !== seen) { seen = got; quiet = 0; return; } if (++quiet < 20) return; }
      clearInterval(poll);
      r.receive_msg_s[round] = got > 1 ? Math.round((got - 1) / (tLast - t0)) : 0;
      r.received[round] = got;
      if (round === 0) return receiveRound(1);
      r.growth_receives = used() - m1;
      finish();
    }
    function ready() { ${k.publishes ? "publishRound(0);" : "receiveRound(0);"} }
    function onSubscribed() { if (phase === "subscribe") { phase = "ready"; setTimeout(ready, 1); } }
    ${k.connect}
  `, {
    bin, modules: k.module ? { [k.module.module]: k.module.file, ...k.module.extra } : {}, timeoutMs: 90000, keepOnTimeout: true,
    onOutput: (all) => {
      for (const round of ["SEND0", "SEND1"]) {
        if (asked.has(round) || !all.includes(round)) continue;
        asked.add(round);
        for (let i = 0; i < RECEIVES; i++) pub.publish("ebench/in", PAYLOAD_49);
      }
    },
  });
  pub.end(true);
  const m = text.match(/JSON (\{.*\})/);
  if (!m) return { failed: interpreterTrouble(text) || text.slice(-200) };
  const r = JSON.parse(m[1]);
  return { publish_msg_s: r.publish_msg_s[1], refused: r.refused[1], receive_msg_s: r.receive_msg_s[1], received: r.received[1], growth_publishes: r.growth_publishes, growth_receives: r.growth_receives };
}

const REPEATS = Number(process.env.BENCH_REPEATS || 3);
const median = (xs) => { const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : null; };
const range = (xs) => { const s = xs.filter((x) => typeof x === "number"); return s.length ? [Math.min(...s), Math.max(...s)] : null; };

/** Case 4: speed on `bin`, code in RAM; REPEATS rounds, each running every configuration once. */
async function speed(out, heap, bin, port) {
  const configs = speedConfigs(port);
  const runs = configs.map(() => []);
  for (let i = 0; i < REPEATS; i++) for (let j = 0; j < configs.length; j++) runs[j].push(await speedRun(configs[j], bin, port));
  const byKey = Object.fromEntries(configs.map((k, j) => [k.key, runs[j]]));
  const field = (key, f) => (byKey[key] || []).map((r) => r[f]);
  const failures = Object.fromEntries(Object.entries(byKey).flatMap(([key, rs]) => rs.filter((r) => r.failed).map((r) => [key, r.failed])));
  const pubKeys = configs.filter((k) => k.publishes).map((k) => k.key);
  const p = Object.fromEntries(pubKeys.map((key) => [key, median(field(key, "publish_msg_s"))]));
  out({
    bench: "espruino-publish-qos0", heap, what: `QoS 0 publish, ${PUBLISHES.toLocaleString("en-US")} × 63 B PUBLISH, 16 per drain, code in RAM`,
    unit: "msg/s", median_of: REPEATS, ...p,
    ...Object.fromEntries(pubKeys.map((key) => [`${key}_range`, range(field(key, "publish_msg_s"))])),
    wisp_refused: median(field("wisp", "refused")), wisp_growth_jsvars: Math.max(...field("wisp", "growth_publishes").filter((x) => typeof x === "number")),
    target: "≥ tinyMQTT", met: p.tinymqtt ? p.wisp >= p.tinymqtt : null, ...(Object.keys(failures).length ? { failures } : {}),
  });
  const rcvKeys = configs.filter((k) => k.receives).map((k) => k.key);
  const rc = Object.fromEntries(rcvKeys.map((key) => [key, median(field(key, "receive_msg_s"))]));
  out({
    bench: "espruino-receive-qos0", heap, what: `receive, ${RECEIVES.toLocaleString("en-US")} × 62 B PUBLISH from Mosquitto, code in RAM`,
    unit: "msg/s", median_of: REPEATS, ...rc,
    ...Object.fromEntries(rcvKeys.map((key) => [`${key}_range`, range(field(key, "receive_msg_s"))])),
    received: Object.fromEntries(rcvKeys.map((key) => [key, median(field(key, "received"))])),
    target: "≥ MQTT.js, with a `message` listener (wisp) and with a subscription handler (wisp_handler)",
    met: rc.mqtt_js ? rc.wisp >= rc.mqtt_js && rc.wisp_handler >= rc.mqtt_js : null,
  });
}

/** Cases 1 and 2: every client's JsVars above a bare heap and its 200-byte round trip, module from
 *  Storage and from RAM. Targets: from Storage on the 1,600 heap ≤ 350 with the round trip; from RAM on
 *  the 1,700 heap the round trip. */
async function library(out, heap, bin, port) {
  const clients = espruinoClients(port).filter((c) => c.key !== "wisp_handler");
  for (const fromStorage of [true, false]) {
    const r = {};
    for (const c of clients) r[c.key] = await measureClient(c, { bin, port, fromStorage });
    const w = r.wisp;
    const line = { bench: fromStorage ? "espruino-library-storage" : "espruino-library-ram", heap, what: `dist/wisp.js (ESP8266 limits) ${fromStorage ? "from Storage (as flashed)" : "uploaded to RAM (require of the module text)"}: JsVars above a bare heap after require / create / connect + subscribe; 200-byte round trip`, ...r };
    if (fromStorage && heap === "1600") {
      Object.assign(line, { target_jsvars: "≤ 350 after connect + subscribe", met_jsvars: w.subscribed !== null && w.subscribed <= 350 });
      Object.assign(line, { target_round_trip: "works", met_round_trip: w.round_trip, met: line.met_jsvars && w.round_trip });
    } else if (!fromStorage && heap === "1700") Object.assign(line, { target_round_trip: "connects, subscribes, comes back", met_round_trip: w.round_trip, met: w.round_trip });
    out(line);
  }
}

/** Case 2 as the Web IDE sends it: the `espruino` package's CLI (the Web IDE's own upload code,
 *  EspruinoTools) uploads a program that requires the client to an interpreter's console over telnet
 *  (`--telnet`, port 2323), finding the module's files in a folder: it sends each module it finds as
 *  one `Modules.addCached(name, function () {…})` line (modules a module requires first), then the
 *  program. JsVars are above the console's bare heap (an upload of the same program without the module)
 *  once loaded, created, connected + subscribed, and after a 200-byte round trip. */
async function webIde(out, heap, bin, port) {
  const clients = espruinoClients(port).filter((c) => c.key !== "wisp_handler");
  const bare = await uploadLikeWebIde(null, { bin, port });
  const r = {};
  for (const c of clients) r[c.key] = await uploadLikeWebIde(c, { bin, port, bare: bare.loaded });
  const line = { bench: "espruino-library-web-ide", heap, what: "uploaded to RAM as the Web IDE sends it (espruino CLI over telnet: one Modules.addCached line per module file, then the program), ESP8266 limits: JsVars above the console's bare heap once loaded / created / connected + subscribed; 200-byte round trip", bare_usage: bare.loaded, ...r };
  if (heap === "1700") Object.assign(line, { target_round_trip: "connects, subscribes, comes back", met_round_trip: !!(r.wisp && r.wisp.round_trip), met: !!(r.wisp && r.wisp.round_trip) });
  out(line);
  // Wisp's files offered as .js instead, which the CLI runs through its own minifier (esmangle) first.
  const wisp = clients.find((c) => c.key === "wisp");
  out({ bench: "espruino-library-web-ide-js", heap, what: "the same with Wisp's files as wisp.js and wisp-cold.js, minified again by the CLI (esmangle)", bare_usage: bare.loaded, wisp: await uploadLikeWebIde(wisp, { bin, port, bare: bare.loaded, ext: ".js" }) });
}

/** One upload through the espruino CLI to `bin --telnet` (see webIde): client `c` (null: the program
 *  alone, its bare heap), its module files in a folder as the CLI finds them, named <module><ext>.
 *  Bounded: 40 s. */
async function uploadLikeWebIde(c, { bin, port, bare = 0, ext = ".min.js" }) {
  const dir = mkdtempSync(join(tmpdir(), "wisp-webide-"));
  mkdirSync(join(dir, "modules"));
  // As a module folder offers them: minified modules as <name>.min.js, which the CLI takes as they are
  // (its own minifier is for .js files); its default extensions (.min.js, then .js).
  if (c) for (const [name, file] of Object.entries({ [c.module]: c.file, ...c.extra })) copyFileSync(file, join(dir, "modules", `${name}${ext}`));
  writeFileSync(join(dir, "board.json"), JSON.stringify({ BOARD: "ESP8266_BOARD", VERSION: "2v29", info: { builtin_modules: ["Storage", "net", "Wifi", "ESP8266"] } }));
  writeFileSync(join(dir, "prog.js"), `var TOPIC = "ebench/web", BIG = ${JSON.stringify(PAYLOAD_200)};
var r = { loaded: 0, create: -1, subscribed: -1, after_round_trip: -1, connected: false, round_trip: false, free_after: -1, failure: "" }, c = null, stage = "connect", mod = null;
function used() { return process.memory().usage - ${bare}; }
function finish() { r.free_after = process.memory().free; print("JSON " + JSON.stringify(r)); print("DONE"); }
${MESSAGE_HOOKS}
function onMessage(m) { if (stage !== "round trip") return; stage = "done"; if (m !== BIG) { r.failure = "payload changed: " + m.length + " bytes"; return finish(); } r.round_trip = true; setTimeout(function () { r.after_round_trip = used(); finish(); }, 1); }
function onSubscribed() { if (stage !== "subscribe") return; stage = "round trip"; setTimeout(function () { r.subscribed = used(); try { c.publish(TOPIC, BIG); } catch (e) { r.failure = "publish threw " + e; finish(); } }, ${c && !c.subscribedEvent ? 300 : 1}); }
function onConnected() { if (stage !== "connect") return; r.connected = true; stage = "subscribe"; ${c ? c.subscribe : ""}; ${c && !c.subscribedEvent ? "onSubscribed();" : ""} }
function begin() {
  r.loaded = used();
  ${c ? `try { mod = require(${JSON.stringify(c.module)}); } catch (e) { r.failure = "require threw " + e; return finish(); }
  c = ${c.create}; r.create = used();
  ${c.hook}; ${c.subscribedEvent ? `c.on(${JSON.stringify(c.subscribedEvent)}, onSubscribed);` : ""}
  c.on("connected", onConnected); c.on("error", function (e) { r.error = String(e); }); c.connect();
  setTimeout(function () { r.failure = r.failure || "gave up at " + stage; finish(); }, 12000);` : "finish();"}
}
setTimeout(begin, 100);
`);
  const board = spawn(bin, ["--telnet"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  let text = "";
  board.stdout.on("data", (d) => { text += d; });
  board.stderr.on("data", (d) => { text += d; });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const cli = spawn(process.execPath, [espruinoCli(), "--no-ble", "-p", "tcp://127.0.0.1:2323", "--board", join(dir, "board.json"),
      "--config", `MODULE_URL=${join(dir, "modules")}`, join(dir, "prog.js")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    cli.stdout.on("data", (d) => { text += d; });
    cli.stderr.on("data", (d) => { text += d; });
    const deadline = Date.now() + 40000;
    while (!/DONE/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    cli.kill("SIGKILL");
  } finally {
    board.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
  return measuredClient(text, ["create", "subscribed", "after_round_trip", "free_after"]);
}

/** Case 3: the firmware booted from Storage: the sensor app (dist/firmware-linux.js: an ESP8266's
 *  limits, hot code in flash; target ≥ 1,000 JsVars free on the 1,600 heap once connected) and the
 *  quadruped (the ESP32 bundle, dist/firmware-esp32.js, and the same app built with an ESP8266's limits
 *  by bench/quadruped.mjs). */
async function firmware(out, heap, bin, port, quadruped8266) {
  const cases = [
    { artifact: "dist/firmware-linux.js", file: "dist/firmware-linux.js", app: "sensor", limits: "ESP8266 limits", config: { app: "sensor", device: "bench-fw", period_s: 1 } },
    { artifact: "dist/firmware-esp32.js", file: "dist/firmware-esp32.js", app: "quadruped", limits: "ESP32 limits", config: { app: "quadruped", device: "bench-q32" } },
  ];
  if (quadruped8266.file) cases.push({ artifact: "firmware-esp8266 built with the quadruped app instead (bench/quadruped.mjs)", file: quadruped8266.file, app: "quadruped", limits: "ESP8266 limits", config: { app: "quadruped", device: "bench-q8266" } });
  else out({ bench: "espruino-firmware", heap, artifact: "quadruped with ESP8266 limits", failed: quadruped8266.failed });
  for (const f of cases) {
    const r = await bootFirmware(f.file, f.config, { bin, port });
    const line = { bench: "espruino-firmware", heap, artifact: f.artifact, app: f.app, limits: f.limits, what: "booted from Storage as a board boots it (\".bootcde\", run by load()): JsVars free once connected (lowest over the next 3 s), messages seen at the broker", ...r };
    if (f.app === "sensor" && heap === "1600") Object.assign(line, { target: "≥ 1,000 free", met: r.connected && r.min_free >= 1000 });
    out(line);
  }
}

/** Where the interpreter spends its time: calls per second of each codec step on a 40-byte PUBLISH, with
 *  the codec minified as the firmware is (dist/test/codec.espruino.js). */
async function codecProfile(bin) {
  const text = await runOnEspruino(`
    var k = require("codec"), buf = new Uint8Array(256), v = new k.PacketView(), N = 2000, i, n = 0, r = {};
    var payload = "0123456789012345678901234567890123456789";
    function time(name, fn) { var t0 = getTime(); fn(); r[name] = Math.round(N / (getTime() - t0)); }
    time("empty_loop", function () { for (i = 0; i < N; i++) {} });
    time("encodePublish", function () { for (i = 0; i < N; i++) n = k.encodePublish(buf, 0, "ebench/out", payload, 0, false, false, 0); });
    time("socket_string", function () { for (i = 0; i < N; i++) E.toString(buf.subarray(0, n)); });
    time("decodePacket", function () { for (i = 0; i < N; i++) k.decodePacket(buf, 0, n, v); });
    var f = new k.Framer(256, 536, { onPacket: function () {}, onFrameError: function () {} }), s = E.toString(buf.subarray(0, n));
    time("framer_push", function () { for (i = 0; i < N; i++) f.push(s); });
    print("JSON " + JSON.stringify(r)); quit();
  `, { bin, modules: { codec: "dist/test/codec.espruino.js" }, timeoutMs: 60000, keepOnTimeout: true });
  const m = text.match(/JSON (\{.*\})/);
  return { bench: "espruino-codec-profile", heap: "default", unit: "calls_per_s", ...(m ? JSON.parse(m[1]) : { failed: interpreterTrouble(text) || text.slice(-200) }) };
}

/** Espruino code: dist/wisp.js (`require("wisp")`) as client `c`, ESP8266 limits, on a scripted socket
 *  `sock` whose listeners are kept as sock.L<event>: connected over TCP (CONNECT written), no CONNACK yet. */
const scriptedWisp = () => `var W = require("wisp"), opened = null;
  var sock = { write: function () {}, end: function () {}, on: function (e, f) { this["L" + e] = f; } };
  var plat = { connect: function (o, cb) { opened = cb; return sock; }, time: getTime, setInterval: function () { return 1; }, clearInterval: function () {}, random: Math.random };
  var c = W.create("x", { platform: plat, client_id: "p", limits: ${JSON.stringify(esp8266Limits())} });
  c.connect(); opened.call(sock, sock);`;

/** The session alone on a scripted socket (no network, no broker: steadier than the rates above), best
 *  of 5 rounds: QoS 0 receive of 62-byte PUBLISHes arriving 8 to a chunk, with no listener, a `message`
 *  listener and a subscription handler; QoS 1 publish answered by PUBACK (with a drain after each
 *  write) and QoS 1 receive answered with PUBACK. dist/wisp.js as code in RAM, ESP8266 limits. */
async function sessionProfile(bin) {
  const topic = "ebench/in";
  const publish = (header, extra) => String.fromCharCode(header, 2 + topic.length + extra.length + PAYLOAD_49.length, 0, topic.length) + topic + extra + PAYLOAD_49;
  const text = await runOnEspruino(`
    var r = {}, got = 0, i, k;
    ${scriptedWisp()}
    sock.Ldata.call(sock, "\\x20\\x02\\x00\\x00");
    var Q0 = ${JSON.stringify(publish(0x30, ""))}, CH = Q0 + Q0 + Q0 + Q0 + Q0 + Q0 + Q0 + Q0, Q1 = ${JSON.stringify(publish(0x32, "\x00\x01"))};
    function best(name, n, per, fn) { var b = 1e9; for (var k = 0; k < 5; k++) { var t0 = getTime(); fn(n); var d = getTime() - t0; if (d < b) b = d; } r[name] = Math.round(n * per / b); }
    function chunks(n) { for (i = 0; i < n; i++) sock.Ldata.call(sock, CH); }
    best("qos0_receive_no_listener", 40, 8, chunks);
    c.on("message", function () { got++; });
    best("qos0_receive_listener", 40, 8, chunks);
    c.removeAllListeners("message");
    c.subscribe(${JSON.stringify(topic)}, { qos: 0 }, function (m) { got++; });
    best("qos0_receive_handler", 40, 8, chunks);
    best("qos1_receive_puback", 100, 1, function (n) { for (i = 0; i < n; i++) sock.Ldata.call(sock, Q1); });
    best("qos1_publish_puback", 100, 1, function (n) { for (i = 0; i < n; i++) { k = c.publish("ebench/q1", ${JSON.stringify(PAYLOAD_49)}, { qos: 1 }); sock.Ldrain.call(sock, sock); sock.Ldata.call(sock, String.fromCharCode(0x40, 2, k >> 8, k & 255)); } });
    r.pending_after = c.pending;
    print("JSON " + JSON.stringify(r)); quit();
  `, { bin, modules: WISP_MODULES, timeoutMs: 120000, keepOnTimeout: true });
  const m = text.match(/JSON (\{.*\})/);
  return { bench: "espruino-session-profile", heap: "default", unit: "msg_per_s", ...(m ? JSON.parse(m[1]) : { failed: interpreterTrouble(text) || text.slice(-200) }) };
}

/** Interpreter instructions per message (valgrind's count, cachegrind; a run of n + 2 steps minus one of
 *  2, over the messages of the n): Wisp and EspruinoDocs MQTT.js on the same scripted socket (no
 *  network), one chunk of received data per timer tick, as a socket delivers it: 5 QoS 0 PUBLISHes of
 *  62 B to a chunk, as Mosquitto delivered them to the interpreter in the receive case (310-byte chunks,
 *  171 of 212), and the stream cut in the interpreter's largest chunks (536 B, packets split across
 *  them); then QoS 0 publish of 63 B, 10 between drains (tinyMQTT too; Wisp alone gets a drain event,
 *  which it paces on). MQTT.js's own events go through Espruino's queue, and the rest of a chunk it
 *  re-emits on the socket is handed straight back (on a real socket that is queued too: measured, about
 *  0.8 % more for MQTT.js); Wisp calls its listeners at once. A refused publish fails the case. Wisp with
 *  ESP8266 limits, code in RAM. */
async function instructionProfile(bin) {
  if (!VALGRIND) return { bench: "espruino-instructions", heap: "default", skipped: "valgrind is not installed (Debian package valgrind)" };
  const topic = "ebench/in";
  const packet = String.fromCharCode(0x30, 2 + topic.length + PAYLOAD_49.length, 0, topic.length) + topic + PAYLOAD_49;
  const setups = {
    wisp: `${scriptedWisp()}
      var feed = function (d) { sock.Ldata.call(sock, d); }, drained = function () { sock.Ldrain.call(sock, sock); };`,
    mqtt_js: `var W = require("MQTT");
      var sock = { write: function () {}, end: function () {}, on: function (e, f) { this["L" + e] = f; }, emit: function (e, d) { this["L" + e](d); } };
      var c = W.create("x", { client_id: "p" }); c.connect(sock);
      var feed = function (d) { sock.Ldata(d); }, drained = function () {};`,
    // Publish only (its receive drops messages): connected by hand to the scripted socket.
    tinymqtt: `var W = require("tinyMQTT"), sock = { write: function () {}, end: function () {}, on: function () {} };
      var c = W.create("x"); c.cl = sock; c.cn = true;
      var feed = function () {}, drained = feed;`,
  };
  const hooks = { wisp: `c.on("message", onListenerMessage);`, wisp_handler: `c.subscribe(${JSON.stringify(topic)}, { qos: 0 }, onHandlerMessage);`, mqtt_js: `c.on("message", onListenerMessage);` };
  const count = async (key, what, n) => {
    const r = await countInstructions(`
      var got = 0, refused = 0, left = ${n + 2}, sp = 0, WHAT = ${JSON.stringify(what)}, P = ${JSON.stringify(PAYLOAD_49)};
      function onMessage(m) { got++; }
      ${MESSAGE_HOOKS}
      ${setups[key === "wisp_handler" ? "wisp" : key]}
      feed("\\x20\\x02\\x00\\x00");
      ${what === "publish" ? "" : hooks[key]}
      var Q = ${JSON.stringify(packet)}, CH = Q + Q + Q + Q + Q, ST = ""; for (var j = 0; j < 300; j++) ST += Q;
      function step() {
        if (left-- <= 0) { print("GOT " + got + " REFUSED " + refused); return quit(); }
        if (WHAT === "publish") { for (var i = 0; i < 10; i++) if (c.publish("ebench/out", P) < 0) refused++; drained(); }
        else if (WHAT === "receive_5") feed(CH);
        else { feed(ST.substr(sp, 536)); sp += 536; }
        setTimeout(step, 0);
      }
      setTimeout(step, 0);
    `, { bin, modules: { ...WISP_MODULES, MQTT: join(process.env.ESPRUINO_MODULES_DIR || "", "MQTT.js"), tinyMQTT: join(process.env.ESPRUINO_MODULES_DIR || "", "tinyMQTT.js") }, timeoutMs: 300000, keepOnTimeout: true });
    if (r.failed) return r;
    const refused = +(r.text.match(/REFUSED (\d+)/) || [, 0])[1];
    if (refused) return { failed: `${refused} publishes refused` };
    return { refs: r.refs, got: +(r.text.match(/GOT (\d+)/) || [, -1])[1] };
  };
  const keys = espruinoClients(0).some((c) => c.key === "mqtt_js") ? ["wisp", "wisp_handler", "mqtt_js"] : ["wisp", "wisp_handler"];
  const r = { bench: "espruino-instructions", heap: "default", unit: "instructions_per_message" };
  const N = 20;
  for (const what of ["receive_5", "receive_536", "publish"]) {
    r[what] = {};
    for (const key of what === "publish" && keys.includes("mqtt_js") ? ["wisp", "mqtt_js", "tinymqtt"] : keys) {
      if (what === "publish" && key === "wisp_handler") continue;
      const a = await count(key, what, 0), b = await count(key, what, N);
      if (a.failed || b.failed) { r[what][key] = `failed: ${a.failed || b.failed}`; continue; }
      const messages = what === "publish" ? 10 * N : b.got - a.got;
      r[what][key] = Math.round((b.refs - a.refs) / messages);
    }
  }
  // Fewer instructions than the reference: receive than MQTT.js (listener and handler), publish than tinyMQTT.
  if (keys.includes("mqtt_js")) r.met = ["receive_5", "receive_536"].every((w) => r[w].wisp <= r[w].mqtt_js && r[w].wisp_handler <= r[w].mqtt_js) && r.publish.wisp <= r.publish.tinymqtt;
  return r;
}

/** Runs every case on every interpreter given; `out(line)` gets each result line. */
export async function espruinoCases(out) {
  const given = HEAPS.filter((h) => h.bin);
  for (const h of HEAPS) if (!h.bin) out({ bench: "espruino", heap: h.heap, skipped: `${h.variable} is not set (an Espruino Linux build${h.heap === "default" ? "" : ` with a fixed ${h.heap}-JsVar heap`})` });
  if (!given.length) return;
  if (!haveMosquitto) return out({ bench: "espruino", skipped: "mosquitto is not installed" });
  if (!espruinoClients(0).some((c) => c.key === "mqtt_js")) out({ bench: "espruino", note: "references skipped: set ESPRUINO_MODULES_DIR to a folder with EspruinoDocs' MQTT.js and tinyMQTT.js (minified)" });
  const dir = mkdtempSync(join(tmpdir(), "wisp-bench-"));
  const quadruped8266 = await buildQuadrupedEsp8266(dir);
  const broker = await startMosquitto();
  try {
    for (const h of given) {
      const text = await runOnEspruino(`var m = process.memory(); print("ABOUT " + JSON.stringify({ version: process.version, total: m.total, blocksize: m.blocksize })); quit();`, { bin: h.bin });
      const about = JSON.parse((text.match(/ABOUT (\{.*\})/) || [, "{}"])[1]);
      out({ bench: "espruino-interpreter", heap: h.heap, variable: h.variable, interpreter: `Espruino ${about.version || "?"} Linux, heap ${about.total} × ${about.blocksize} B${h.heap === "default" ? " (grows)" : ""}` });
      await library(out, h.heap, h.bin, broker.port);
      await webIde(out, h.heap, h.bin, broker.port);
      await firmware(out, h.heap, h.bin, broker.port, quadruped8266);
      if (h.heap === "default") {
        await speed(out, h.heap, h.bin, broker.port);
        out(await codecProfile(h.bin));
        out(await sessionProfile(h.bin));
        out(await instructionProfile(h.bin));
      }
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await espruinoCases((o) => console.log(JSON.stringify(o)));
