// Turns the result lines of `npm run bench` into the README's results table (between the bench:begin
// and bench:end markers), with the date, machine and interpreter they were measured on.
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

const n = (x) => (typeof x === "number" ? x.toLocaleString("en-US") : x === undefined || x === null ? "–" : String(x));
/** A median with its spread over the runs, when there was more than one. */
const ranged = (r, key) => { const x = r[`${key}_range`]; return x && x[0] !== x[1] ? `${n(r[key])} (${n(x[0])}–${n(x[1])})` : n(r[key]); };
const met = (r) => (r.met === true ? "met" : r.met === false ? "**not met**" : "–");

/** Markdown for the result lines `results` (objects as printed by bench/run.mjs). */
export function resultsMarkdown(results, { mosquitto = "?" } = {}) {
  const cpu = os.cpus()[0];
  const espruino = results.find((r) => r.interpreter);
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench -- --readme\` on ${cpu ? cpu.model : "?"} × ${os.cpus().length}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, Mosquitto ${mosquitto}` +
      (espruino ? `, ${espruino.interpreter}; references: EspruinoDocs \`MQTT.js\` and \`tinyMQTT.js\`, minified.` : "; no Espruino interpreter (ESPRUINO_BIN unset)."),
    "",
    "| case | Wisp | MQTT.js (Espruino) | tinyMQTT | target | |",
    "|---|---|---|---|---|---|",
  ];
  const row = (...cells) => lines.push(`| ${cells.join(" | ")} |`);
  for (const r of results) {
    if (r.bench === "size") row(`size of \`${r.artifact}\``, `${n(r.minified_bytes)} B (${n(r.gzipped_bytes)} B gzipped)`, "", "", "", "");
    else if (r.bench === "codec") row("codec: 40 B QoS 1 PUBLISH encode + decode, Node", `${n(r.wisp_ops_s)}/s, ${r.gc_events} GCs`, `mqtt-packet ${n(r.mqtt_packet_ops_s)}/s`, "", "", "");
    else if (r.bench === "e2e-throughput") row(`Node, through Mosquitto: QoS ${r.qos}, ${n(r.messages)} msgs`, `${n(r.wisp_in_host_sim.msg_s)} msg/s (host simulator${r.qos ? ", 4 in flight" : ", 536 B per loop pass"})`, `npm mqtt ${n(r.mqtt_js.msg_s)} msg/s${r.qos ? " (64 per batch)" : ""}`, "", "", "");
    else if (r.bench === "e2e-latency") row(`Node: publish→receive latency QoS ${r.qos}, 1 msg / ${r.every_ms} ms, p50 / p99`, `${r.wisp_in_host_sim.p50_ms} / ${r.wisp_in_host_sim.p99_ms} ms`, `npm mqtt ${r.mqtt_js.p50_ms} / ${r.mqtt_js.p99_ms} ms`, "", "", "");
    else if (r.bench === "espruino-jsvars") row(`Espruino: JsVars after require + create + connect + subscribe, code in ${r.module_in}`, n(r.wisp), n(r.mqtt_js), n(r.tinymqtt), r.target, met(r));
    else if (r.bench === "espruino-growth" && r.after_10000_publishes === undefined) row(`Espruino: JsVar growth after 10,000 publishes / 1,000 receives (idle control), ${r.client}`, "not measured (the run did not finish)", "", "", r.target, "–");
    else if (r.bench === "espruino-growth") row(`Espruino: JsVar growth after 10,000 publishes / 1,000 receives (idle control), ${r.client}`, ...["wisp", "mqtt_js", "tinymqtt"].map((k) => (k === r.client ? `${r.after_10000_publishes} / ${r.after_1000_receives} (${r.idle_control})` : "")), r.target, met(r));
    else if (r.bench === "espruino-publish-qos0") row(`Espruino: QoS 0 publish msg/s, ${r.what}, code in ${r.module_in}${r.median_of ? `; median of ${r.median_of} runs (range)` : ""}`, ranged(r, "wisp"), ranged(r, "mqtt_js"), ranged(r, "tinymqtt"), r.target, met(r));
    else if (r.bench === "espruino-receive-qos0") row(`Espruino: receive msg/s, ${r.what}, code in ${r.module_in}${r.median_of ? `; median of ${r.median_of} runs (range)` : ""}`, `${ranged(r, "wisp")} with a \`message\` listener; ${ranged(r, "wisp_subscription_handler")} with a subscription handler`, ranged(r, "mqtt_js"), `${ranged(r, "tinymqtt")}, ${n(r.received.tinymqtt)} of 1,000 received`, r.target, met(r));
    else if (r.bench === "espruino-firmware") row(`Espruino: ${r.what}: JsVars used / free of the heap`, r.failed ? `failed: ${r.failed.replace(/[|\n\r]/g, " ").slice(-120)}` : `${n(r.jsvars_used)} / ${n(r.free)} of ${n(r.heap_total)}${r.connected ? ", connected" : ", NOT connected"}`, "", "", "under an ESP8266's 1,600 (the Linux interpreter's own use included; an ESP8266's Wi-Fi is not)", r.failed ? "**not met**" : r.jsvars_used < 1600 ? "met" : "**not met**");
    else if (r.bench === "espruino-codec-profile") row("Espruino: calls/s of each codec step on a 40 B PUBLISH (minified codec)", r.failed ? `failed: ${r.failed.replace(/[|\n\r]/g, " ").slice(-120)}` : Object.entries(r).filter(([k]) => k !== "bench" && k !== "unit").map(([k, v]) => `${k} ${n(v)}`).join(", "), "", "", "", "");
    else if (r.bench === "espruino" && r.incomplete) row(`Espruino: the ${r.client} run did not finish`, (r.incomplete.match(/New interpreter error: [A-Z_,]+|Uncaught[^\r\n]*/) || ["see the bench output"])[0], "", "", "", "");
    else if (r.skipped) row(`${r.bench}: skipped`, r.skipped, "", "", "", "");
  }
  return lines.join("\n");
}

/** Replaces one of the README's results tables (`section`: "" or a name such as "1700") with the markdown
 *  for `results`. */
export function writeReadme(results, options, section = "") {
  const readme = readFileSync("README.md", "utf8");
  const begin = `<!-- bench:begin${section ? ` ${section}` : ""} -->`;
  const end = `<!-- bench:end${section ? ` ${section}` : ""} -->`;
  const a = readme.indexOf(begin);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${begin} … ${end} section`);
  writeFileSync("README.md", `${readme.slice(0, a + begin.length)}\n${resultsMarkdown(results, options)}\n${readme.slice(b)}`);
}
