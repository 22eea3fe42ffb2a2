// Quadruped robot: a gait state machine (stand, walk, trot, turn, sit) driving 12 servos (hip, thigh,
// knee per leg: front-left, front-right, back-left, back-right); telemetry of joint angles, IMU and
// battery at rate_hz on wisp/<device>/telemetry; commands on wisp/<device>/cmd, acknowledged or refused
// on wisp/<device>/event (retained commands refused unless config accept_retained); stops safely when
// the broker has been unreachable for failsafe_ms.
// Its state is this module's variables and its timers and listeners module functions, not closures: a
// closure would keep the app call's scope (the configuration and the board's data) on the heap.
import type { App } from "./app";
import type { Client, Message } from "../session/client";
import { imuStart, imuRead, servoWrite, BATTERY_VOLTS } from "./devices";
import { FixedJson, fixedJson, fixedNum, fixedText } from "./fixed-json";


/** Gaits in command order; per gait, the phase offsets of the four legs and the stance share of a
 *  cycle, in quarters, as digits of one string each (arrays would cost 1.6 JsVars an element). */
const GAITS = ["stand", "walk", "trot", "turn", "sit"];
const OFFSETS = "0000" + "0231" + "0220" + "0231" + "0000";
const STANCE = "43234";

let client: Client;
let doc: FixedJson;
let telemetry = "";
let events = "";
let failsafeMs = 0;
let acceptRetained = false;
let battery: any;
/** The servos' pins and the angle last commanded to each. */
let servoPins: any[];
let angles: Float32Array;
// The last event refused for want of a free QoS 1 slot (publish said BUSY), sent on puback / drain /
// connected; one it replaces before then is counted, and the count is reported once there is room.
let pendingEvent = "";
let dropped = 0;
let bootTime = 0;
let gait = 0;
let speed = 0.5;
let heading = 0;
let phase = 0;
let seq = 0;
let safe = false;
let resumeGait = 0;
let lostAt = 0;
let last = 0;

/** The legs' servos moved to where the gait puts them now. */
function pose(): void {
  const now = getTime();
  const dt = now - last;
  last = now;
  phase = (phase + dt * (0.5 + 1.5 * speed)) % 1;
  const stride = 10 + 15 * speed;
  const turn = heading / 180;
  for (let leg = 0; leg < 4; leg++) {
    const left = leg % 2 === 0;
    const back = leg >= 2;
    let thigh = 0;
    let knee = 45;
    if (gait === 4) { // sit: back legs folded
      thigh = back ? 60 : 0;
      knee = back ? 90 : 45;
    } else if (gait !== 0) {
      const p = (phase + (OFFSETS.charCodeAt(4 * gait + leg) - 48) / 4) % 1;
      const stance = (STANCE.charCodeAt(gait) - 48) / 4;
      // Turning in place: the two sides stride in opposite directions; otherwise heading skews them.
      const side = gait === 3 ? (left ? 1 : -1) * (heading < 0 ? -1 : 1) : left ? 1 + turn : 1 - turn;
      const a = stride * side;
      if (p < stance) thigh = a - (2 * a * p) / stance; // foot on the ground, sweeping back
      else {
        const s = (p - stance) / (1 - stance);
        thigh = -a + 2 * a * s; // foot in the air, swinging forward
        knee = 45 + 30 * Math.sin(Math.PI * s);
      }
    }
    angles[leg * 3] = servoWrite(servoPins[leg * 3], 0);
    angles[leg * 3 + 1] = servoWrite(servoPins[leg * 3 + 1], thigh);
    angles[leg * 3 + 2] = servoWrite(servoPins[leg * 3 + 2], knee);
  }
}

/** Sends `text` on the event topic, or keeps it until a QoS 1 slot frees. */
function event(text: string): void {
  if (pendingEvent) dropped++;
  pendingEvent = text;
  flushEvents();
}

function flushEvents(): void {
  if (dropped && client.publish(events, '{"event":"dropped","count":' + dropped + "}", { qos: 1 }) > 0) dropped = 0;
  if (pendingEvent && client.publish(events, pendingEvent, { qos: 1 }) > 0) pendingEvent = "";
}

/** The app's one client listener, for "puback", "drain", "connected" and "error", told apart by their
 *  argument (a packet id, none, a boolean, a reason). Room for an event: the one kept goes out; back
 *  after the failsafe: the gait resumes; an oversize message on the command topic is skipped (and
 *  acknowledged) by the client: say so. */
function onClientEvent(arg: any): void {
  if (typeof arg === "string") {
    if (arg === "packet too large") event('{"error":"command too large"}');
    return;
  }
  flushEvents();
  if (typeof arg !== "boolean" || !safe) return;
  safe = false;
  gait = resumeGait;
  last = getTime();
  event('{"event":"resume","gait":"' + GAITS[gait] + '"}');
}

/** The gait's control step; the failsafe once the broker has been gone failsafe_ms. */
function controlTick(): void {
  if (!client.connected) {
    if (!lostAt) lostAt = getTime();
    if (!safe && (getTime() - lostAt) * 1000 >= failsafeMs) {
      safe = true; // stop walking: stand, hold still, report once the broker is back
      resumeGait = gait;
      gait = 0;
      pose();
      event('{"event":"failsafe","gait":"' + GAITS[resumeGait] + '"}');
    }
  } else lostAt = 0;
  if (!safe) pose();
}

/** Commands: {"gait":"walk","speed":0.6,"heading":-30} (any subset), {"stop":true}, or "stop". */
function onCommand(m: Message): void {
  // A retained command is an old one the broker keeps: acting on it at power-up is unsafe.
  if (m.retain && !acceptRetained) return event('{"error":"retained command ignored"}');
  let cmd: any;
  const text = m.text();
  try {
    cmd = text === "stop" ? { stop: true } : JSON.parse(text);
  } catch (e) {
    cmd = null;
  }
  if (!cmd || typeof cmd !== "object") return event('{"error":"bad command"}');
  if (cmd.stop) cmd.gait = "stand";
  if (cmd.gait !== undefined) {
    const g = GAITS.indexOf(cmd.gait);
    if (g < 0) return event('{"error":"unknown gait"}');
    if (safe) resumeGait = g;
    else gait = g;
  }
  if (typeof cmd.speed === "number") speed = cmd.speed < 0 ? 0 : cmd.speed > 1 ? 1 : cmd.speed;
  if (typeof cmd.heading === "number") heading = cmd.heading < -180 ? -180 : cmd.heading > 180 ? 180 : cmd.heading;
  // What the command held that was not used: fields of the wrong type, unknown fields.
  let ignored = "";
  for (const k in cmd) {
    const used = k === "stop" || k === "gait" || ((k === "speed" || k === "heading") && typeof cmd[k] === "number");
    if (!used) ignored += (ignored ? "," : "") + JSON.stringify(k);
  }
  event('{"ack":"' + GAITS[safe ? resumeGait : gait] + '","speed":' + speed + ',"heading":' + heading + (ignored ? ',"ignored":[' + ignored + "]}" : "}"));
}

/** One telemetry document, published when connected; n goes up when the publish is accepted. */
function telemetryTick(): void {
  if (!client.connected) return;
  fixedNum(doc, 0, seq);
  fixedNum(doc, 1, getTime() - bootTime);
  fixedText(doc, 2, GAITS[gait]);
  fixedNum(doc, 3, speed);
  fixedNum(doc, 4, heading);
  fixedNum(doc, 5, safe ? 1 : 0);
  for (let i = 0; i < 12; i++) fixedNum(doc, 6 + i, angles[i]);
  imuRead(I2C1, doc, 18);
  fixedNum(doc, 24, analogRead(battery) * BATTERY_VOLTS);
  if (client.publish(telemetry, doc.buf) === 0) seq++;
}

/** The quadruped app. */
export const quadrupedApp: App = function (c, config, board, base) {
  const pins = board.pins;
  I2C1.setup({ scl: global[pins.i2cScl], sda: global[pins.i2cSda] });
  imuStart(I2C1);
  client = c;
  servoPins = [];
  for (let i = 0; i < pins.servos.length; i++) servoPins.push(global[pins.servos[i]]);
  angles = new Float32Array(pins.servos.length);
  battery = global[pins.battery];
  // "t": seconds since the app started, to the hundredth (saturates after 31 years).
  doc = fixedJson('{"n":%8.0,"t":%12.2,"gait":%7s,"speed":%4.2,"heading":%4.0,"safe":%1.0,' +
    '"j":[%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1],' +
    '"imu":[%6.3,%6.3,%6.3,%7.1,%7.1,%7.1],"bat":%5.2}');
  telemetry = base + "telemetry";
  events = base + "event";
  failsafeMs = config.failsafe_ms;
  acceptRetained = !!config.accept_retained;
  bootTime = last = getTime();
  client.on("puback", onClientEvent);
  client.on("drain", onClientEvent);
  client.on("error", onClientEvent);
  setInterval(controlTick, 1000 / config.control_hz);
  client.on("connected", onClientEvent);
  client.subscribe(base + "cmd", { qos: 1 }, onCommand);
  setInterval(telemetryTick, 1000 / config.rate_hz);
};
