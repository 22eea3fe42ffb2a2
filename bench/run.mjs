// npm run bench (on demand, not in CI): one JSON line per case, Wisp and its reference measured in the
// same run, then the same results as tables a person reads, one per interpreter heap; `npm run bench --
// --readme` also writes those tables into README.md. Cases: artifact sizes; the codec alone
// (bench/codec.mjs); end-to-end QoS 0/1 msg/s and publish→receive latency through Mosquitto for Wisp in
// the host simulator vs the npm `mqtt` client; and issue 9's cases on real Espruino Linux builds given by
// ESPRUINO_BIN, ESPRUINO_BIN_1700 and ESPRUINO_BIN_1600 (bench/espruino.mjs; Espruino's own MQTT modules
// as references when ESPRUINO_MODULES_DIR holds MQTT.js and tinyMQTT.js). Every run ends by itself.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import vm from "node:vm";
import mqtt from "mqtt";
import { createBareEnv } from "../host-sim/espruino/env.mjs";
import { moduleSources } from "../host-sim/node/load.mjs";
import { startMosquitto, haveMosquitto, MOSQUITTO } from "../test/helpers/brokers.mjs";
import { execFileSync } from "node:child_process";
import { espruinoCases } from "./espruino.mjs";
import { writeReadme, resultsTables } from "./readme.mjs";
import { optionsOrExit, helpText } from "../host-sim/cli-options.mjs";

const COMMAND = "npm run bench";
/** npm run bench's options: parsed, checked and listed in --help from this one table. */
const OPTIONS = {
  readme: { type: "boolean", help: "rewrite README.md's results tables with this run's results (the only source of README's numbers)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};
const args = optionsOrExit(COMMAND, OPTIONS);
if (args.help) {
  console.log(helpText(`usage: ${COMMAND} -- [options]   (sizes, codec, Node through Mosquitto; on Espruino interpreters when given)`, OPTIONS,
    ["environment: ESPRUINO_BIN, ESPRUINO_BIN_1700, ESPRUINO_BIN_1600 (Espruino Linux builds: default, 1,700- and 1,600-JsVar heaps),",
      "  ESPRUINO_MODULES_DIR (EspruinoDocs MQTT.js and tinyMQTT.js, minified)"]));
  process.exit(0);
}

const results = [];
const out = (o) => { results.push(o); console.log(JSON.stringify(o)); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2); };
const WISP = moduleSources();

// ---- sizes -------------------------------------------------------------------------------------------
for (const f of readdirSync("dist").filter((f) => f.endsWith(".js"))) { // dist/test/ holds test builds
  const code = readFileSync(join("dist", f), "utf8");
  out({ bench: "size", artifact: `dist/${f}`, minified_bytes: code.length, gzipped_bytes: gzipSync(code).length });
}

// ---- the codec alone (its own process, for --expose-gc) ----------------------------------------------------
for (const line of execFileSync(process.execPath, ["--expose-gc", "bench/codec.mjs"], { encoding: "utf8" }).trim().split("\n")) out(JSON.parse(line));

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
  const env = createBareEnv({ modules: WISP });
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
    out({ bench: "e2e-throughput", broker: "mosquitto", qos, messages: n, wisp_in_host_sim: wisp, wisp_limits: "library defaults: 2 QoS 1/2 in flight", mqtt_js: ref, mqtt_js_window: qos ? "64 awaited per batch" : "unpaced", ratio: +(wisp.msg_s / ref.msg_s).toFixed(2) });
  }
  for (const qos of [0, 1]) {
    const wisp = await endToEnd(broker, "wisp", qos, 1000, 2);
    const ref = await endToEnd(broker, "mqttjs", qos, 1000, 2);
    out({ bench: "e2e-latency", broker: "mosquitto", qos, messages: 1000, every_ms: 2, wisp_in_host_sim: wisp, mqtt_js: ref });
  }
  await broker.stop();
}

// ---- the real interpreter ------------------------------------------------------------------------------
await espruinoCases(out);

let mosquitto = "?";
try { mosquitto = execFileSync(MOSQUITTO, ["-h"], { encoding: "utf8" }).match(/version (\S+)/)[1]; } catch (e) { mosquitto = (String(e.stdout || "").match(/version (\S+)/) || [])[1] || "?"; }
console.log(`\n${resultsTables(results, { mosquitto })}\n`);
if (args.readme) {
  writeReadme(results, { mosquitto });
  console.log("README.md: results tables rewritten");
}
