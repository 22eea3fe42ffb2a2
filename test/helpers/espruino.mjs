// Runs JavaScript on real Espruino Linux interpreters when environment variables name them (never in
// CI): ESPRUINO_BIN (the default build, a heap that grows), ESPRUINO_BIN_1700 and ESPRUINO_BIN_1600
// (built with a fixed heap of that many 16-byte JsVars, as an ESP8266 has). Also the measurements that
// the bench and the JsVar budget checks share: a client's JsVars from a bare heap to a 200-byte round
// trip, and a firmware's free JsVars once it is connected.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { moduleFiles } from "../../host-sim/node/load.mjs";

/** The files of a build of the module (host-sim/node/load.mjs moduleFiles) as runOnEspruino's `modules`
 *  take them: {name: path}. */
export const modulePaths = (file = "wisp.js") => Object.fromEntries(Object.entries(moduleFiles(file)).map(([n, f]) => [n, `dist/${f}`]));

/** The files of dist/wisp.js (it requires wisp-cold), as runOnEspruino's `modules` take them. */
export const WISP_MODULES = modulePaths();

export const ESPRUINO_BIN = process.env.ESPRUINO_BIN || "";
export const skipWithoutEspruino = ESPRUINO_BIN ? false : "ESPRUINO_BIN is not set: the real-interpreter check was skipped";

/** The interpreters by heap: name, the variable that gives it, its path ("" when unset). */
export const HEAPS = [
  { heap: "default", variable: "ESPRUINO_BIN", bin: process.env.ESPRUINO_BIN || "" },
  { heap: "1700", variable: "ESPRUINO_BIN_1700", bin: process.env.ESPRUINO_BIN_1700 || "" },
  { heap: "1600", variable: "ESPRUINO_BIN_1600", bin: process.env.ESPRUINO_BIN_1600 || "" },
];

/** Runs `script` with `modules` ({name: path}) in ./node_modules on `bin` (default ESPRUINO_BIN);
 *  resolves with its console output when it exits (it stays alive while sockets or timers exist, so
 *  scripts quit()) or once the output contains `until` (then it is killed: after load() the Linux
 *  build has no quit()), or, past `timeoutMs`, kills it and resolves with the output so far plus "TIMED
 *  OUT" when `keepOnTimeout`, else rejects. `onOutput(all)` sees the output as it grows; `wrap` is a
 *  command the interpreter runs under (e.g. valgrind and its options). */
export function runOnEspruino(script, { modules = {}, timeoutMs = 20000, onOutput = () => {}, bin = ESPRUINO_BIN, keepOnTimeout = false, wrap = [], until = "" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "wisp-espruino-"));
  mkdirSync(join(dir, "node_modules"));
  for (const [name, path] of Object.entries(modules)) copyFileSync(path, join(dir, "node_modules", `${name}.js`));
  writeFileSync(join(dir, "main.js"), script);
  return new Promise((resolve, reject) => {
    // stdin stays open and silent: a closed stdin floods Espruino's console.
    const child = wrap.length ? spawn(wrap[0], [...wrap.slice(1), bin, "main.js"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] }) : spawn(bin, ["main.js"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; onOutput(out); if (until && out.includes(until)) child.kill("SIGKILL"); });
    child.stderr.on("data", (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, timeoutMs);
    child.on("exit", () => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      if (!timedOut) resolve(out);
      else if (keepOnTimeout) resolve(`${out}\nTIMED OUT after ${timeoutMs} ms`);
      else reject(new Error(`Espruino timed out; output:\n${out}`));
    });
  });
}

/** An npm mqtt client connected to the broker on `port`, or an error after 5 s. */
export function mqttConnected(port, clientId) {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { c.end(true); reject(new Error(`no CONNACK from 127.0.0.1:${port} within 5 s`)); }, 5000);
    c.once("connect", () => { clearTimeout(timer); resolve(c); });
  });
}

/** Espruino code that copies a file into Storage 256 bytes at a time (a 1,600-JsVar heap cannot hold a
 *  whole bundle as one string). */
const STORE_FILE = `function storeFile(name, path) {
  var total = require("fs").statSync(path).size, f = E.openFile(path, "r"), off = 0, d;
  while ((d = f.read(256)) !== undefined && d.length) { require("Storage").write(name, d, off, total); off += d.length; }
  f.close();
}`;

/** 200 bytes, the round trip's message. */
export const PAYLOAD_200 = "0123456789".repeat(20);

/** An ESP8266's limits (boards/esp8266.json), as Wisp gets them in every measurement. */
export function esp8266Limits() {
  const b = JSON.parse(readFileSync(new URL("../../boards/esp8266.json", import.meta.url), "utf8"));
  return { maxPacket: b.maxPacket, maxChunk: b.maxChunk, txBuffer: b.txBuffer, txWindow: b.txWindow, inflight: b.inflight, inflightBytes: b.inflightBytes, maxSubscriptions: b.maxSubscriptions };
}

/** The clients measured, each as Espruino code fragments over the client `c`: `create` (from the module
 *  `mod`), `subscribe` (of TOPIC), a `hook` that routes its messages to one of MESSAGE_HOOKS (which call
 *  onMessage(payloadString)), `subscribedEvent` (the event of its SUBACK, or null: then 300 ms after
 *  subscribing stand for it), and `drain`, where its socket's drain is heard (once connected). Wisp
 *  always, with an ESP8266's limits: "wisp" with a `message` listener, "wisp_handler" with a subscription
 *  handler instead; "mqtt_js" and "tinymqtt", the EspruinoDocs modules, when `modulesDir` holds them. */
export function espruinoClients(port, modulesDir = process.env.ESPRUINO_MODULES_DIR || "") {
  const { wisp: file, ...extra } = WISP_MODULES;
  const wisp = (key, handler) => ({
    key, module: "wisp", file, extra,
    create: `mod.create("127.0.0.1", { port: ${port}, client_id: "e-${key}", limits: ${JSON.stringify(esp8266Limits())} })`,
    subscribe: handler ? `c.subscribe(TOPIC, { qos: 0 }, onHandlerMessage)` : `c.subscribe(TOPIC)`,
    hook: handler ? "" : `c.on("message", onListenerMessage)`,
    subscribedEvent: "subscribed", drain: `c.on("drain", batch)`,
  });
  const list = [wisp("wisp", false), wisp("wisp_handler", true)];
  if (modulesDir && existsSync(join(modulesDir, "MQTT.js"))) list.push({
    key: "mqtt_js", module: "MQTT", file: join(modulesDir, "MQTT.js"),
    create: `mod.create("127.0.0.1", { port: ${port}, client_id: "e-mqttjs" })`,
    subscribe: `c.subscribe(TOPIC)`, hook: `c.on("message", onListenerMessage)`,
    subscribedEvent: "subscribed", drain: `c.client.on("drain", batch)`,
  });
  if (modulesDir && existsSync(join(modulesDir, "tinyMQTT.js"))) list.push({
    key: "tinymqtt", module: "tinyMQTT", file: join(modulesDir, "tinyMQTT.js"),
    create: `mod.create("127.0.0.1", { port: ${port} })`,
    subscribe: `c.subscribe(TOPIC)`, hook: `c.on("message", onTinyMessage)`,
    subscribedEvent: null, drain: `c.cl.on("drain", batch)`,
  });
  return list;
}

/** Espruino code: the functions through which each client's messages reach onMessage(payload), made
 *  before the bare-heap mark so that they are not counted as the client's. */
export const MESSAGE_HOOKS = `function onListenerMessage(t, m) { onMessage(m); }
function onHandlerMessage(m) { onMessage(m.text()); }
function onTinyMessage(o) { onMessage(o.message); }`;

/** What went wrong on the interpreter, in one line, from its output. */
export function interpreterTrouble(text) {
  const m = text.match(/New interpreter error: [A-Z_,]+|OUT OF MEMORY[^\r\n]*|ASSERT\([^\r\n]*|Uncaught[^\r\n]*|TIMED OUT[^\r\n]*|Execution Interrupted[^\r\n]*/);
  return m ? m[0].trim() : null;
}

/** valgrind, when installed (Debian package valgrind): it counts the interpreter's instructions, the
 *  same from one run to the next, where time on a shared machine moves ±20 %. */
export const VALGRIND = ["/usr/bin/valgrind", "/usr/local/bin/valgrind"].find((f) => existsSync(f));

/** Runs `script` as runOnEspruino does (same options), under valgrind's cachegrind: the instructions the
 *  interpreter ran (`refs`) and its output (`text`), or `failed` in one line when no count came. */
export async function countInstructions(script, options) {
  const text = await runOnEspruino(script, { ...options, wrap: [VALGRIND, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"] });
  const m = text.match(/I\s+refs:\s+([\d,]+)/);
  return m ? { refs: +m[1].replace(/,/g, ""), text } : { failed: interpreterTrouble(text) || text.slice(-200), text };
}

/** One client (`c`, from espruinoClients) on interpreter `bin`, module loaded from Storage (as flashed:
 *  function code stays in flash) or from RAM (`require` of the module text in node_modules, as the Web IDE
 *  sends it): JsVars above the bare heap after require, after create, after connect + subscribe (its
 *  SUBACK handled), then whether a 200-byte message it publishes to its own subscription comes back
 *  intact, and the JsVars after that. Bounded: gives up after 12 s. */
export async function measureClient(c, { bin, port, fromStorage }) {
  const text = await runOnEspruino(`
    ${fromStorage ? `${STORE_FILE} ${[c.module, ...Object.keys(c.extra || {})].map((n) => `storeFile(${JSON.stringify(n)}, "node_modules/${n}.js");`).join(" ")}` : ""}
    var TOPIC = "ebench/rt", BIG = ${JSON.stringify(PAYLOAD_200)};
    var r = { require: -1, create: -1, subscribed: -1, after_round_trip: -1, connected: false, round_trip: false, failure: "" };
    var mod = null, c = null, stage = "require", done = false, m0 = 0;
    function used() { return process.memory().usage; }
    function finish() { if (done) return; done = true; print("JSON " + JSON.stringify(r)); print("DONE"); quit(); }
    function giveUp() { r.failure = "gave up at " + stage; finish(); }
    ${MESSAGE_HOOKS}
    function onMessage(m) { if (stage !== "round trip") return; stage = "measure"; if (m !== BIG) { r.failure = "payload changed: " + m.length + " bytes came back"; return finish(); } setTimeout(afterRoundTrip, 1); }
    function afterRoundTrip() { r.after_round_trip = used() - m0; r.round_trip = true; finish(); }
    function afterSubscribe() {
      r.subscribed = used() - m0;
      stage = "round trip";
      try { c.publish(TOPIC, BIG); } catch (e) { r.failure = "publish threw " + e; finish(); }
    }
    function onSubscribed() { if (stage === "subscribe") setTimeout(afterSubscribe, ${c.subscribedEvent ? 1 : 300}); }
    function onConnected() {
      if (stage !== "connect") return;
      r.connected = true;
      stage = "subscribe";
      ${c.subscribe};
      ${c.subscribedEvent ? "" : "onSubscribed();"}
    }
    function begin() {
      m0 = used();
      mod = require(${JSON.stringify(c.module)});
      r.require = used() - m0;
      stage = "create";
      c = ${c.create};
      r.create = used() - m0;
      stage = "connect";
      ${c.hook};
      ${c.subscribedEvent ? `c.on(${JSON.stringify(c.subscribedEvent)}, onSubscribed);` : ""}
      c.on("connected", onConnected);
      c.connect();
    }
    var guard = setTimeout(giveUp, 12000);
    // The bare heap is measured once this file's text, held while it runs, is gone.
    setTimeout(begin, 1);
  `, { bin, modules: { [c.module]: c.file, ...c.extra }, timeoutMs: 20000, keepOnTimeout: true });
  return measuredClient(text, ["require", "create", "subscribed", "after_round_trip"]);
}

/** A client measurement's result from the interpreter's output `text` (its "JSON {…}" line): the
 *  figures in `keys` still -1 (never reached) as null, the interpreter's trouble in one line, no empty
 *  failure. */
export function measuredClient(text, keys) {
  const m = text.match(/JSON (\{.*\})/);
  const r = m ? JSON.parse(m[1]) : { round_trip: false, failure: "no result" };
  for (const k of keys) if (r[k] === -1) r[k] = null;
  const trouble = interpreterTrouble(text);
  if (trouble) r.interpreter = trouble;
  if (!r.failure) delete r.failure;
  return r;
}

/** Boots firmware bundle `file` on `bin` as a board boots it after `npm run flash`: Storage file
 *  ".bootcde", run by load() at the top level (code evaluated inside a function would give every function
 *  of the firmware a copy of that function's scope list, about 3 JsVars each, which a board does not
 *  pay), with `stored` as its wisp.json, and `watcher` as Storage file ".boot0", which Espruino runs
 *  before ".bootcde" (its functions and timer are made before the firmware's); the watcher prints "DONE"
 *  when it is done (load() leaves the Linux build without quit()). Resolves with the console output. */
function bootAsBoard(file, stored, watcher, { bin, timeoutMs }) {
  return runOnEspruino(`
    ${STORE_FILE}
    require("Storage").write("wisp.json", ${JSON.stringify(JSON.stringify(stored))});
    require("Storage").write(".boot0", ${JSON.stringify(watcher)});
    storeFile(".bootcde", "node_modules/fw.js");
    setTimeout(load, 1);
  `, { bin, modules: { fw: file }, timeoutMs, keepOnTimeout: true, until: "DONE" });
}

/** A firmware bundle booted as a board boots it (bootAsBoard) with `config` as its wisp.json (brokers
 *  filled in): the JsVars used and free once it is connected (the firmware's own: above the mark the
 *  watcher takes before it runs), the lowest free seen over the next `watchMs`, and whether its messages
 *  reached the broker (a subscriber to wisp/<device>/#). Bounded: gives up 10 s after start when not
 *  connected. */
export async function bootFirmware(file, config, { bin, port, watchMs = 3000 }) {
  const sub = await mqttConnected(port, `fw-watch-${config.device}`);
  let messages = 0;
  sub.on("message", (topic) => { if (!topic.endsWith("/status")) messages++; });
  await sub.subscribeAsync(`wisp/${config.device}/#`);
  const stored = { ...config, brokers: [`127.0.0.1:${port}`] };
  const text = await bootAsBoard(file, stored, `
    var r = { used: 0, free: 0, heap_total: 0, firmware: 0, min_free: 0, connected: false }, start = getTime(), done = false;
    function finish() { if (done) return; done = true; print("JSON " + JSON.stringify(r)); print("DONE"); }
    function watch() {
      var m = process.memory();
      if (!r.connected) {
        if (!global.mqtt || !mqtt.connected) { if (getTime() - start > 10) finish(); return; }
        r.connected = true; r.used = m.usage; r.free = m.free; r.heap_total = m.total; r.firmware = m.usage - r.firmware; r.min_free = m.free; start = getTime();
        return;
      }
      if (m.free < r.min_free) r.min_free = m.free;
      if (!mqtt.connected) r.connected = false;
      if (getTime() - start > ${watchMs / 1000}) finish();
    }
    setInterval(watch, 100);
    r.firmware = process.memory().usage;`, { bin, timeoutMs: 30000 });
  sub.end(true);
  const m = text.match(/JSON (\{.*\})/);
  const r = m ? JSON.parse(m[1]) : { connected: false, failure: "no result" };
  r.messages_at_broker = messages;
  const trouble = interpreterTrouble(text);
  if (trouble) r.interpreter = trouble;
  return r;
}

/** The sensor firmware booted as a board boots it (bootAsBoard) against whatever listens on `port`:
 *  its "mqtt: " console lines, the lowest free JsVars over `watchMs`, any interpreter trouble, and
 *  whether the watch finished. */
export async function bootFirmwareAgainst(port, { bin, file = "dist/firmware-linux.js", watchMs = 6000 }) {
  const stored = { brokers: [`127.0.0.1:${port}`], app: "sensor", device: "fw-junk", period_s: 1 };
  const text = await bootAsBoard(file, stored, `
    var minFree = 1e9, start = getTime();
    function watch() {
      var m = process.memory();
      if (m.free < minFree) minFree = m.free;
      if (getTime() - start > ${watchMs / 1000}) { print("JSON " + JSON.stringify({ min_free: minFree })); print("DONE"); }
    }
    setInterval(watch, 100);`, { bin, timeoutMs: watchMs + 20000 });
  const m = text.match(/JSON (\{.*\})/);
  return { lines: text.split(/\r?\n/).filter((l) => l.includes("mqtt: ")), min_free: m ? JSON.parse(m[1]).min_free : null, trouble: interpreterTrouble(text), done: text.includes("DONE") };
}
