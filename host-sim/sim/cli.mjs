#!/usr/bin/env node
// The main job (npm start): builds if needed, starts an embedded Aedes broker on loopback (or uses
// --broker), boots simulated boards running the built firmware, and shows their live telemetry while
// taking gait commands from the keyboard (or from any MQTT client on wisp/<device>/cmd).
import net from "node:net";
import mqtt from "mqtt";
import { Aedes } from "aedes";
import { SimBoard } from "./board.mjs";
import { readBoard, BoardError, ConfigError, configSpec, validateConfig } from "../../boards/schema.mjs";
import { buildIfNeeded } from "./build.mjs";
import { parseOptions, helpText, runCommand, UsageError } from "../cli-options.mjs";
import { secureBroker } from "./secure.mjs";
import { startWebServer, webOptions } from "../web/server.mjs";
import { createFleetState, record, screen, linkWatch } from "./view.mjs";

const COMMAND = "npm start";
const KEYS = "keys: 1 stand  2 walk  3 trot  4 turn  5 sit  +/- speed  [/] heading  space stop  w drop Wi-Fi 3 s  q quit";

/** npm start's options: parsed, checked and listed in --help from this one table. */
export const OPTIONS = {
  board: { type: "string", value: "NAME", default: "esp32", help: "the board to simulate: a file in boards/ (esp32, esp8266, linux)", check: (name) => boardProblem(name) },
  app: { type: "string", value: "NAME", help: "the app to run: one the board's firmware has (boards/<name>.json \"apps\"); default its \"defaults\".app" },
  devices: { type: "integer", value: "N", default: 1, min: 1, max: 500, help: "boards in the fleet, each in its own context (ids wisp-sim-1 … wisp-sim-N)" },
  broker: { type: "string", value: "URL", help: "an MQTT broker to use instead of the embedded Aedes: mqtt://host:port, or mqtts://user:password@host:8883 (TLS)", check: (url) => (brokerAddress(url) ? null : "not a broker address: give mqtt://host:port or mqtts://user:password@host:port"), mask: (url) => url.replace(/\/\/[^@/]*@/, "//…@") },
  username: { type: "string", value: "USER", help: "the broker's user name (over the one in --broker)" },
  password: { type: "string", value: "PASSWORD", help: "the broker's password (over the one in --broker)", mask: () => "…" },
  ca: { type: "string", value: "CA.pem", help: "the CA certificate, PEM (with an mqtts:// broker)" },
  cert: { type: "string", value: "CLIENT.pem", help: "the client certificate, PEM (with an mqtts:// broker)" },
  key: { type: "string", value: "CLIENT.key", help: "the client key, PEM, not encrypted (with an mqtts:// broker)" },
  rate: { type: "integer", value: "HZ", spec: configSpec("rate_hz"), help: "quadruped telemetry per second (rate_hz)" },
  period: { type: "integer", value: "S", spec: configSpec("period_s"), help: "seconds between sensor readings (period_s)" },
  http: { type: "integer", value: "PORT", min: 0, max: 65535, help: "the port of the live telemetry page (default: a free one)" },
  "no-http": { type: "boolean", help: "serve no telemetry page" },
  "ws-url": { type: "string", value: "URL", help: "the --broker's MQTT-over-WebSocket listener for the page, ws://host:port", check: (u) => (/^wss?:\/\/[^/\s]+/.test(u) ? null : "is not a ws:// or wss:// URL") },
  duration: { type: "number", value: "S", min: 0.1, help: "quit after this many seconds (default: run until q or Ctrl-C)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

function boardProblem(name) {
  try {
    readBoard(name);
    return null;
  } catch (e) {
    if (e instanceof BoardError) return e.message;
    throw e;
  }
}

/** {host, port} of "mqtt://host:port", "mqtts://user:password@host:port", "host:port" or "host", or null. */
function brokerAddress(url) {
  let u;
  try {
    u = new URL(/^[a-z]+:\/\//.test(url) ? url : `mqtt://${url}`);
  } catch {
    return null;
  }
  if ((u.protocol !== "mqtt:" && u.protocol !== "mqtts:") || !u.hostname || (u.pathname && u.pathname !== "/")) return null;
  return { host: u.hostname, port: +u.port || (u.protocol === "mqtts:" ? 8883 : 1883) };
}

/** Resolves when something accepts TCP connections at host:port; rejects with a UsageError after
 *  `timeoutMs` or a refusal, saying what to do. */
function reachable({ host, port }, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const fail = (why) => { s.destroy(); reject(new UsageError(`cannot reach the broker at ${host}:${port} (${why}): start it, or leave out --broker to use the embedded one`, 1)); };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs / 1000} s`), timeoutMs);
    s.once("connect", () => { clearTimeout(timer); s.destroy(); resolve(); });
    s.once("error", (e) => { clearTimeout(timer); fail(e.code === "ECONNREFUSED" ? "connection refused" : e.code || e.message); });
  });
}

async function embeddedBroker() {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const listen = (port) => new Promise((resolve, reject) => { server.once("error", reject); server.listen(port, "127.0.0.1", () => resolve(server.address().port)); });
  const port = await listen(1883).catch(() => listen(0));
  return { url: `127.0.0.1:${port}`, aedes, close: () => { server.close(); aedes.close(); } };
}

/** The board's configuration from the options, checked against the firmware's schema. */
function configFor(args, data, device, brokerUrl) {
  const app = args.app ?? data.defaults.app;
  if (!data.apps.includes(app)) throw new UsageError(`--app ${app}: the ${data.name} firmware has no app "${app}" (it has ${data.apps.join(", ")}): choose one of those`);
  if (args.rate !== undefined && app !== "quadruped") throw new UsageError(`--rate sets the quadruped's telemetry rate; the ${app} app reads every --period seconds`);
  if (args.period !== undefined && app !== "sensor") throw new UsageError(`--period sets the sensor app's reading period; the ${app} app sends telemetry at --rate per second`);
  const config = { brokers: [brokerUrl], device, app };
  if (args.rate !== undefined) config.rate_hz = args.rate;
  if (args.period !== undefined) config.period_s = args.period;
  return validateConfig(config, data, "the simulated board's configuration");
}

async function main() {
  const args = parseOptions(COMMAND, OPTIONS);
  if (args.help) {
    console.log(helpText(`usage: ${COMMAND} -- [options]   (the simulated boards publish on wisp/<device>/…; commands go to wisp/<device>/cmd)`, OPTIONS, [KEYS, "fleet: Tab / p select the next / previous board, a commands all boards"]));
    return;
  }
  const data = readBoard(args.board);
  const count = args.devices;
  const ids = Array.from({ length: count }, (_, i) => (count === 1 ? "wisp-sim" : `wisp-sim-${i + 1}`));
  configFor(args, data, ids[0], "127.0.0.1:1883"); // every mistake said before anything starts
  const given = args.broker && brokerAddress(args.broker);
  // A given broker may want TLS, a password, certificates (secure.mjs); the embedded one wants none.
  let secure = { boardConfig: {}, files: {}, monitor: {}, tls: false };
  if (!given && (args.ca || args.cert || args.key)) throw new UsageError("--ca/--cert/--key need a TLS broker: add --broker mqtts://host:port");
  if (given) {
    try {
      secure = secureBroker(args);
    } catch (e) {
      throw new UsageError(e.message);
    }
    await reachable(given);
  }
  buildIfNeeded(args.board);
  const broker = given ? { url: secure.url, close() {} } : await embeddedBroker();
  // The live telemetry page (host-sim/web/): MQTT over WebSockets, to the embedded broker through the
  // page's own server, or to --ws-url.
  let web = null;
  if (!args["no-http"]) {
    try {
      web = await startWebServer({ ...webOptions({ http: args.http === undefined ? undefined : String(args.http), "ws-url": args["ws-url"] }), devices: ids, aedes: broker.aedes });
    } catch (e) {
      broker.close();
      throw new UsageError(e.message);
    }
    console.log(`telemetry page: ${web.url}${web.wsUrl ? "" : " (it needs --ws-url to reach --broker)"}`);
  }
  const consoleLines = [];
  const say = (line) => { consoleLines.push(line); if (consoleLines.length > 5) consoleLines.shift(); };
  const boards = ids.map((device, i) => new SimBoard({
    board: args.board,
    serial: `5151${String(i).padStart(8, "0")}`,
    config: { ...configFor(args, data, device, broker.url), ...secure.boardConfig },
    files: secure.files,
    log: (line) => say(`${device}: ${line}`),
  }).boot());
  const app = args.app ?? data.defaults.app;
  const failsafeMs = data.defaults.failsafe_ms;

  // The monitor: an ordinary MQTT client watching what the boards publish.
  const monitor = mqtt.connect(`${secure.tls ? "mqtts" : "mqtt"}://${broker.url}`, { clientId: `wisp-monitor-${process.pid}`, reconnectPeriod: 1000, ...secure.monitor });
  let monitorProblem = "";
  monitor.on("error", (e) => { monitorProblem = `monitor: ${e.message}`; });
  monitor.on("connect", () => { monitorProblem = ""; });
  monitor.on("offline", () => { monitorProblem = `monitor: the broker at ${broker.url} is unreachable, retrying`; });
  const state = createFleetState(ids);
  monitor.on("message", (topic, payload) => record(state, topic, payload));
  monitor.subscribe(["wisp/+/telemetry", "wisp/+/status", "wisp/+/event"]);

  const watch = ids.map((id) => linkWatch(id, say, app === "quadruped" ? failsafeMs : Infinity));
  const live = (b, i) => watch[i](Boolean(b.client && b.client.connected), b.wifi.connected);

  let selected = 0;
  const firmwareBytes = boards[0].hw.codeBytes;
  const info = () => ({
    title: `Wisp host simulator — ${count} × ${args.board} (${data.description}), app ${app} — broker ${secure.tls ? "mqtts://" : ""}${broker.url}${given ? "" : " (embedded Aedes)"}${monitorProblem ? ` — ${monitorProblem}` : ""}`,
    memory: `heap ${data.jsvars.toLocaleString("en-US")} JsVars on a real ${args.board}; firmware ${firmwareBytes.toLocaleString("en-US")} B, run from flash; JsVars in use are not simulated (npm run bench measures them on the interpreter)`,
    page: web && web.url,
    rows: process.stdout.rows,
  });
  const view = () => screen(state, boards.map((b, i) => ({ id: ids[i], live: live(b, i) })), selected, info(), consoleLines);

  const cmd = { gait: "stand", speed: 0.5, heading: 0 };
  const send = () => {
    for (const id of selected === -1 ? ids : [ids[selected]]) monitor.publish(`wisp/${id}/cmd`, JSON.stringify(cmd), { qos: 1 });
  };

  const tty = process.stdout.isTTY && process.stdin.isTTY;
  const render = setInterval(() => {
    const lines = view();
    if (tty) process.stdout.write("\x1b[H\x1b[2J" + [...lines, "", KEYS].join("\n") + "\n");
    else console.log(lines.slice(1, count > 1 ? 2 : 3).join(" | "));
  }, tty ? 250 : 1000);

  function quit() {
    clearInterval(render);
    for (const b of boards) b.powerOff();
    monitor.end(true);
    if (web) web.close();
    broker.close();
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.exit(0);
  }

  if (tty) {
    process.stdin.setRawMode(true);
    process.stdin.on("data", (d) => {
      const k = String(d);
      const gaits = { 1: "stand", 2: "walk", 3: "trot", 4: "turn", 5: "sit" };
      if (k === "q" || k === "\u0003") return quit();
      if (k === "\t" || k === "p") return void (selected = (Math.max(0, selected) + (k === "p" ? count - 1 : 1)) % count);
      if (k === "a" && count > 1) return void (selected = selected === -1 ? 0 : -1);
      if (k === "w") return (selected === -1 ? boards : [boards[selected]]).forEach((b) => b.wifi.drop(3000));
      if (app !== "quadruped") return;
      if (gaits[k]) cmd.gait = gaits[k];
      else if (k === "+") cmd.speed = Math.min(1, +(cmd.speed + 0.1).toFixed(1));
      else if (k === "-") cmd.speed = Math.max(0, +(cmd.speed - 0.1).toFixed(1));
      else if (k === "[") cmd.heading = Math.max(-180, cmd.heading - 15);
      else if (k === "]") cmd.heading = Math.min(180, cmd.heading + 15);
      else if (k === " ") cmd.gait = "stand";
      else return;
      send();
    });
  }
  process.on("SIGINT", quit);
  process.on("SIGTERM", quit);
  if (args.duration) setTimeout(quit, args.duration * 1000);
}

if (import.meta.url === `file://${process.argv[1]}`) runCommand(COMMAND, main, [BoardError, ConfigError]);
