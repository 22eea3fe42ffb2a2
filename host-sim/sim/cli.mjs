#!/usr/bin/env node
// The main job (npm start): builds if needed, starts an embedded Aedes broker on loopback (or uses
// --broker), boots simulated boards running the built firmware, and shows their live telemetry while
// taking gait commands from the keyboard (or from any MQTT client on wisp/<device>/cmd).
import { parseArgs } from "node:util";
import net from "node:net";
import mqtt from "mqtt";
import { Aedes } from "aedes";
import { SimBoard } from "./board.mjs";
import { readBoard, BoardError } from "../../boards/schema.mjs";
import { buildIfNeeded } from "./build.mjs";
import { secureBroker } from "./secure.mjs";
import { startWebServer, webOptions } from "../web/server.mjs";
const { values: args } = parseArgs({
  options: {
    broker: { type: "string" }, board: { type: "string", default: "esp32" }, app: { type: "string" },
    devices: { type: "string", default: "1" }, duration: { type: "string" }, rate: { type: "string" },
    help: { type: "boolean", short: "h" },
    ca: { type: "string" }, cert: { type: "string" }, key: { type: "string" }, username: { type: "string" }, password: { type: "string" },
    http: { type: "string" }, "no-http": { type: "boolean" }, "ws-url": { type: "string" },
  },
});
if (args.help) {
  console.log(`npm start -- [--board esp32|esp8266|linux] [--app quadruped|sensor] [--devices N]
             [--broker mqtt://host:port] [--rate HZ] [--duration SECONDS]
             [--broker mqtts://user:password@host:8883 --ca CA.pem --cert CLIENT.pem --key CLIENT.key]
             [--username USER --password PASSWORD]
             [--http PORT | --no-http] [--ws-url ws://host:port (the broker's WebSocket listener, with --broker)]
keys: 1 stand  2 walk  3 trot  4 turn  5 sit  +/- speed  [/] heading  space stop  w drop Wi-Fi 3 s  q quit`);
  process.exit(0);
}

async function embeddedBroker() {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const listen = (port) => new Promise((resolve, reject) => { server.once("error", reject); server.listen(port, "127.0.0.1", () => resolve(server.address().port)); });
  const port = await listen(1883).catch(() => listen(0));
  return { url: `127.0.0.1:${port}`, aedes, close: () => { server.close(); aedes.close(); } };
}

let data;
try {
  data = readBoard(args.board);
} catch (e) {
  if (!(e instanceof BoardError)) throw e;
  console.error(e.message);
  process.exit(2);
}
buildIfNeeded(args.board);
// A given broker may want TLS, a password, certificates (secure.mjs); the embedded one wants none.
let secure = { boardConfig: {}, files: {}, monitor: {}, tls: false };
try {
  if (args.broker) secure = secureBroker(args);
  else if (args.ca || args.cert || args.key) throw new Error("--ca/--cert/--key need a TLS broker (--broker mqtts://host:port)");
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const broker = args.broker ? { url: secure.url, close() {} } : await embeddedBroker();
const count = Math.max(1, Number(args.devices) || 1);
const ids = Array.from({ length: count }, (_, i) => (count === 1 ? "wisp-sim" : `wisp-sim-${String(i + 1).padStart(3, "0")}`));
// The live telemetry page (host-sim/web/): MQTT over WebSockets, to the embedded broker through the
// page's own server, or to --ws-url.
let web = null;
if (!args["no-http"]) {
  try {
    web = await startWebServer({ ...webOptions(args), devices: ids, aedes: broker.aedes });
  } catch (e) {
    console.error(e.message);
    broker.close();
    process.exit(2);
  }
  console.log(`telemetry page: ${web.url}${web.wsUrl ? "" : " (it needs --ws-url to reach --broker)"}`);
}
const consoleLines = [];
const boards = ids.map((device, i) => new SimBoard({
  board: args.board,
  serial: `5151${String(i).padStart(8, "0")}`,
  config: { brokers: [broker.url], device, ...secure.boardConfig, ...(args.app ? { app: args.app } : {}), ...(args.rate ? { rate_hz: Number(args.rate) } : {}) },
  files: secure.files,
  log: (line) => { consoleLines.push(`${device}: ${line}`); if (consoleLines.length > 5) consoleLines.shift(); },
}).boot());

// The monitor: an ordinary MQTT client watching what the boards publish.
const monitor = mqtt.connect(`${secure.tls ? "mqtts" : "mqtt"}://${broker.url}`, { clientId: `wisp-monitor-${process.pid}`, ...secure.monitor });
const state = Object.fromEntries(ids.map((id) => [id, { last: null, times: [], status: "?", event: "", count: 0, firstSeq: null, lastSeq: null }]));
monitor.on("message", (topic, payload) => {
  const [, id, kind] = topic.split("/");
  const s = state[id];
  if (!s) return;
  const text = String(payload);
  if (kind === "telemetry") {
    const t = JSON.parse(text);
    s.last = t;
    s.count++;
    s.firstSeq ??= t.n;
    s.lastSeq = t.n;
    const now = Date.now();
    s.times.push(now);
    while (s.times[0] < now - 1000) s.times.shift();
  } else if (kind === "status") s.status = text;
  else if (kind === "event") s.event = text;
});
monitor.subscribe(["wisp/+/telemetry", "wisp/+/status", "wisp/+/event"]);

const cmd = { gait: "stand", speed: 0.5, heading: 0 };
const send = (c) => monitor.publish(`wisp/${ids[0]}/cmd`, JSON.stringify(c), { qos: 1 });
const fmt = (v, d = 1, w = 6) => (typeof v === "number" ? v.toFixed(d).padStart(w) : "".padStart(w));

function screen() {
  const s = state[ids[0]];
  const t = s.last;
  const lines = [
    `Wisp host simulator — ${count} × ${args.board} (${data.description}) — broker ${secure.tls ? "mqtts://" : ""}${broker.url}${args.broker ? "" : " (embedded Aedes)"}`,
    `device ${ids[0]}  status ${s.status}  gait ${t ? t.gait.trim() : "?"}  speed ${t ? t.speed.toFixed(2) : "?"}  heading ${t ? t.heading : "?"}  ${t && t.safe ? "FAILSAFE" : ""}`,
    `telemetry ${s.times.length} msg/s (seq ${s.lastSeq ?? "-"})   battery ${t && t.bat !== undefined ? t.bat.toFixed(2) + " V" : "-"}   memory ${memoryLine(boards[0])}`,
  ];
  if (t && t.j) {
    lines.push("joint angles (°)   hip   thigh   knee");
    ["front-left ", "front-right", "back-left  ", "back-right "].forEach((leg, i) => lines.push(`  ${leg}    ${fmt(t.j[i * 3])} ${fmt(t.j[i * 3 + 1])} ${fmt(t.j[i * 3 + 2])}`));
    lines.push(`IMU accel (g) ${fmt(t.imu[0], 3)} ${fmt(t.imu[1], 3)} ${fmt(t.imu[2], 3)}   gyro (°/s) ${fmt(t.imu[3])} ${fmt(t.imu[4])} ${fmt(t.imu[5])}`);
  } else if (t) lines.push(`reading ${JSON.stringify(t)}`);
  lines.push(`last event ${s.event}`);
  if (count > 1) {
    const rates = ids.map((id) => state[id].times.length);
    const lost = ids.reduce((n, id) => n + (state[id].lastSeq === null ? 0 : state[id].lastSeq - state[id].firstSeq + 1 - state[id].count), 0);
    lines.push(`fleet: ${count} boards, ${rates.reduce((a, b) => a + b, 0)} msg/s total, min ${Math.min(...rates)} max ${Math.max(...rates)} per board, ${lost} telemetry messages unaccounted`);
  }
  if (web) lines.push(`telemetry page ${web.url}`);
  lines.push(...consoleLines, "", "keys: 1 stand  2 walk  3 trot  4 turn  5 sit  +/- speed  [/] heading  space stop  w drop Wi-Fi 3 s  q quit");
  return lines;
}

function memoryLine(b) {
  const m = b.env.context.process.memory();
  return `${m.total} JsVars, code ≈ ${m.usage} (est.)`;
}

function quit() {
  clearInterval(render);
  for (const b of boards) b.powerOff();
  monitor.end(true);
  if (web) web.close();
  broker.close();
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.exit(0);
}

const tty = process.stdout.isTTY && process.stdin.isTTY;
const render = setInterval(() => {
  if (tty) process.stdout.write("\x1b[H\x1b[2J" + screen().join("\n") + "\n");
  else console.log(screen().slice(1, 3).join(" | "));
}, tty ? 250 : 1000);

if (tty) {
  process.stdin.setRawMode(true);
  process.stdin.on("data", (d) => {
    const k = String(d);
    const gaits = { 1: "stand", 2: "walk", 3: "trot", 4: "turn", 5: "sit" };
    if (k === "q" || k === "\u0003") return quit();
    if (gaits[k]) cmd.gait = gaits[k];
    else if (k === "+") cmd.speed = Math.min(1, +(cmd.speed + 0.1).toFixed(1));
    else if (k === "-") cmd.speed = Math.max(0, +(cmd.speed - 0.1).toFixed(1));
    else if (k === "[") cmd.heading = Math.max(-180, cmd.heading - 15);
    else if (k === "]") cmd.heading = Math.min(180, cmd.heading + 15);
    else if (k === " ") cmd.gait = "stand";
    else if (k === "w") return boards[0].wifi.drop(3000);
    else return;
    send(cmd);
  });
}
process.on("SIGINT", quit);
process.on("SIGTERM", quit);
if (args.duration) setTimeout(quit, Number(args.duration) * 1000);
