// The apps on simulated boards (dist/firmware-esp32.js in the host simulator) against Mosquitto: the
// online status after a reconnect with every QoS 1 slot busy, retained commands, refused and
// half-understood commands reported on the event topic, and the telemetry's time and text fields.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { startMosquitto, freePort, skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { waitFor } from "./helpers/util.mjs";

/** An MQTT.js watcher recording what arrives on `filters`. */
async function watch(url, filters = ["wisp/#"]) {
  const w = mqtt.connect(`mqtt://${url}`, { reconnectPeriod: 100 });
  const seen = [];
  w.on("message", (topic, payload, packet) => seen.push({ topic, text: String(payload), retain: packet.retain }));
  w.on("error", () => {});
  await new Promise((r) => w.once("connect", r));
  await w.subscribeAsync(filters, { qos: 1 });
  return { w, seen, of: (topic) => seen.filter((m) => m.topic === topic) };
}

const boot = (url, device, config = {}) => new SimBoard({ board: "esp32", config: { brokers: [url], device, keep_alive: 2, ...config } }).boot();

describe("the apps on a simulated ESP32 against Mosquitto", { concurrency: true, skip: skipWithoutMosquitto }, () => {
  test("`online` is published after a reconnect even when every QoS 1 slot is busy (retried until accepted)", async () => {
    const port = await freePort();
    let broker = await startMosquitto(port);
    const device = "app-online";
    const board = boot(broker.url, device);
    await waitFor(() => board.client && board.client.connected, "connected");
    await broker.stop(); // gone without a trace: the new broker knows nothing retained
    await waitFor(() => !board.client.connected, "the board noticing");
    let queued = 0;
    while (board.client.publish(`wisp/${device}/log`, `queued ${queued}`, { qos: 1 }) > 0) queued++; // every slot
    const busy = board.client.pending;
    broker = await startMosquitto(port);
    await waitFor(() => board.client.connected && board.client.pending === 0, "reconnected, the queued messages delivered", 10000);
    const w = await watch(broker.url, [`wisp/${device}/status`]);
    await waitFor(() => w.seen.some((m) => m.text === "online" && m.retain), "the retained online status", 5000);
    board.powerOff();
    w.w.end(true);
    await broker.stop();
    assert.ok(queued > 0);
    assert.equal(busy, 8, "the ESP32's in-flight slots, all taken when it reconnected");
  });

  test("a retained command is refused on the event topic unless accept_retained is set", async () => {
    const broker = await startMosquitto();
    const pub = await watch(broker.url, ["wisp/+/event", "wisp/+/telemetry"]);
    for (const d of ["app-ret-no", "app-ret-yes"]) await pub.w.publishAsync(`wisp/${d}/cmd`, JSON.stringify({ gait: "trot", speed: 1 }), { qos: 1, retain: true });
    const no = boot(broker.url, "app-ret-no");
    const yes = boot(broker.url, "app-ret-yes", { accept_retained: true });
    const gait = (d) => { const t = pub.of(`wisp/${d}/telemetry`).at(-1); return t && JSON.parse(t.text).gait; };
    await waitFor(() => pub.of("wisp/app-ret-no/event").some((m) => m.text === '{"error":"retained command ignored"}'), "the refusal", 5000);
    await waitFor(() => gait("app-ret-yes") === "trot", "the opted-in robot trotting", 5000);
    const telemetryFrom = pub.of("wisp/app-ret-no/telemetry").length;
    await waitFor(() => pub.of("wisp/app-ret-no/telemetry").length >= telemetryFrom + 5, "more telemetry");
    no.powerOff();
    yes.powerOff();
    pub.w.end(true);
    await broker.stop();
    assert.equal(gait("app-ret-no"), "stand", "the robot acted on a retained command");
  });

  test("refused commands (bad JSON, unknown gait, oversize) are reported on the event topic; ignored fields are named in the ack", async () => {
    const broker = await startMosquitto();
    const device = "app-refuse";
    const w = await watch(broker.url, [`wisp/${device}/event`]);
    const board = boot(broker.url, device);
    await waitFor(() => board.client && board.client.connected, "connected");
    await new Promise((r) => setTimeout(r, 300)); // its SUBSCRIBE in
    const cmd = (text) => w.w.publishAsync(`wisp/${device}/cmd`, text, { qos: 1 });
    await cmd("{not json");
    await cmd(JSON.stringify({ gait: "fly" }));
    for (let i = 0; i < 22; i++) await cmd(JSON.stringify({ gait: "walk", pad: "x".repeat(2000) })); // over the ESP32's 1,024 B
    await cmd(JSON.stringify({ heading: "NaN" }));
    await cmd(JSON.stringify({ gait: "walk", speed: "fast", color: "red" }));
    await waitFor(() => w.seen.length >= 26, () => `26 events (${w.seen.length}: ${w.seen.map((m) => m.text).join(" ")})`, 10000);
    board.powerOff();
    w.w.end(true);
    await broker.stop();
    const texts = w.seen.map((m) => JSON.parse(m.text));
    assert.deepEqual(texts.slice(0, 2), [{ error: "bad command" }, { error: "unknown gait" }]);
    assert.deepEqual(texts.slice(2, 24), Array(22).fill({ error: "command too large" }));
    assert.deepEqual(texts[24], { ack: "stand", speed: 0.5, heading: 0, ignored: ["heading"] });
    assert.deepEqual(texts[25], { ack: "walk", speed: 0.5, heading: 0, ignored: ["speed", "color"] });
  });

  test("telemetry: t is seconds since start with decimals, and text fields are plain JSON strings (\"gait\":\"stand\")", async () => {
    const broker = await startMosquitto();
    const device = "app-tele";
    const w = await watch(broker.url, [`wisp/${device}/telemetry`]);
    const board = boot(broker.url, device);
    await waitFor(() => w.seen.length >= 12, "12 telemetry messages");
    board.powerOff();
    w.w.end(true);
    await broker.stop();
    const ts = w.seen.map((m) => JSON.parse(m.text).t);
    assert.match(w.seen[0].text, /"gait":"stand" *,/);
    assert.equal(JSON.parse(w.seen[0].text).gait, "stand");
    assert.ok(ts.every((t, i) => i === 0 || t > ts[i - 1]), `t not increasing: ${ts}`);
    assert.ok(ts.some((t) => t !== Math.round(t)), `t has no decimals: ${ts}`);
    assert.ok(ts.at(-1) < 60, `t ${ts.at(-1)}: not seconds since start`);
  });
});
