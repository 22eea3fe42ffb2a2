// Both modules on the Node platform, the compact dist/wisp.js and the layered dist/wisp-esp32.js, against
// real brokers over TCP: Aedes in-process and Mosquitto started here. The peer is MQTT.js, an
// independent client.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { loadWisp } from "../host-sim/node/load.mjs";
import { BROKERS, startAedes } from "./helpers/brokers.mjs";
import { waitFor, recordingPlatform, recordEvents } from "./helpers/util.mjs";

let clientCount = 0;

for (const [file, compact] of [["wisp.js", true], ["wisp-esp32.js", false]]) describe(`dist/${file}`, () => {
const wisp = loadWisp(file);

function wispClient(url, options = {}) {
  const platform = recordingPlatform();
  const client = wisp.create(url, { client_id: `wisp-it-${process.pid}-${++clientCount}`, platform, reconnect_min: 100, reconnect_max: 500, ...options });
  return { client, platform, events: recordEvents(client) };
}

async function peer(url, options = {}) {
  const p = mqtt.connect(`mqtt://${url}`, { reconnectPeriod: 0, ...options });
  await new Promise((resolve, reject) => { p.once("connect", resolve); p.once("error", reject); });
  return p;
}

for (const b of BROKERS) {
  describe(`against ${b.name}`, { skip: b.skip }, () => {
    let broker;
    const open = [];
    before(async () => { broker = await b.start(); });
    after(async () => {
      for (const c of open) c.end ? c.end(true) : c.disconnect();
      await broker.stop();
    });
    const track = (c) => (open.push(c), c);

    /** A Wisp client subscribed to `inFilter` and an MQTT.js peer subscribed to `outFilter`, both at
     *  `qos`; `got` and `fromWisp` collect [topic, text, qos] of what each receives. */
    async function pair(inFilter, outFilter, qos) {
      const w = wispClient(broker.url);
      track(w.client);
      const got = [];
      w.client.subscribe(inFilter, { qos }, (m) => got.push([m.topic(), m.text(), m.qos]));
      w.client.connect();
      await waitFor(() => w.events.some((e) => e[0] === "subscribed"), "SUBACK");
      const p = track(await peer(broker.url));
      const fromWisp = [];
      p.on("message", (topic, payload, packet) => fromWisp.push([topic, String(payload), packet.qos]));
      await p.subscribeAsync(outFilter, { qos });
      return { w, p, got, fromWisp };
    }

    test("publish and subscribe at QoS 0 and 1, both ways", async () => {
      const { w, p, got, fromWisp } = await pair("it/in/#", "it/out/#", 1);
      await p.publishAsync("it/in/a", "zero", { qos: 0 });
      await p.publishAsync("it/in/b", "one", { qos: 1 });
      await waitFor(() => got.length === 2, "messages at Wisp");
      assert.deepEqual(got, [["it/in/a", "zero", 0], ["it/in/b", "one", 1]]);
      assert.equal(w.client.publish("it/out/x", "q0"), 0);
      assert.ok(w.client.publish("it/out/y", "q1", { qos: 1 }) > 0);
      await waitFor(() => fromWisp.length === 2 && w.client.pending === 0, "messages at the peer and PUBACK");
      assert.deepEqual(fromWisp, [["it/out/x", "q0", 0], ["it/out/y", "q1", 1]]);
      assert.ok(w.events.some((e) => e[0] === "puback"));
    });

    test("QoS 2 both ways: exactly once, and the in-flight slot is freed by PUBCOMP", { skip: compact && "the compact session has no QoS 2 (test/client.unit.test.mjs checks it is refused)" }, async () => {
      const { w, p, got, fromWisp } = await pair("it2/in", "it2/out", 2);
      await p.publishAsync("it2/in", "two", { qos: 2 });
      assert.ok(w.client.publish("it2/out", "deux", { qos: 2 }) > 0);
      await waitFor(() => got.length === 1 && fromWisp.length === 1 && w.client.pending === 0, "both messages, and PUBCOMP");
      // A second message each way behind the first: a duplicate of the first would arrive before it.
      await p.publishAsync("it2/in", "end", { qos: 2 });
      assert.ok(w.client.publish("it2/out", "fin", { qos: 2 }) > 0);
      await waitFor(() => got.some((m) => m[1] === "end") && fromWisp.some((m) => m[1] === "fin") && w.client.pending === 0, "the second message each way");
      assert.deepEqual(got, [["it2/in", "two", 2], ["it2/in", "end", 2]]);
      assert.deepEqual(fromWisp, [["it2/out", "deux", 2], ["it2/out", "fin", 2]]);
    });

    test("retained messages arrive flagged retain on subscribe", async () => {
      const p = track(await peer(broker.url));
      await p.publishAsync("it/retained", "kept", { qos: 1, retain: true });
      const w = wispClient(broker.url);
      track(w.client);
      const got = [];
      w.client.on("publish", (pub) => got.push(pub));
      w.client.on("connected", () => w.client.subscribe("it/retained"));
      w.client.connect();
      await waitFor(() => got.length === 1, "the retained message");
      assert.deepEqual({ ...got[0] }, { topic: "it/retained", message: "kept", qos: 0, retain: true, dup: false });
    });

    test("the will is published when the connection drops without DISCONNECT", async () => {
      const p = track(await peer(broker.url));
      const wills = [];
      p.on("message", (topic, payload, packet) => wills.push([topic, String(payload), packet.retain]));
      await p.subscribeAsync("it/will/#", { qos: 1 });
      const w = wispClient(broker.url, { reconnect: false, will: { topic: "it/will/status", message: "offline", qos: 1, retain: false } });
      w.client.connect();
      await waitFor(() => w.client.connected, "connected");
      w.platform.sockets[0].destroy();
      await waitFor(() => wills.length === 1, "the will");
      assert.deepEqual(wills, [["it/will/status", "offline", false]]);
      const id = `wisp-it-will-${process.pid}-${b.name}`;
      const w2 = wispClient(broker.url, { client_id: id, will: { topic: "it/will/status", message: "offline" } });
      w2.client.connect();
      await waitFor(() => w2.client.connected, "connected");
      w2.client.disconnect();
      // The same client id connecting again means the broker is done with the first connection (its will
      // sent or dropped); a message published after that reaches the peer after any will.
      const w3 = wispClient(broker.url, { client_id: id });
      track(w3.client);
      w3.client.connect();
      await waitFor(() => w3.client.connected, "connected again under the same client id");
      assert.ok(w3.client.publish("it/will/marker", "after", { qos: 1 }) > 0);
      await waitFor(() => wills.some((m) => m[0] === "it/will/marker"), "the marker published after the clean DISCONNECT");
      assert.deepEqual(wills.map((m) => m[0]), ["it/will/status", "it/will/marker"], "a clean DISCONNECT must not publish the will");
    });

    test("persistent session: QoS 1 messages sent while offline arrive after reconnect", async () => {
      const id = `wisp-persist-${process.pid}-${b.name}`;
      const w = wispClient(broker.url, { client_id: id, clean_session: false });
      track(w.client);
      const got = [];
      w.client.subscribe("it/persist", { qos: 1 }, (m) => got.push(m.text()));
      w.client.connect();
      await waitFor(() => w.events.some((e) => e[0] === "subscribed"), "SUBACK");
      w.client.disconnect();
      const p = track(await peer(broker.url));
      for (let i = 0; i < 5; i++) await p.publishAsync("it/persist", `m${i}`, { qos: 1 });
      w.client.connect();
      await waitFor(() => got.length === 5, "queued messages");
      assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
      assert.deepEqual(w.events.filter((e) => e[0] === "connected").map((e) => e[1]), [false, true], "session present on the second CONNACK");
    });
  });
}

describe("refusals (Aedes with auth hooks)", () => {
  let broker;
  before(async () => {
    broker = await startAedes();
    broker.aedes.authenticate = (client, username, password, done) => {
      if (username === "good") return done(null, true);
      const err = new Error("bad");
      err.returnCode = 4;
      done(err, false);
    };
    broker.aedes.authorizeSubscribe = (client, sub, done) => done(null, sub.topic === "forbidden" ? null : sub);
  });
  after(() => broker.stop());

  test("a refused CONNACK is an error in words, never `connected`, retried with backoff, not a storm", async () => {
    const w = wispClient(broker.url, { username: "bad", password: "x", reconnect_min: 200, reconnect_max: 800 });
    const at = [];
    w.client.on("error", () => at.push(Date.now()));
    w.client.connect();
    await waitFor(() => at.length >= 5, () => `five refused attempts (${at.length} so far)`, 8000);
    w.client.disconnect();
    const errors = w.events.filter((e) => e[0] === "error");
    assert.ok(!w.events.some((e) => e[0] === "connected"));
    assert.equal(errors[0][1], "connection refused: bad user name or password");
    // Retry i waits min(800, 200 · 2^i) ms times 0.5..1 (jitter), on the client's 250 ms tick.
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    gaps.forEach((gap, i) => {
      const step = Math.min(800, 200 * 2 ** i);
      assert.ok(gap >= step / 2 - 20 && gap <= step + 250 + 250, `retry ${i + 1} after ${gap} ms (backoff step ${step} ms); gaps ${gaps}`);
    });
  });

  test("SUBACK 0x80 ⇒ subscribed_fail; the other filter is subscribed", async () => {
    const w = wispClient(broker.url, { username: "good" });
    w.client.subscribe(["forbidden", "allowed"], { qos: 1 });
    w.client.connect();
    await waitFor(() => w.events.filter((e) => e[0].startsWith("subscribed")).length === 2, "two SUBACKs");
    w.client.disconnect();
    assert.deepEqual(w.events.filter((e) => e[0].startsWith("subscribed")).sort(), [["subscribed", "allowed", 1], ["subscribed_fail", "forbidden", undefined]]);
  });
});
});
