// The real-interpreter cases of `npm run bench` (needs ESPRUINO_BIN, an Espruino Linux build, and
// Mosquitto): Wisp and Espruino's own MQTT modules (EspruinoDocs MQTT.js and tinyMQTT.js, minified, from
// ESPRUINO_MODULES_DIR) run the same script on the same binary in the same run; each case is one line
// with every client's figure, the target and whether Wisp meets it. Run alone: node bench/espruino.mjs
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { startMosquitto } from "../test/helpers/brokers.mjs";
import { runOnEspruino, ESPRUINO_BIN } from "../test/helpers/espruino.mjs";

const PAYLOAD_40 = "0123456789012345678901234567890123456789";

/** Espruino code that copies a file into Storage 256 bytes at a time (a 1,700-JsVar heap cannot hold a
 *  whole bundle as one string). */
const STORE_FILE = `function storeFile(name, path) {
  var total = require("fs").statSync(path).size, f = E.openFile(path, "r"), off = 0, d;
  while ((d = f.read(256)) !== undefined && d.length) { require("Storage").write(name, d, off, total); off += d.length; }
  f.close();
}`;

/** The clients to compare: Wisp always, the EspruinoDocs modules when ESPRUINO_MODULES_DIR has them. */
function clients(port) {
  // Wisp with an ESP8266's limits (boards/esp8266.json), the size a 1,700-JsVar heap calls for.
  const b = JSON.parse(readFileSync("boards/esp8266.json", "utf8"));
  const limits = { maxPacket: b.maxPacket, maxChunk: b.maxChunk, txBuffer: b.txBuffer, inflight: b.inflight, inflightBytes: b.inflightBytes, maxSubscriptions: b.maxSubscriptions };
  const list = [{ key: "wisp", module: "wisp", file: "dist/wisp.js", create: `mod.create("127.0.0.1", { port: ${port}, client_id: "e-wisp", limits: ${JSON.stringify(limits)} })`, socket: "c" }];
  const dir = process.env.ESPRUINO_MODULES_DIR || "";
  if (dir && existsSync(join(dir, "MQTT.js"))) list.push({ key: "mqtt_js", module: "MQTT", file: join(dir, "MQTT.js"), create: `mod.create("127.0.0.1", { port: ${port}, client_id: "e-mqttjs" })`, socket: "c.client" });
  if (dir && existsSync(join(dir, "tinyMQTT.js"))) list.push({ key: "tinymqtt", module: "tinyMQTT", file: join(dir, "tinyMQTT.js"), create: `mod.create("127.0.0.1", { port: ${port} })`, socket: "c.cl" });
  return list;
}

/** One client's run: JsVars after require + create + connect + subscribe (module loaded from RAM, or
 *  from Storage as `npm run flash` stores code); an idle control period; then two rounds of 10,000
 *  QoS 0 publishes paced on drain and two rounds of 1,000 receives. Rates and JsVar growth (after GC)
 *  are the second round's: the steady state, past one-time allocations of the interpreter's sockets. */
function script(c, { fromStorage, withHandler }) {
  // Everything the harness needs exists before the first measurement, so that only the client can grow.
  return `
    ${fromStorage ? `${STORE_FILE} storeFile(${JSON.stringify(c.module)}, "node_modules/${c.module}.js");` : ""}
    var sent = 0, got = 0, t0 = 0, tLast = 0, start = 0, round = 0, mem = [0, 0, 0, 0, 0, 0], rate = [0, 0, 0, 0], subscribed = false, socket = null;
    function report(o) { print("JSON " + JSON.stringify(o)); }
    function usage() { return process.memory().usage; }
    function onMessage() { if (!got) t0 = getTime(); got++; tLast = getTime(); }
    function batch() {
      if (sent >= 10000 || !start) return;
      for (var i = 0; i < 16 && sent < 10000; i++) { c.publish("ebench/out", "${PAYLOAD_40}"); sent++; }
      if (sent === 10000) { rate[round] = Math.round(10000 / (getTime() - start)); start = 0; setTimeout(nextRound, 500); }
    }
    function nextRound() {
      round++;
      mem[round + 1] = usage();
      if (round < 2) { sent = 0; start = getTime(); batch(); return; }
      got = 0;
      print("SEND" + round);
      setTimeout(function () {
        rate[round] = got > 1 ? Math.round((got - 1) / (tLast - t0)) : 0;
        if (round < 3) return nextRound();
        mem[5] = usage();
        report({ growth_idle: mem[1] - mem[0], publish_msg_s: rate[1], growth_publishes: mem[3] - mem[2], receive_msg_s: rate[3], received: got, growth_receives: mem[5] - mem[4] });
        print("DONE"); quit();
      }, 4000);
    }
    var m0 = process.memory().usage;
    var mod = require(${JSON.stringify(c.module)});
    var c = ${c.create};
    c.on("connected", function () {
      if (subscribed) return;
      subscribed = true;
      ${withHandler ? `c.subscribe("ebench/in", { qos: 0 }, onMessage);` : `c.subscribe("ebench/in"); c.on("message", onMessage);`}
      setTimeout(function () {
        var m = process.memory();
        report({ jsvars: m.usage - m0, heap_total: m.total, blocksize: m.blocksize });
        socket = ${c.socket};
        socket.on("drain", batch);
        mem[0] = usage();
        setTimeout(function () { mem[1] = usage(); start = getTime(); batch(); }, 300);
      }, 500);
    });
    c.connect();
  `;
}

async function runClient(c, broker, options) {
  const pub = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`);
  await new Promise((r) => pub.once("connect", r));
  const sent = new Set();
  const text = await runOnEspruino(script(c, options), {
    modules: { [c.module]: c.file },
    timeoutMs: 120000,
    onOutput: (all) => {
      for (const round of ["SEND2", "SEND3"]) {
        if (sent.has(round) || !all.includes(round)) continue;
        sent.add(round);
        for (let i = 0; i < 1000; i++) pub.publish("ebench/in", PAYLOAD_40 + "!");
      }
    },
  }).catch((e) => e.message);
  pub.end(true);
  const result = {};
  for (const m of text.matchAll(/JSON (\{.*\})/g)) Object.assign(result, JSON.parse(m[1]));
  if (!text.includes("DONE")) result.incomplete = text.slice(-300);
  return result;
}

/** Runs (client, options) `REPEATS` times, interleaved with the other clients' runs by the caller, and
 *  keeps every figure: the median is reported, with the spread (the machine's noise is ±30 %). */
const REPEATS = Number(process.env.BENCH_REPEATS || 3);
const median = (xs) => { const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : undefined; };

/** One result per field: the median of the runs (growth: the largest, the worst case). */
function summarize(runs) {
  const r = { runs: runs.length };
  for (const k of new Set(runs.flatMap((x) => Object.keys(x)))) {
    const xs = runs.map((x) => x[k]);
    if (typeof xs[0] !== "number") r[k] = xs.find((x) => x !== undefined);
    else if (k.startsWith("growth")) r[k] = Math.max(...xs.filter((x) => typeof x === "number"));
    else { r[k] = median(xs); r[`${k}_range`] = [Math.min(...xs), Math.max(...xs)]; }
  }
  return r;
}

/** Where the interpreter spends its time: calls per second of each codec step on a 40-byte PUBLISH, with
 *  the codec minified as the firmware is (dist/test/codec.espruino.js). */
async function codecProfile() {
  const text = await runOnEspruino(`
    var k = require("codec"), buf = new Uint8Array(256), v = new k.PacketView(), N = 2000, i, n = 0, r = {};
    var payload = "${PAYLOAD_40}";
    function time(name, fn) { var t0 = getTime(); fn(); r[name] = Math.round(N / (getTime() - t0)); }
    time("empty_loop", function () { for (i = 0; i < N; i++) {} });
    time("encodePublish", function () { for (i = 0; i < N; i++) n = k.encodePublish(buf, 0, "ebench/out", payload, 0, false, false, 0); });
    time("socket_string", function () { for (i = 0; i < N; i++) E.toString(buf.subarray(0, n)); });
    time("decodePacket", function () { for (i = 0; i < N; i++) k.decodePacket(buf, 0, n, v); });
    var f = new k.Framer(256, 536, { onPacket: function () {}, onFrameError: function () {} }), s = E.toString(buf.subarray(0, n));
    time("framer_push", function () { for (i = 0; i < N; i++) f.push(s); });
    print("JSON " + JSON.stringify(r)); quit();
  `, { modules: { codec: "dist/test/codec.espruino.js" }, timeoutMs: 120000 }).catch((e) => e.message);
  const m = text.match(/JSON (\{.*\})/);
  return { bench: "espruino-codec-profile", unit: "calls_per_s", ...(m ? JSON.parse(m[1]) : { failed: text.slice(-300) }) };
}

/** dist/firmware-linux.js (the Linux board: an ESP8266's limits, hot code left in flash) stored and run as
 *  `npm run flash` installs it, with the sensor app: JsVars in use and free once it is connected. */
async function firmwareBoot(broker) {
  const text = await runOnEspruino(`
    ${STORE_FILE}
    require("Storage").write("wisp.json", ${JSON.stringify(JSON.stringify({ brokers: [`127.0.0.1:${broker.port}`], app: "sensor", device: "bench-fw", period_s: 1 }))});
    storeFile("fw", "node_modules/fw.js");
    var m0 = process.memory().usage;
    eval(require("Storage").read("fw"));
    setTimeout(function () { var m = process.memory(); print("JSON " + JSON.stringify({ jsvars_used: m.usage, firmware_jsvars: m.usage - m0, free: m.free, heap_total: m.total, blocksize: m.blocksize, connected: mqtt.connected })); quit(); }, 3000);
  `, { modules: { fw: "dist/firmware-linux.js" }, timeoutMs: 30000 }).catch((e) => e.message);
  const m = text.match(/JSON (\{.*\})/);
  return { bench: "espruino-firmware", what: "dist/firmware-linux.js booted from Storage with the sensor app (ESP8266 limits)", ...(m ? JSON.parse(m[1]) : { failed: text.slice(-300) }) };
}

/** Runs every case; `out(line)` gets each result line. */
export async function espruinoCases(out) {
  if (!ESPRUINO_BIN) return out({ bench: "espruino", skipped: "ESPRUINO_BIN is not set (an Espruino Linux build, BOARD=LINUX)" });
  const version = (await runOnEspruino(`print("VERSION " + process.version); quit();`)).match(/VERSION (\S+)/);
  const broker = await startMosquitto();
  try {
    const list = clients(broker.port);
    if (list.length === 1) out({ bench: "espruino", note: "references skipped: set ESPRUINO_MODULES_DIR to a folder with EspruinoDocs' MQTT.js and tinyMQTT.js (minified)" });
    const configs = [];
    for (const c of list) for (const fromStorage of [false, true]) configs.push({ c, key: c.key, fromStorage, withHandler: false });
    for (const fromStorage of [false, true]) configs.push({ c: list[0], key: "wisp_handler", fromStorage, withHandler: true });
    const raw = configs.map(() => []);
    for (let i = 0; i < REPEATS; i++) {
      for (let j = 0; j < configs.length; j++) raw[j].push(await runClient(configs[j].c, broker, configs[j]));
    }
    const ram = {};
    const flash = {};
    configs.forEach((cfg, j) => { (cfg.fromStorage ? flash : ram)[cfg.key] = summarize(raw[j]); });
    const handlerRam = ram.wisp_handler;
    const handlerFlash = flash.wisp_handler;
    delete ram.wisp_handler;
    delete flash.wisp_handler;
    const pick = (runs, field) => Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, r[field]]));
    const spread = (runs, field) => Object.fromEntries(Object.entries(runs).map(([k, r]) => [`${k}_range`, r[`${field}_range`]]));
    const any = Object.values(ram).find((r) => r.heap_total) || {};
    const interpreter = `Espruino ${version ? version[1] : "?"} Linux, heap ${any.heap_total} × ${any.blocksize} B`;

    for (const [from, runs] of [["RAM (require of uploaded text)", ram], ["Storage (as flashed)", flash]]) {
      const v = pick(runs, "jsvars");
      out({ bench: "espruino-jsvars", what: "JsVars after require + create + connect + subscribe", module_in: from, ...v, target: "below tinyMQTT", met: v.tinymqtt !== undefined ? v.wisp < v.tinymqtt : null, interpreter });
    }
    for (const key of Object.keys(ram)) {
      const r = ram[key];
      out({ bench: "espruino-growth", client: key, after_10000_publishes: r.growth_publishes, after_1000_receives: r.growth_receives, idle_control: r.growth_idle, target: "0 beyond the idle control", met: key === "wisp" ? Math.max(r.growth_publishes, r.growth_receives) <= Math.max(0, r.growth_idle) : null });
    }
    for (const [from, runs, h] of [["RAM (require of uploaded text)", ram, handlerRam], ["Storage (as flashed)", flash, handlerFlash]]) {
      const p = pick(runs, "publish_msg_s");
      out({ bench: "espruino-publish-qos0", what: "10,000 × 40 B, 16 per drain, 2nd round", module_in: from, unit: "msg/s", median_of: REPEATS, ...p, ...spread(runs, "publish_msg_s"), target: "≥ 2 × tinyMQTT", met: p.tinymqtt ? p.wisp >= 2 * p.tinymqtt : null });
      const rcv = pick(runs, "receive_msg_s");
      out({ bench: "espruino-receive-qos0", what: "1,000 × 41 B from MQTT.js through Mosquitto, 2nd round", module_in: from, unit: "msg/s", median_of: REPEATS, ...rcv, ...spread(runs, "receive_msg_s"), wisp_subscription_handler: h.receive_msg_s, wisp_subscription_handler_range: h.receive_msg_s_range, received: { ...pick(runs, "received"), wisp_subscription_handler: h.received }, target: "≥ 3 × MQTT.js", met: rcv.mqtt_js ? Math.max(rcv.wisp, h.receive_msg_s) >= 3 * rcv.mqtt_js : null });
    }
    out(await firmwareBoot(broker));
    out(await codecProfile());
    for (const [key, r] of Object.entries({ ...flash, wisp_handler: handlerFlash })) if (r.incomplete) out({ bench: "espruino", client: key, incomplete: r.incomplete });
  } finally {
    await broker.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await espruinoCases((o) => console.log(JSON.stringify(o)));
