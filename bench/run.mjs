// npm run bench (on demand, not in CI): one JSON line per case, Wisp and its reference measured in the
// same run. Cases: artifact sizes; end-to-end QoS 0/1 msg/s and publish→receive latency through
// Mosquitto for Wisp in the host simulator vs the npm `mqtt` client; and, when ESPRUINO_BIN names an
// Espruino Linux build, JsVars, JsVar growth and msg/s on the real interpreter (with Espruino's own MQTT
// modules as references when ESPRUINO_MODULES_DIR holds MQTT.js and tinyMQTT.js).
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import vm from "node:vm";
import mqtt from "mqtt";
import { createBareEnv } from "../host-sim/espruino-env.mjs";
import { startMosquitto, haveMosquitto } from "../test/helpers/brokers.mjs";
import { runOnEspruino, ESPRUINO_BIN } from "../test/helpers/espruino.mjs";

const out = (o) => console.log(JSON.stringify(o));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2); };
const WISP = readFileSync("dist/wisp.js", "utf8");

// ---- sizes -------------------------------------------------------------------------------------------
for (const f of readdirSync("dist").filter((f) => f.endsWith(".js"))) { // dist/test/ holds test builds
  const code = readFileSync(join("dist", f), "utf8");
  out({ bench: "size", artifact: `dist/${f}`, minified_bytes: code.length, gzipped_bytes: gzipSync(code).length });
}

/** A subscriber (MQTT.js) that records arrival times of payloads "<seq> <sentAtMs>". */
async function subscriber(url, topic, qos) {
  const s = mqtt.connect(`mqtt://${url}`, { clean: true });
  const got = new Map();
  s.on("message", (t, payload) => {
    const [seq, sent] = String(payload).split(" ");
    if (!got.has(seq)) got.set(seq, performance.now() - Number(sent));
  });
  await new Promise((r) => s.once("connect", r));
  await s.subscribeAsync(topic, { qos });
  return { s, got };
}

/** Wisp (dist/wisp.js) inside the Espruino stand-ins: publishes n messages, paced on drain / puback. */
function wispPublisher(url, topic, qos, n, intervalMs) {
  const env = createBareEnv({ modules: { wisp: WISP } });
  env.context.now = () => performance.now();
  const [host, port] = url.split(":");
  return new Promise((resolve) => {
    env.context.done = resolve;
    vm.runInContext(`
      var c = require("wisp").create("${host}", { port: ${port}, client_id: "bench-wisp-${qos}" });
      var next = 0, opts = { qos: ${qos} };
      function pump() {
        while (next < ${n}) {
          if (c.publish("${topic}", next + " " + now(), opts) < 0) return;
          next++;
          if (${intervalMs} > 0) return;
        }
      }
      c.on("connected", function () {
        if (${intervalMs} > 0) { var t = setInterval(function () { pump(); if (next >= ${n}) clearInterval(t); }, ${intervalMs}); }
        else { c.on("drain", pump); c.on("puback", pump); pump(); }
      });
      c.connect();
      var w = setInterval(function () { if (next >= ${n} && c.pending === 0) { clearInterval(w); done(); } }, 5);
    `, env.context);
  }).then(() => ({ stop: env.off }));
}

/** MQTT.js publishing the same way: as fast as it accepts (QoS 0), or awaiting each batch's acks (QoS 1). */
async function mqttjsPublisher(url, topic, qos, n, intervalMs) {
  const c = mqtt.connect(`mqtt://${url}`, { clientId: `bench-mqttjs-${qos}` });
  await new Promise((r) => c.once("connect", r));
  const pending = [];
  for (let i = 0; i < n; i++) {
    pending.push(c.publishAsync(topic, `${i} ${performance.now()}`, { qos }));
    if (intervalMs) await sleep(intervalMs);
    else if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return { stop() { c.end(true); } };
}

async function endToEnd(broker, client, qos, n, intervalMs) {
  const topic = `bench/${client}/${qos}/${intervalMs}`;
  const sub = await subscriber(broker.url, topic, qos);
  const t0 = performance.now();
  const pub = await (client === "wisp" ? wispPublisher : mqttjsPublisher)(broker.url, topic, qos, n, intervalMs);
  const until = performance.now() + 30000;
  while (sub.got.size < n && performance.now() < until) await sleep(2);
  const seconds = (performance.now() - t0) / 1000;
  pub.stop();
  sub.s.end(true);
  return { received: sub.got.size, msg_s: Math.round(sub.got.size / seconds), p50_ms: pct([...sub.got.values()], 50), p99_ms: pct([...sub.got.values()], 99) };
}

if (!haveMosquitto) out({ bench: "e2e", skipped: "mosquitto not installed" });
else {
  const broker = await startMosquitto();
  for (const [qos, n] of [[0, 20000], [1, 5000]]) {
    const wisp = await endToEnd(broker, "wisp", qos, n, 0);
    const ref = await endToEnd(broker, "mqttjs", qos, n, 0);
    out({ bench: "e2e-throughput", broker: "mosquitto", qos, messages: n, wisp_in_host_sim: wisp, mqtt_js: ref, ratio: +(wisp.msg_s / ref.msg_s).toFixed(2) });
  }
  for (const qos of [0, 1]) {
    const wisp = await endToEnd(broker, "wisp", qos, 1000, 2);
    const ref = await endToEnd(broker, "mqttjs", qos, 1000, 2);
    out({ bench: "e2e-latency", broker: "mosquitto", qos, messages: 1000, every_ms: 2, wisp_in_host_sim: wisp, mqtt_js: ref });
  }
  await broker.stop();
}

// ---- the real interpreter ------------------------------------------------------------------------------
if (!ESPRUINO_BIN) out({ bench: "espruino", skipped: "ESPRUINO_BIN is not set (an Espruino Linux build, BOARD=LINUX)" });
else if (haveMosquitto) await espruinoCases();

async function espruinoCases() {
  // Where an interpreter spends its time: calls per second of each codec step on a 40-byte PUBLISH.
  const profile = await runOnEspruino(`
    var k = require("codec"), buf = new Uint8Array(256), v = new k.PacketView(), N = 2000, i, n = 0, r = {};
    var payload = "0123456789012345678901234567890123456789";
    function time(name, fn) { var t0 = getTime(); fn(); r[name] = Math.round(N / (getTime() - t0)); }
    time("empty_loop", function () { for (i = 0; i < N; i++) {} });
    time("topicLength", function () { for (i = 0; i < N; i++) k.topicLength("ebench/out"); });
    time("encodePublish", function () { for (i = 0; i < N; i++) n = k.encodePublish(buf, 0, "ebench/out", payload, 0, false, false, 0); });
    time("socket_string", function () { for (i = 0; i < N; i++) E.toString(buf.subarray(0, n)); });
    time("decodePacket", function () { for (i = 0; i < N; i++) k.decodePacket(buf, 0, n, v); });
    var f = new k.Framer(256, 536, function () {}, function () {}), s = E.toString(buf.subarray(0, n));
    time("framer_push", function () { for (i = 0; i < N; i++) f.push(s); });
    print("JSON " + JSON.stringify(r)); quit();
  `, { modules: { codec: "dist/test/codec.espruino.js" }, timeoutMs: 120000 });
  const calls = profile.match(/JSON (\{.*\})/);
  out({ bench: "espruino-codec-profile", unit: "calls_per_s", ...(calls ? JSON.parse(calls[1]) : { failed: profile.slice(-300) }) });

  const broker = await startMosquitto();
  const refDir = process.env.ESPRUINO_MODULES_DIR || "";
  const clients = [{ name: "wisp", module: "dist/wisp.js", create: `require("wisp").create("127.0.0.1", { port: ${broker.port}, client_id: "e-wisp" })` }];
  for (const [name, file] of [["MQTT.js", "MQTT.js"], ["tinyMQTT.js", "tinyMQTT.js"]]) {
    if (refDir && existsSync(join(refDir, file))) clients.push({ name, module: join(refDir, file), create: `require("${name.replace(".js", "")}").create("127.0.0.1", { port: ${broker.port}, client_id: "e-${name}" })` });
  }
  if (clients.length === 1) out({ bench: "espruino", note: "references skipped: set ESPRUINO_MODULES_DIR to a folder with EspruinoDocs' MQTT.js and tinyMQTT.js (minified)" });
  for (const c of clients) {
    const modName = c.name === "wisp" ? "wisp" : c.name.replace(".js", "");
    const script = `
      var m0 = process.memory().usage;
      var mod = require("${modName}");
      var c = ${c.create};
      var sent = 0, got = 0, t0 = 0, idle0 = 0;
      c.on("connected", function () {
        c.subscribe("ebench/in");
        setTimeout(function () {
          var mem1 = process.memory().usage;
          print("JSON " + JSON.stringify({ jsvars_require_create_connect_subscribe: mem1 - m0, total: process.memory().total, blocksize: process.memory().blocksize }));
          idle0 = process.memory().usage;
          setTimeout(function () {
            var idle1 = process.memory().usage;
            t0 = getTime();
            function batch() {
              for (var i = 0; i < 16 && sent < 10000; i++) { c.publish("ebench/out", "0123456789012345678901234567890123456789"); sent++; }
              if (sent >= 10000) {
                var dt = getTime() - t0;
                setTimeout(function () { print("JSON " + JSON.stringify({ qos0_publish_msg_s: Math.round(10000 / dt), jsvar_growth_after_10000_publishes: process.memory().usage - idle1, idle_control_growth: idle1 - idle0 })); print("READY"); }, 500);
              }
            }
            // Wisp re-emits the socket's drain; Espruino's modules expose their socket (client / cl).
            if (${c.name === "wisp"}) c.on("drain", batch); else (c.client || c.cl).on("drain", batch);
            batch();
          }, 300);
        }, 500);
      });
      c.on("message", function () { if (!got) t0 = getTime(); got++; if (got === 1000) { var dt = getTime() - t0; setTimeout(function () { print("JSON " + JSON.stringify({ receive_msg_s: Math.round(999 / dt), jsvar_growth_after_1000_receives: process.memory().usage - idle0 })); print("DONE"); quit(); }, 300); } });
      c.on("publish", function () {});
      c.connect();
    `;
    const pub = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`);
    await new Promise((r) => pub.once("connect", r));
    const running = runOnEspruino(script, { modules: { [modName]: c.module }, timeoutMs: 120000, onOutput: (text) => {
      if (text.includes("READY") && !running.sending) {
        running.sending = true;
        (async () => { for (let i = 0; i < 1000; i++) pub.publish("ebench/in", "01234567890123456789012345678901234567890"); })();
      }
    } });
    const text = await running.catch((e) => e.message);
    pub.end(true);
    const result = { bench: "espruino", client: c.name };
    for (const m of text.matchAll(/JSON (\{.*\})/g)) Object.assign(result, JSON.parse(m[1]));
    if (!text.includes("DONE")) result.incomplete = text.slice(-400);
    out(result);
  }
  await broker.stop();
}
