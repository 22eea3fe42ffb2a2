// Soak (bench, not a test): N simulated quadruped boards (dist/firmware-esp32.js in the host simulator)
// against one Mosquitto for a long time. Prints, per minute and at the end: unexpected disconnects
// (`disconnected` events of the boards' clients), `offline` wills seen on wisp/<device>/status, and the
// telemetry received against rate × time (a shortfall with no sequence gaps and no BUSY refusals is
// the boards' timers running late on a loaded host: see host_load_1min). Nothing is injected: every
// disconnect is a fault.
//   node bench/soak.mjs [--boards 20] [--minutes 30] [--rate 10]   (env SOAK_BOARDS, SOAK_MINUTES, SOAK_RATE)
// Build first (npm run build). The last line is the summary as JSON.
import os from "node:os";
import mqtt from "mqtt";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { startMosquitto } from "../test/helpers/brokers.mjs";

/** A positive number from --name or the env var, else the default; anything else ends the run in one line. */
function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i > 0 ? process.argv[i + 1] : process.env[env];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(n > 0)) {
    console.error(`soak: --${name} (${env}) must be a positive number, not "${raw}"`);
    process.exit(2);
  }
  return n;
}
const known = new Set(["--boards", "--minutes", "--rate"]);
for (let i = 2; i < process.argv.length; i += 2) {
  if (!known.has(process.argv[i])) {
    console.error(`soak: unknown option ${process.argv[i]} (use --boards N, --minutes M, --rate HZ)`);
    process.exit(2);
  }
}
const BOARDS = Math.round(option("boards", "SOAK_BOARDS", 20));
const MINUTES = option("minutes", "SOAK_MINUTES", 30);
const RATE = option("rate", "SOAK_RATE", 10);

const broker = await startMosquitto();
const watcher = mqtt.connect(`mqtt://${broker.url}`, { reconnectPeriod: 500 });
watcher.on("error", () => {});
await new Promise((r) => watcher.once("connect", r));
let watcherDrops = 0;
watcher.on("close", () => watcherDrops++);

/** Per device: telemetry count, first/last arrival (ms), sequence numbers missing, offline wills, events. */
const devices = new Map();
const device = (id) => {
  if (!devices.has(id)) devices.set(id, { telemetry: 0, first: 0, last: 0, lastN: -1, gaps: 0, offline: 0, online: 0, busy: 0, disconnects: [] });
  return devices.get(id);
};
watcher.on("message", (topic, payload) => {
  const [, id, kind] = topic.split("/");
  const d = device(id);
  const text = String(payload);
  if (kind === "telemetry") {
    const now = performance.now();
    if (!d.telemetry) d.first = now;
    d.last = now;
    d.telemetry++;
    const n = JSON.parse(text).n;
    if (d.lastN >= 0 && n !== d.lastN + 1) d.gaps += Math.max(0, n - d.lastN - 1);
    d.lastN = n;
  } else if (kind === "status") {
    if (text === "offline") d.offline++;
    else if (text === "online") d.online++;
  }
});
await watcher.subscribeAsync(["wisp/+/telemetry", "wisp/+/status"], { qos: 1 });

const t0 = performance.now();
const boards = [];
for (let i = 0; i < BOARDS; i++) {
  const id = `soak-${String(i).padStart(2, "0")}`;
  const board = new SimBoard({ board: "esp32", serial: `50ac${String(i).padStart(8, "0")}`, config: { brokers: [broker.url], device: id, rate_hz: RATE } }).boot();
  board.client.on("disconnected", (reason) => device(id).disconnects.push(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${reason}`));
  board.client.on("busy", () => device(id).busy++); // publishes refused (BUSY): telemetry not sent
  boards.push(board);
}

function summary() {
  let telemetry = 0, expected = 0, disconnects = 0, offline = 0, gaps = 0, online = 0, busy = 0;
  for (const [, d] of devices) {
    telemetry += d.telemetry;
    // rate × the time between this board's first and last telemetry, plus the first one.
    if (d.telemetry) expected += Math.floor(((d.last - d.first) / 1000) * RATE) + 1;
    disconnects += d.disconnects.length;
    offline += d.offline;
    online += d.online;
    gaps += d.gaps;
    busy += d.busy;
  }
  return { boards: BOARDS, minutes: +((performance.now() - t0) / 60000).toFixed(2), rate_hz: RATE, unexpected_disconnects: disconnects, offline_wills: offline, online_status: online,
    telemetry, expected_rate_x_time: expected, telemetry_ratio: expected ? +(telemetry / expected).toFixed(4) : 0, sequence_gaps: gaps, refused_busy: busy, watcher_drops: watcherDrops,
    host_load_1min: +os.loadavg()[0].toFixed(2) };
}

console.log(`soak: ${BOARDS} boards at ${RATE} Hz for ${MINUTES} min against Mosquitto ${broker.url}`);
const minute = setInterval(() => console.log(JSON.stringify(summary())), 60000);
await new Promise((r) => setTimeout(r, MINUTES * 60000));
clearInterval(minute);
const result = summary();
for (const b of boards) b.powerOff();
for (const [id, d] of [...devices].sort()) {
  if (d.disconnects.length) console.log(`${id}: disconnected ${d.disconnects.join("; ")}`);
  if (d.offline) console.log(`${id}: ${d.offline} offline will(s)`);
}
console.log(`soak: ${result.unexpected_disconnects} unexpected disconnects, ${result.offline_wills} offline wills, ` +
  `${result.telemetry} telemetry messages of ${result.expected_rate_x_time} (rate × time; ratio ${result.telemetry_ratio}), ${result.sequence_gaps} sequence gaps, ${result.refused_busy} publishes refused (BUSY)`);
console.log(JSON.stringify(result));
watcher.end(true);
await broker.stop();
process.exit(0);
