// Quadruped robot: a gait state machine (stand, walk, trot, turn, sit) driving 12 servos (hip, thigh,
// knee per leg: front-left, front-right, back-left, back-right); telemetry of joint angles, IMU and
// battery at rate_hz on wisp/<device>/telemetry; commands on wisp/<device>/cmd, acknowledged or refused
// on wisp/<device>/event (retained commands refused unless config accept_retained); stops safely when
// the broker has been unreachable for failsafe_ms.
import type { App } from "./app";
import type { Message } from "../session/client";
import { Imu, Servos, BATTERY_VOLTS, pin } from "./devices";
import { fixedJson, fixedNum, fixedText } from "./fixed-json";


/** Gaits in command order; phase offsets of the four legs and the stance share of a cycle. */
const GAITS = ["stand", "walk", "trot", "turn", "sit"];
const OFFSETS = [[0, 0, 0, 0], [0, 0.5, 0.75, 0.25], [0, 0.5, 0.5, 0], [0, 0.5, 0.75, 0.25], [0, 0, 0, 0]];
const STANCE = [1, 0.75, 0.5, 0.75, 1];

/** The quadruped app. */
export const quadrupedApp: App = function (client, config, board, base) {
  I2C1.setup({ scl: pin(board.pins.i2cScl), sda: pin(board.pins.i2cSda) });
  const imu = new Imu(I2C1);
  imu.start();
  const servos = new Servos(board.pins.servos);
  const battery = pin(board.pins.battery);
  // "t": seconds since the app started, to the hundredth (saturates after 31 years).
  const doc = fixedJson('{"n":%8.0,"t":%12.2,"gait":%7s,"speed":%4.2,"heading":%4.0,"safe":%1.0,' +
    '"j":[%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1,%6.1],' +
    '"imu":[%6.3,%6.3,%6.3,%7.1,%7.1,%7.1],"bat":%5.2}');
  const telemetry = base + "telemetry";
  const events = base + "event";
  const eventOpts = { qos: 1 };
  // The last event refused for want of a free QoS 1 slot (publish said BUSY), sent on puback / drain /
  // connected; one it replaces before then is counted, and the count is reported once there is room.
  let pendingEvent = "";
  let dropped = 0;
  const bootTime = getTime();
  let gait = 0;
  let speed = 0.5;
  let heading = 0;
  let phase = 0;
  let seq = 0;
  let safe = false;
  let resumeGait = 0;
  let lostAt = 0;
  let last = getTime();

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
        const p = (phase + OFFSETS[gait][leg]) % 1;
        const stance = STANCE[gait];
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
      servos.set(leg * 3, 0);
      servos.set(leg * 3 + 1, thigh);
      servos.set(leg * 3 + 2, knee);
    }
  }

  function event(text: string): void {
    if (pendingEvent) dropped++;
    pendingEvent = text;
    flushEvents();
  }

  function flushEvents(): void {
    if (dropped && client.publish(events, '{"event":"dropped","count":' + dropped + "}", eventOpts) > 0) dropped = 0;
    if (pendingEvent && client.publish(events, pendingEvent, eventOpts) > 0) pendingEvent = "";
  }
  client.on("puback", flushEvents);
  client.on("drain", flushEvents);
  // An oversize message on the command topic is skipped (and acknowledged) by the client: say so.
  client.on("error", function (reason: string) {
    if (reason === "packet too large") event('{"error":"command too large"}');
  });

  setInterval(function () {
    if (!client.connected) {
      if (!lostAt) lostAt = getTime();
      if (!safe && (getTime() - lostAt) * 1000 >= config.failsafe_ms) {
        safe = true; // stop walking: stand, hold still, report once the broker is back
        resumeGait = gait;
        gait = 0;
        pose();
        event('{"event":"failsafe","gait":"' + GAITS[resumeGait] + '"}');
      }
    } else lostAt = 0;
    if (!safe) pose();
  }, 1000 / config.control_hz);

  client.on("connected", function () {
    flushEvents();
    if (!safe) return;
    safe = false;
    gait = resumeGait;
    last = getTime();
    event('{"event":"resume","gait":"' + GAITS[gait] + '"}');
  });

  client.subscribe(base + "cmd", { qos: 1 }, function (m: Message) {
    // Commands: {"gait":"walk","speed":0.6,"heading":-30} (any subset), {"stop":true}, or "stop".
    // A retained command is an old one the broker keeps: acting on it at power-up is unsafe.
    if (m.retain && !config.accept_retained) return event('{"error":"retained command ignored"}');
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
  });

  setInterval(function () {
    if (!client.connected) return;
    imu.read();
    fixedNum(doc, 0, seq);
    fixedNum(doc, 1, getTime() - bootTime);
    fixedText(doc, 2, GAITS[gait]);
    fixedNum(doc, 3, speed);
    fixedNum(doc, 4, heading);
    fixedNum(doc, 5, safe ? 1 : 0);
    for (let i = 0; i < 12; i++) fixedNum(doc, 6 + i, servos.angle[i]);
    for (let i = 0; i < 3; i++) {
      fixedNum(doc, 18 + i, imu.accel[i]);
      fixedNum(doc, 21 + i, imu.gyro[i]);
    }
    fixedNum(doc, 24, analogRead(battery) * BATTERY_VOLTS);
    if (client.publish(telemetry, doc.buf) === 0) seq++;
  }, 1000 / config.rate_hz);
};
