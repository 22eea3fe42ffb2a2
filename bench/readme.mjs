// Turns the result lines of `npm run bench` into tables, one per interpreter heap (default, 1700, 1600):
// printed at the end of every run, and with --readme written into README.md between the bench:begin and
// bench:end markers of each heap, with the date, machine and interpreter they were measured on.
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

/** The heaps in the order of the README's sections; "" is the default build's marker. */
export const SECTIONS = [
  { heap: "default", marker: "", title: "On Espruino's default Linux build (a heap that grows, 27-byte blocks):" },
  { heap: "1700", marker: "1700", title: "On a fixed 1,700-JsVar heap (16-byte blocks, as an ESP8266_BOARD build):" },
  { heap: "1600", marker: "1600", title: "On a fixed 1,600-JsVar heap (16-byte blocks, as an ESP8266_4MB build: NodeMCU, Wemos D1 mini):" },
];

const n = (x) => (typeof x === "number" ? x.toLocaleString("en-US") : x === undefined || x === null ? "–" : String(x));
/** A median with its spread over the runs, when there was more than one. */
const ranged = (r, key) => { const x = r[`${key}_range`]; return x && x[0] !== x[1] ? `${n(r[key])} (${n(x[0])}–${n(x[1])})` : n(r[key]); };
const met = (r) => (r.met === true ? "met" : r.met === false ? "**not met**" : "");
const clean = (s) => String(s).replace(/[|\n\r]/g, " ").trim();
const CLIENTS = ["wisp", "mqtt_js", "tinymqtt"];

/** A client's JsVars after require / create / connect + subscribe, or why there are none. */
function jsvars(c) {
  if (!c) return "";
  if (c.require === null) return `failed at require: ${clean(c.interpreter || c.failure || "?")}`;
  return `${n(c.require)} / ${n(c.create)} / ${c.subscribed === null ? `– (${clean(c.failure || c.interpreter || "?")})` : n(c.subscribed)}`;
}
/** Whether a client's 200-byte round trip worked, with the reason when not. */
function roundTrip(c) {
  if (!c) return "";
  return c.round_trip ? "yes" : `no: ${clean(c.failure || "")}${c.interpreter && c.interpreter !== c.failure ? `; ${clean(c.interpreter)}` : ""}`;
}
/** A firmware run: JsVars free once connected (and the lowest after), or why it did not get there. */
function firmwareCell(r) {
  if (r.failed) return `not measured: ${clean(r.failed)}`;
  if (!r.heap_total) return `did not connect${r.interpreter ? `: ${clean(r.interpreter)}` : ""}`;
  return `${n(r.free)} free (lowest ${n(r.min_free)}) of ${n(r.heap_total)}; firmware ${n(r.firmware)} JsVars; ${r.messages_at_broker} messages at the broker${r.connected ? "" : "; then LOST the connection"}${r.interpreter ? `; ${clean(r.interpreter)}` : ""}`;
}

/** Markdown for the lines of `results` that belong to `heap` (the default section also gets the Node
 *  and size lines). */
export function resultsMarkdown(results, { mosquitto = "?" } = {}, heap = "default") {
  const cpu = os.cpus()[0];
  const mine = results.filter((r) => (r.heap ? r.heap === heap : heap === "default"));
  const about = mine.find((r) => r.bench === "espruino-interpreter");
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench -- --readme\` on ${cpu ? cpu.model : "?"} × ${os.cpus().length}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GB (load average ${os.loadavg()[0].toFixed(1)} at the end: rates fall when the machine is busy), Node ${process.version}, Mosquitto ${mosquitto}` +
      (about ? `, ${about.interpreter}; references: EspruinoDocs \`MQTT.js\` and \`tinyMQTT.js\`, minified. JsVars are "require / create / connect + subscribe" above a bare heap.` : "."),
    "",
    "| case | Wisp (or what the row measures) | MQTT.js (Espruino) | tinyMQTT | target | |",
    "|---|---|---|---|---|---|",
  ];
  const row = (...cells) => lines.push(`| ${cells.join(" | ")} |`);
  for (const r of mine) {
    if (r.bench === "size") row(`size of \`${r.artifact}\``, `${n(r.minified_bytes)} B (${n(r.gzipped_bytes)} B gzipped)`, "", "", "", "");
    else if (r.bench === "codec") row("codec: 40 B QoS 1 PUBLISH encode + decode, Node", `${n(r.wisp_ops_s)}/s, ${r.gc_events} GCs`, `mqtt-packet ${n(r.mqtt_packet_ops_s)}/s`, "", "", "");
    else if (r.bench === "e2e-throughput") row(`Node, through Mosquitto: QoS ${r.qos}, ${n(r.messages)} msgs`, `${n(r.wisp_in_host_sim.msg_s)} msg/s (host simulator, ${r.qos ? r.wisp_limits : "536 B per loop pass"})`, `npm mqtt ${n(r.mqtt_js.msg_s)} msg/s${r.qos ? " (64 per batch)" : ""}`, "", "", "");
    else if (r.bench === "e2e-latency") row(`Node: publish→receive latency QoS ${r.qos}, 1 msg / ${r.every_ms} ms, p50 / p99`, `${r.wisp_in_host_sim.p50_ms} / ${r.wisp_in_host_sim.p99_ms} ms`, `npm mqtt ${r.mqtt_js.p50_ms} / ${r.mqtt_js.p99_ms} ms`, "", "", "");
    else if (r.bench === "espruino-library-storage" || r.bench === "espruino-library-ram") {
      const from = r.bench.endsWith("storage") ? "library from Storage (as flashed), ESP8266 limits" : "library as text in RAM (`require` of the module files' text, `node_modules/` on the Linux build), ESP8266 limits";
      row(`Espruino: ${from}: JsVars after require / create / connect + subscribe`, ...CLIENTS.map((k) => jsvars(r[k])), r.target_jsvars || "", met({ met: r.met_jsvars }));
      row(`Espruino: ${from}: a 200-byte message published to its own subscription comes back`, ...CLIENTS.map((k) => roundTrip(r[k])), r.target_round_trip || "", met({ met: r.met_round_trip }));
    } else if (r.bench === "espruino-library-web-ide") {
      const from = "library uploaded as the Web IDE sends it (the espruino CLI over the console, modules as `.min.js` in a folder: one `Modules.addCached` line each), ESP8266 limits";
      const vars = (c) => (!c ? "" : c.loaded === undefined ? `failed: ${clean(c.interpreter || c.failure || "?")}` : `${n(c.loaded)} / ${n(c.create)} / ${c.subscribed === null ? `– (${clean(c.failure || c.error || "?")})` : n(c.subscribed)}`);
      row(`Espruino: ${from}: JsVars above the console's bare heap once loaded / created / connected + subscribed`, ...CLIENTS.map((k) => vars(r[k])), "", "");
      row(`Espruino: ${from}: a 200-byte message published to its own subscription comes back (JsVars free then)`, ...CLIENTS.map((k) => (r[k] ? `${roundTrip(r[k])}${r[k].round_trip ? ` (${n(r[k].free_after)} free)` : ""}` : "")), r.target_round_trip || "", met({ met: r.met_round_trip }));
    } else if (r.bench === "espruino-library-web-ide-js") {
      const c = r.wisp;
      row("Espruino: the same with Wisp's files offered as `.js`, which the Web IDE minifies again (esmangle): JsVars once loaded / created / connected + subscribed; round trip", c.loaded === undefined ? `failed: ${clean(c.interpreter || c.failure || "?")}` : `${n(c.loaded)} / ${n(c.create)} / ${c.subscribed === null ? "–" : n(c.subscribed)}; ${roundTrip(c)}${c.round_trip ? ` (${n(c.free_after)} free)` : ""}`, "", "", "", "");
    } else if (r.bench === "espruino-firmware") row(`Espruino: firmware ${r.artifact.startsWith("dist/") ? `\`${r.artifact}\`` : r.artifact}${r.app ? ` (${r.app} app, ${r.limits})` : ""} booted from Storage as a board boots it (\`.bootcde\`, run by \`load()\`): JsVars free once connected`, firmwareCell(r), "", "", r.target || "", met(r));
    else if (r.bench === "espruino-publish-qos0") {
      const tail = `; median of ${r.median_of} rounds (range)`;
      row(`Espruino: socket floor, the same pre-encoded 63 B PUBLISH string written per publish, 16 per drain${tail}`, `${ranged(r, "floor")} msg/s`, "", "", "", "");
      row(`Espruino: a publish that only concatenates header + topic + payload (String.fromCharCode of the 4 header bytes + topic + payload, one write), 16 per drain${tail}`, `${ranged(r, "concat")} msg/s`, "", "", "", "");
      row(`Espruino: ${r.what}, refused publishes retried on the next drain${tail}`, `${ranged(r, "wisp")}${r.wisp_refused ? ` (${n(r.wisp_refused)} refused)` : ""}`, ranged(r, "mqtt_js"), ranged(r, "tinymqtt"), r.target, met(r));
    } else if (r.bench === "espruino-receive-qos0") {
      const tail = `; median of ${r.median_of} rounds (range)`;
      const got = (k) => (r.received && r.received[k] !== undefined && r.received[k] !== 1000 ? `, ${n(r.received[k])} of 1,000 received` : "");
      row(`Espruino: ${r.what}${tail}`, `${ranged(r, "wisp")}${got("wisp")} with a \`message\` listener; ${ranged(r, "wisp_handler")}${got("wisp_handler")} with a subscription handler`, `${ranged(r, "mqtt_js")}${got("mqtt_js")}`, `${ranged(r, "tinymqtt")}${got("tinymqtt")}`, "≥ MQTT.js, both ways", met(r));
    } else if (r.bench === "espruino-codec-profile") row("Espruino: calls/s of each codec step on a 40 B PUBLISH (minified codec)", r.failed ? `failed: ${clean(r.failed)}` : Object.entries(r).filter(([k]) => !["bench", "unit", "heap"].includes(k)).map(([k, v]) => `${k} ${n(v)}`).join(", "), "", "", "", "");
    else if (r.bench === "espruino-session-profile") row("Espruino: the session alone on a scripted socket, msg/s, best of 5 rounds (dist/wisp.js in RAM, ESP8266 limits)", r.failed ? `failed: ${clean(r.failed)}` : Object.entries(r).filter(([k]) => !["bench", "unit", "heap"].includes(k)).map(([k, v]) => `${k} ${n(v)}`).join(", "), "", "", "", "");
    else if (r.bench === "espruino-instructions" && !r.skipped) {
      const cell = (w, k) => (typeof r[w][k] === "number" ? `${n(r[w][k])}` : r[w][k] || "");
      row("Espruino: interpreter instructions per received message (valgrind count, steady run to run), scripted socket, 5 × 62 B PUBLISH to a chunk (as Mosquitto delivered them)", `${cell("receive_5", "wisp")} with a \`message\` listener; ${cell("receive_5", "wisp_handler")} with a subscription handler`, cell("receive_5", "mqtt_js"), "", "receive ≤ MQTT.js, publish ≤ tinyMQTT (all rows)", met(r));
      row("Espruino: the same, the stream cut in 536 B chunks (packets split across chunks)", `${cell("receive_536", "wisp")} listener; ${cell("receive_536", "wisp_handler")} handler`, cell("receive_536", "mqtt_js"), "", "", "");
      row("Espruino: interpreter instructions per QoS 0 publish of 63 B, scripted socket", cell("publish", "wisp"), cell("publish", "mqtt_js"), cell("publish", "tinymqtt"), "≤ tinyMQTT", "");
    }
    else if (r.skipped) row(`${r.bench}: skipped`, r.skipped, "", "", "", "");
    else if (r.note) row(`${r.bench}: note`, r.note, "", "", "", "");
  }
  return lines.join("\n");
}

/** Every section's table, for the console. */
export function resultsTables(results, options) {
  return SECTIONS.map((s) => `${s.title}\n\n${resultsMarkdown(results, options, s.heap)}`).join("\n\n");
}

/** Rewrites each heap's table in README.md (a section missing there is added after the last one). */
export function writeReadme(results, options) {
  let readme = readFileSync("README.md", "utf8");
  for (const s of SECTIONS) {
    const begin = `<!-- bench:begin${s.marker ? ` ${s.marker}` : ""} -->`;
    const end = `<!-- bench:end${s.marker ? ` ${s.marker}` : ""} -->`;
    if (readme.indexOf(begin) < 0) {
      const last = readme.lastIndexOf("<!-- bench:end");
      if (last < 0) throw new Error("README.md has no <!-- bench:begin --> … <!-- bench:end --> section");
      const at = readme.indexOf("-->", last) + 3;
      readme = `${readme.slice(0, at)}\n\n${s.title}\n\n${begin}\n${end}${readme.slice(at)}`;
    }
    const a = readme.indexOf(begin);
    const b = readme.indexOf(end);
    if (b < a) throw new Error(`README.md: ${end} comes before ${begin}`);
    readme = `${readme.slice(0, a + begin.length)}\n${resultsMarkdown(results, options, s.heap)}\n${readme.slice(b)}`;
  }
  writeFileSync("README.md", readme);
}
