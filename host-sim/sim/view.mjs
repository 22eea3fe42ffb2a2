// What npm start shows: the boards' MQTT traffic as the monitor sees it, recorded by `record` and drawn
// by `screen`. Anything on the broker may be junk (any client can publish anything, retained too), so
// a payload is only ever read through checks: a message that is not what a Wisp board sends is counted
// and described, never trusted.

const RATE_WINDOW_MS = 1000;

/** The monitor's view of each board in `ids`. */
export function createFleetState(ids) {
  return Object.fromEntries(ids.map((id) => [id, { telemetry: null, times: [], status: null, event: "", count: 0, firstSeq: null, lastSeq: null, junk: 0, lastJunk: "" }]));
}

/** A payload as short printable text, for saying what arrived. */
const preview = (text, max = 40) => `${text.slice(0, max).replace(/[^\x20-\x7e]/g, "·")}${text.length > max ? `… (${text.length.toLocaleString("en-US")} B)` : ""}`;

/** The telemetry object in `text`, or null when it is not what a Wisp board publishes. */
function telemetryOf(text) {
  let t;
  try {
    t = JSON.parse(text);
  } catch (e) {
    return null;
  }
  return t !== null && typeof t === "object" && !Array.isArray(t) && Number.isFinite(t.n) ? t : null;
}

/** Records one message the monitor received; never throws, whatever the payload. */
export function record(state, topic, payload, now = Date.now()) {
  const [, id, kind] = String(topic).split("/");
  const s = Object.hasOwn(state, id) ? state[id] : null;
  if (!s) return;
  const text = Buffer.isBuffer(payload) ? payload.toString("latin1") : String(payload);
  if (kind === "telemetry") {
    const t = telemetryOf(text);
    if (!t) {
      s.junk++;
      s.lastJunk = `telemetry "${preview(text)}"`;
      return;
    }
    s.telemetry = t;
    s.count++;
    if (s.firstSeq === null || t.n < s.lastSeq) s.firstSeq = t.n - s.count + 1; // a reboot restarts the sequence
    s.lastSeq = t.n;
    s.times.push(now);
  } else if (kind === "status") {
    if (text === "online" || text === "offline") s.status = text;
    else { s.junk++; s.lastJunk = `status "${preview(text)}"`; }
  } else if (kind === "event") s.event = preview(text, 100);
}

/** Telemetry messages received in the last second (counted when drawn, so it falls to 0 offline). */
export function rate(s, now = Date.now()) {
  while (s.times.length && s.times[0] <= now - RATE_WINDOW_MS) s.times.shift();
  return s.times.length;
}

/** Telemetry sequence numbers missing between the first and the last received. */
export function unaccounted(s) {
  return s.lastSeq === null ? 0 : Math.max(0, s.lastSeq - s.firstSeq + 1 - s.count);
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v, d = 1, w = 6) => (isNum(v) ? v.toFixed(d).padStart(w) : "?".padStart(w));
const word = (v) => (typeof v === "string" ? v.trim().slice(0, 12) || "?" : "?");
const nums = (a, n) => Array.isArray(a) && a.length === n && a.every(isNum);

/** One line of a board's latest telemetry: the quadruped's gait or the sensor's reading. */
function summary(t) {
  if (!t) return "no telemetry yet";
  if ("gait" in t) return `gait ${word(t.gait).padEnd(5)}  speed ${num(t.speed, 2, 4)}  heading ${num(t.heading, 0, 4)}`;
  if ("t" in t && "h" in t && "p" in t) return `${num(t.t, 1, 5)} °C  ${num(t.h, 1, 5)} %RH  ${num(t.p, 1, 7)} hPa`;
  return `fields ${Object.keys(t).slice(0, 8).join(", ")}`;
}

/** Follows one simulated board's link, read off the board at each redraw: says each change once on
 *  `say` ("connection lost", "connected again after …") and infers the quadruped's failsafe (no broker
 *  for `failsafeMs`, Infinity for apps without one). Returns (connected, wifi, now?) → {wifi, connected,
 *  failsafe}, the `live` state `screen` draws. */
export function linkWatch(id, say, failsafeMs) {
  let up = false;
  let wasUp = false;
  let since = Date.now();
  return (connected, wifi, now = Date.now()) => {
    if (connected !== up) {
      if (!connected) say(`${id}: connection lost${wifi ? "" : " (Wi-Fi down)"}`);
      else if (wasUp) say(`${id}: connected again after ${((now - since) / 1000).toFixed(1)} s`);
      up = connected;
      since = now;
      wasUp ||= connected;
    }
    return { wifi, connected, failsafe: wasUp && !connected && now - since >= failsafeMs };
  };
}

/** How a board's link looks from the simulator: `live` is {wifi, connected, failsafe} read off the
 *  simulated board itself; `s.status` is its retained status on the broker. */
function linkText(s, live) {
  if (!live.connected) return `${live.wifi ? "no broker" : "Wi-Fi down"}${live.failsafe ? ", FAILSAFE" : ""}`;
  return s.status || "connected";
}

/** The screen as lines. `boards`: [{id, live: {wifi, connected, failsafe}}]; `selected`: the index the
 *  keys command (or -1 for all); `info`: {title, memory, page? (the telemetry page's URL), rows
 *  (terminal height)}. */
export function screen(state, boards, selected, info, consoleLines = [], now = Date.now()) {
  const lines = [info.title];
  const fleet = boards.length > 1;
  const pick = boards[Math.max(0, selected)];
  const s = state[pick.id];
  const t = s.telemetry;
  if (fleet) {
    const rates = boards.map((b) => rate(state[b.id], now));
    const lost = boards.reduce((n, b) => n + unaccounted(state[b.id]), 0);
    lines.push(`fleet: ${boards.length} boards, ${rates.reduce((a, b) => a + b, 0)} msg/s total (min ${Math.min(...rates)}, max ${Math.max(...rates)} per board), ${lost} telemetry messages unaccounted`);
    lines.push(`   ${"device".padEnd(14)} ${"link".padEnd(18)} ${"msg/s".padStart(5)} ${"seq".padStart(7)}  ${"latest".padEnd(42)} commands to`);
    // Every board a row; a fleet taller than the terminal scrolls with the selected board.
    const room = Math.max(3, (info.rows || 50) - 20);
    const first = Math.min(Math.max(0, selected - Math.floor(room / 2)), Math.max(0, boards.length - room));
    boards.slice(first, first + room).forEach((b, k) => {
      const i = first + k;
      const r = state[b.id];
      const mark = selected === -1 || i === selected ? "▶" : " ";
      lines.push(` ${mark} ${b.id.padEnd(14)} ${linkText(r, b.live).padEnd(18)} ${String(rate(r, now)).padStart(5)} ${String(r.lastSeq ?? "-").padStart(7)}  ${summary(r.telemetry).padEnd(42)} wisp/${b.id}/cmd`);
    });
    if (boards.length > room) lines.push(`   (rows ${first + 1}–${Math.min(boards.length, first + room)} of ${boards.length}; Tab moves)`);
    lines.push(selected === -1 ? "keys command every board (a: back to one board)" : `keys command ${pick.id} (Tab/p: next/previous board, a: all boards)`);
  }
  lines.push(`device ${pick.id}  ${linkText(s, pick.live)}  ${summary(t)}  ${pick.live.failsafe || (t && t.safe === 1) ? "FAILSAFE: standing still until the broker is back" : ""}`.trimEnd());
  lines.push(`telemetry ${rate(s, now)} msg/s (seq ${s.lastSeq ?? "-"})   battery ${t && isNum(t.bat) ? `${t.bat.toFixed(2)} V` : "-"}   commands to wisp/${pick.id}/cmd`);
  lines.push(`memory: ${info.memory}`);
  if (info.page) lines.push(`telemetry page ${info.page}`);
  if (t && "gait" in t) {
    const j = nums(t.j, 12) ? t.j : null;
    const hipsStill = j && [0, 3, 6, 9].every((k) => j[k] === 0);
    lines.push(`joint angles (°)   ${hipsStill ? "hip*" : "hip "}  thigh   knee`);
    ["front-left ", "front-right", "back-left  ", "back-right "].forEach((leg, i) => lines.push(`  ${leg}    ${j ? `${num(j[i * 3])} ${num(j[i * 3 + 1])} ${num(j[i * 3 + 2])}` : "     ?      ?      ?"}`));
    if (hipsStill) lines.push("  * the gaits hold the hips at 0° and steer with the thighs' stride");
    const imu = nums(t.imu, 6) ? t.imu : [];
    lines.push(`IMU accel (g) ${num(imu[0], 3)} ${num(imu[1], 3)} ${num(imu[2], 3)}   gyro (°/s) ${num(imu[3])} ${num(imu[4])} ${num(imu[5])}`);
  }
  lines.push(`last event ${s.event || "-"}`);
  if (s.junk) lines.push(`ignored ${s.junk} message(s) that are not a Wisp board's, last: ${s.lastJunk}`);
  lines.push(...consoleLines);
  return lines;
}
