// The host simulator: the built firmware bundle on simulated boards against real brokers, end to end.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import net from "node:net";
import mqtt from "mqtt";
import { readFileSync } from "node:fs";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { createBareEnv } from "../host-sim/espruino/env.mjs";
import { moduleSources } from "../host-sim/node/load.mjs";
import { BROKERS, startMosquitto, freePort, skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { waitFor, sleep } from "./helpers/util.mjs";

const log = (...a) => console.log("[sim]", ...a);

/** An MQTT.js watcher recording what the boards publish. */
async function watch(url, filters = ["wisp/#"]) {
  const w = mqtt.connect(`mqtt://${url}`, { reconnectPeriod: 100 });
  const seen = [];
  w.on("message", (topic, payload, packet) => seen.push({ topic, text: String(payload), retain: packet.retain, at: Date.now() }));
  w.on("error", () => {});
  await new Promise((r) => w.once("connect", r));
  await w.subscribeAsync(filters, { qos: 1 });
  return { w, seen, of: (topic) => seen.filter((m) => m.topic === topic) };
}

describe("the Espruino stand-ins behave like the device", () => {
  test("socket.write(Uint8Array) sends decimal text, data arrives as ≤536-byte binary strings, set(string) copies bytes", async () => {
    const received = [];
    const server = net.createServer((s) => {
      s.on("data", (d) => received.push(d.toString("latin1")));
      s.write(Buffer.alloc(2000, 0xc3));
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const env = createBareEnv();
    const out = vm.runInContext(`
      var chunks = [];
      var s = require("net").connect({ host: "127.0.0.1", port: ${server.address().port} }, function () {
        s.write(new Uint8Array([48, 2, 65]));
        s.write(E.toString(new Uint8Array([1, 255])));
      });
      s.on("data", function (d) { chunks.push(d); });
      var u = new Uint8Array(4); u.set("A\\u00ff\\u20ac", 0);
      ({ chunks: chunks, u: u, isBuffer: typeof Buffer, pin: Pin("D13") === D13 && Pin(13) === D13 });
    `, env.context);
    await waitFor(() => out.chunks.reduce((n, c) => n + c.length, 0) === 2000 && received.join("").length >= 9, "socket traffic");
    assert.equal(received.join(""), "48,2,65\x01\xff");
    assert.ok(out.chunks.every((c) => typeof c === "string" && c.length <= 536));
    assert.equal(out.chunks[0].charCodeAt(0), 0xc3);
    assert.deepEqual([...out.u], [0x41, 0xc3, 0xbf, 0xe2], "a UTF-8 string's bytes, truncated to the array");
    assert.equal(out.isBuffer, "undefined");
    assert.equal(out.pin, true, "Pin(name) and Pin(number) are the pin globals");
    env.off();
    server.close();
  });
});

describe("a program written for Espruino's MQTT module", { skip: skipWithoutMosquitto }, () => {
  test("runs unchanged with dist/wisp.js as its MQTT module, in the Espruino stand-ins, against Mosquitto", async () => {
    const broker = await startMosquitto();
    const lines = [];
    const env = createBareEnv({ log: (l) => lines.push(l), modules: moduleSources("wisp.js", "MQTT") });
    // The example from Espruino's MQTT module documentation, as a user would have it.
    vm.runInContext(`
      var server = "127.0.0.1";
      var options = {
        client_id : "espruino-docs-example",
        keep_alive: 60,
        port: ${broker.port},
        clean_session: true,
        username: "username",
        password: "password",
        protocol_name: "MQTT",
        protocol_level: 4,
      };
      var mqtt = require("MQTT").create(server, options);
      mqtt.on('connected', function() {
        mqtt.subscribe("test");
      });
      mqtt.on('subscribed', function() {
        mqtt.publish("test", "hello from the docs");
      });
      mqtt.on('publish', function (pub) {
        console.log("topic: "+pub.topic);
        console.log("message: "+pub.message);
      });
      mqtt.on('disconnected', function() {
        console.log("MQTT disconnected... reconnecting.");
        setTimeout(function() { mqtt.connect(); }, 1000);
      });
      mqtt.connect();
    `, env.context);
    try {
      await waitFor(() => lines.includes("message: hello from the docs"), "the example's own message");
      assert.ok(lines.includes("topic: test"));
    } finally {
      vm.runInContext("mqtt.disconnect()", env.context);
      env.off(); // its reconnect timer must not keep the run alive
      await broker.stop();
    }
  });
});

for (const b of BROKERS) {
  describe(`simulated ESP32 quadruped against ${b.name}`, { skip: b.skip }, () => {
    let broker;
    let board;
    let watcher;
    const device = `quad-${b.name}`;
    const topic = (k) => `wisp/${device}/${k}`;
    before(async () => {
      broker = await b.start();
      watcher = await watch(broker.url);
      board = new SimBoard({ board: "esp32", config: { brokers: [broker.url], device, failsafe_ms: 1000, keep_alive: 2 }, log: (l) => log(device, l) }).boot();
      await waitFor(() => watcher.of(topic("status")).some((m) => m.text === "online"), "online status");
    });
    after(async () => {
      board.powerOff();
      watcher.w.end(true);
      await broker.stop();
    });

    test("telemetry arrives at the configured 10 Hz with joint angles, IMU and battery", async () => {
      const from = Date.now();
      const since = () => watcher.of(topic("telemetry")).filter((m) => m.at >= from);
      await waitFor(() => since().length >= 21, () => `21 telemetry messages (${since().length} so far)`, 6000);
      const got = since().slice(0, 21);
      const rate = Number((20 / ((got[20].at - got[0].at) / 1000)).toFixed(1)); // 20 intervals
      log(`${b.name}: telemetry ${rate} msg/s`);
      assert.ok(rate >= 8 && rate <= 11, `${rate} msg/s`);
      const t = JSON.parse(got.at(-1).text);
      assert.equal(t.j.length, 12);
      assert.equal(t.imu.length, 6);
      assert.ok(t.imu[2] > 0.8 && t.imu[2] < 1.2, "standing still, the IMU reads about 1 g down");
      assert.ok(t.bat > 7 && t.bat < 8.5);
      const seqs = got.map((m) => JSON.parse(m.text).n);
      assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), "telemetry sequence has gaps");
    });

    test("commands change the gait, are acknowledged, and move the servos and the IMU", async () => {
      await watcher.w.publishAsync(topic("cmd"), JSON.stringify({ gait: "trot", speed: 0.8 }), { qos: 1 });
      await waitFor(() => watcher.of(topic("event")).some((m) => m.text.includes('"ack":"trot"')), "ack");
      await waitFor(() => JSON.parse(watcher.of(topic("telemetry")).at(-1).text).gait.trim() === "trot", "trot in telemetry");
      const before = board.angles();
      await waitFor(() => board.angles().some((a, i) => Math.abs(a - before[i]) > 2), "servos moving while trotting", 3000);
      const gyro = () => Math.max(...watcher.of(topic("telemetry")).slice(-5).map((m) => Math.abs(JSON.parse(m.text).imu[3])));
      await waitFor(() => gyro() > 1, () => `the IMU feeling the trot (gyro x up to ${gyro()} °/s in the last 5 telemetry messages)`, 3000);
      await watcher.w.publishAsync(topic("cmd"), "not json", { qos: 1 });
      await waitFor(() => watcher.of(topic("event")).some((m) => m.text.includes("bad command")), "bad command reported");
    });

    test("the broker gone ⇒ the robot stops safely; back ⇒ it resumes its gait", async () => {
      await watcher.w.publishAsync(topic("cmd"), JSON.stringify({ gait: "walk" }), { qos: 1 });
      await waitFor(() => JSON.parse(watcher.of(topic("telemetry")).at(-1).text).gait.trim() === "walk", "walking");
      const port = broker.port;
      watcher.w.end(true);
      const stoppedAt = Date.now();
      await broker.stop();
      // Walking, the four thighs are never neutral together with every servo at its target: standing is.
      const standing = () => board.servos.every((s, i) => Math.abs(s.angle() - s.target) < 0.5 && (i % 3 !== 1 || Math.abs(s.angle()) < 1));
      await waitFor(standing, "standing still after the failsafe (thighs neutral, servos settled)", 1000 + 3000); // failsafe_ms is 1000
      assert.ok(Date.now() - stoppedAt >= 1000 - 50, `stood still ${Date.now() - stoppedAt} ms after the broker went, before failsafe_ms`);
      // Holding still can only be seen over time: half a second, 25 of the board's control periods.
      const frozen = board.angles();
      await sleep(500);
      assert.deepEqual(board.angles().map(Math.round), frozen.map(Math.round), "servos still moving after the failsafe");
      // The board stays off the network until the watcher listens again: its events are one-shot.
      board.wifi.down();
      broker = await b.start(port);
      watcher = await watch(broker.url);
      board.wifi.up();
      await waitFor(() => watcher.of(topic("event")).some((m) => m.text.includes('"event":"resume","gait":"walk"')), "resume event", 20000);
      assert.ok(watcher.of(topic("event")).some((m) => m.text.includes('"event":"failsafe"')), "failsafe event not delivered");
      await waitFor(() => watcher.of(topic("telemetry")).length && JSON.parse(watcher.of(topic("telemetry")).at(-1).text).gait.trim() === "walk", "walking again");
    });

    test("a Wi-Fi drop-out: the board reconnects by itself and telemetry resumes", async () => {
      const before = watcher.of(topic("telemetry")).length;
      board.wifi.drop(1500);
      await waitFor(() => board.wifi.connected, "Wi-Fi back after 1.5 s", 5000);
      const during = watcher.of(topic("telemetry")).length;
      await waitFor(() => watcher.of(topic("telemetry")).length > during + 5, "telemetry after the drop-out", 15000);
      assert.ok(during - before <= 3, `${during - before} telemetry messages while Wi-Fi was down`);
    });

    test("power lost without goodbye ⇒ the will publishes retained `offline`", async () => {
      board.powerOff();
      await waitFor(() => watcher.of(topic("status")).some((m) => m.text === "offline"), "will", 10000);
      const late = await watch(broker.url, [topic("status")]);
      await waitFor(() => late.seen.length > 0, "retained status");
      assert.equal(late.seen[0].text, "offline");
      assert.equal(late.seen[0].retain, true);
      late.w.end(true);
    });
  });
}

describe("a fleet of 50 simulated boards against Mosquitto", { skip: skipWithoutMosquitto }, () => {
  test("every telemetry message accounted for", async () => {
    const N = 50;
    const broker = await startMosquitto();
    const watcher = await watch(broker.url, ["wisp/+/telemetry"]);
    const boards = Array.from({ length: N }, (_, i) => new SimBoard({
      board: "esp32", serial: `f1ee7${String(i).padStart(7, "0")}`,
      config: { brokers: [broker.url], device: `fleet-${i}`, rate_hz: 5 },
    }).boot());
    const perDevice = new Map();
    let counted = 0;
    const count = () => {
      for (; counted < watcher.seen.length; counted++) {
        const m = watcher.seen[counted];
        const id = m.topic.split("/")[1];
        (perDevice.get(id) || perDevice.set(id, []).get(id)).push(JSON.parse(m.text).n);
      }
      return perDevice;
    };
    const MIN = 10;
    await waitFor(() => count().size === N && [...perDevice.values()].every((seqs) => seqs.length >= MIN),
      () => `${MIN} telemetry messages from each of ${N} boards (${[...count().values()].filter((q) => q.length >= MIN).length} boards have them)`, 30000);
    for (const b of boards) b.powerOff();
    // Later messages only extend each board's sequence: whatever is still on its way cannot open a gap.
    count();
    let total = 0;
    let unaccounted = 0;
    for (const [, seqs] of perDevice) {
      total += seqs.length;
      unaccounted += seqs.at(-1) - seqs[0] + 1 - new Set(seqs).size;
    }
    log(`fleet: ${perDevice.size} boards, ${total} telemetry messages, ${unaccounted} unaccounted`);
    watcher.w.end(true);
    await broker.stop();
    assert.equal(unaccounted, 0);
  });
});
