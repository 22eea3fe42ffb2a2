// Issue 10's session faults, one test each, at three levels: the unminified module on a scripted
// socket with a fake clock; dist/wisp.js in the Espruino stand-ins against Aedes / Mosquitto (the host
// simulator); and, with ESPRUINO_BIN, dist/wisp.js on the real interpreter against Mosquitto.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { loadWisp } from "../host-sim/node/load.mjs";
import { fakePlatform } from "./helpers/fake-platform.mjs";
import { Err, TYPES } from "./helpers/codec.mjs";
import { startAedes, startMosquitto, restartableMosquitto, skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { startProxy } from "./helpers/proxy.mjs";
import { waitFor } from "./helpers/util.mjs";
import { runOnEspruino, skipWithoutEspruino, WISP_MODULES } from "./helpers/espruino.mjs";

const log = (...a) => console.log("[session-faults]", ...a);
const gen = (p) => new Uint8Array(mqttPacket.generate(p));
const concat = (...parts) => Uint8Array.from(parts.flatMap((p) => [...p]));
/** One packet the client wrote, parsed by mqtt-packet. */
function parse(bytes) {
  let out;
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p) => (out = p));
  parser.parse(Buffer.from(bytes));
  return out;
}

// ---- the fake platform and the fake clock -----------------------------------------------------------

/** Both sessions, unminified: the layered one (dist/wisp-esp32.js) and the compact one (dist/wisp.js). */
for (const [edition, file, compact] of [["layered session", "test/wisp.espruino.js", false], ["compact session", "test/wisp-compact.espruino.js", true]]) {
const wispTest = loadWisp(file);
const U8 = wispTest.Uint8Array;

/** A client on a fake platform with its events recorded; `now` is the fake time in ms. */
function fakeClient(options = {}) {
  const fake = fakePlatform();
  const events = [];
  const client = wispTest.create("broker:1883", { client_id: "c1", platform: fake.platform, limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 256 }, ...options });
  for (const e of ["connected", "disconnected", "error", "message", "puback", "busy", "drain"]) client.on(e, (a, b) => events.push([e, a, b, fake.now]));
  const t = { fake, client, events };
  t.of = (name) => events.filter((e) => e[0] === name);
  t.receive = (bytes) => fake.conn.handler.onData(fake.conn, bytes);
  /** TCP open + CONNACK on the newest connection; returns the packets sent before CONNACK. */
  t.accept = (sessionPresent = false) => {
    fake.conn.handler.onOpen(fake.conn);
    const sent = fake.sent();
    t.receive(gen({ cmd: "connack", returnCode: 0, sessionPresent }));
    return sent;
  };
  return t;
}

describe(`issue 10 on the fake platform with the fake clock: ${edition}`, () => {
  test("1: a client that only publishes (QoS 0 every 0.5 s) stays connected 10 × keep_alive, pinging as it goes", () => {
    const t = fakeClient({ keep_alive: 2 });
    t.client.connect();
    t.accept();
    let pings = 0;
    for (let ms = 0; ms < 10 * 2000; ms += 250) {
      t.fake.advance(250);
      if (ms % 500 === 0) assert.equal(t.client.publish("tele", "x"), 0);
      for (const p of t.fake.sent()) if (p.type === TYPES.pingreq) { pings++; t.receive(gen({ cmd: "pingresp" })); }
    }
    assert.deepEqual(t.of("disconnected"), []);
    assert.equal(t.client.connected, true);
    assert.ok(pings >= 10, `${pings} PINGREQs in 20 s with keep_alive 2`);
  });

  test("2: broker killed and restarted 10 times during a QoS 1 stream: connect() never throws, 0 lost, each reconnect ≤ 1.5 s after the broker is back", () => {
    const t = fakeClient({ clean_session: false, reconnect_min: 100, reconnect_max: 1000 });
    t.fake.refuse = true; // no broker at all at first: connect() must not throw into the program
    assert.doesNotThrow(() => t.client.connect());
    assert.deepEqual(t.of("error")[0].slice(0, 3), ["error", "connection refused", Err.CONNECTION_LOST]);
    t.fake.refuse = false;
    t.fake.advanceUntil(() => t.fake.conns.length === 1, 1500, "the first connection once the broker is up");
    t.accept();
    const N = 400;
    let next = 0;
    const atBroker = new Set();
    const pump = () => { while (next < N && t.client.publish("s", String(next), { qos: 1 }) > 0) next++; };
    const brokerStep = () => {
      t.fake.conn.handler.onDrain(t.fake.conn); // the socket's buffer went out
      for (const p of t.fake.sent()) {
        if (p.type !== TYPES.publish) continue;
        const pk = parse(p.bytes);
        atBroker.add(String(pk.payload));
        t.receive(gen({ cmd: "puback", messageId: pk.messageId }));
      }
      pump();
    };
    const delays = [];
    for (let restart = 0; restart < 10; restart++) {
      for (let i = 0; i < 5; i++) { pump(); t.fake.advance(50); brokerStep(); }
      pump(); // messages in flight when the broker dies
      t.fake.conn.handler.onClose(t.fake.conn);
      t.fake.refuse = true;
      assert.doesNotThrow(() => t.fake.advance(3000), "a refused reconnect threw");
      t.fake.refuse = false;
      const back = t.fake.now;
      const conns = t.fake.conns.length;
      t.fake.advanceUntil(() => t.fake.conns.length > conns, 3000, `reconnect ${restart + 1}`);
      t.accept(true);
      delays.push(t.fake.now - back);
      brokerStep();
    }
    for (let i = 0; i < 200 && !(next === N && t.client.pending === 0); i++) { t.fake.advance(250); brokerStep(); }
    assert.equal(next, N, "messages published");
    assert.equal(t.client.pending, 0, "messages never acknowledged");
    const lost = Array.from({ length: N }, (_, i) => String(i)).filter((m) => !atBroker.has(m));
    assert.deepEqual(lost, [], "messages never received by the broker");
    assert.equal(t.of("connected").length, 11);
    assert.ok(Math.max(...delays) <= 1500, `reconnects ${delays.join(", ")} ms after the broker was back`);
  });

  test("3: half-open link (nothing more from the broker) found ≤ 1.5 × keep_alive after the last byte received, idle or publishing", () => {
    for (const publishing of [false, true]) {
      const t = fakeClient({ keep_alive: 2 });
      t.client.connect();
      t.accept();
      t.fake.advance(3001); // just past a tick: the worst moment for the last byte to arrive
      t.receive(gen({ cmd: "publish", topic: "x", payload: "last", qos: 0 }));
      const last = t.fake.now;
      t.fake.advanceUntil(() => {
        if (publishing) t.client.publish("tele", "x");
        return !t.client.connected;
      }, 10000, "the dead link noticed");
      const after = t.fake.now - last;
      assert.ok(after <= 1.5 * 2000, `${publishing ? "publishing" : "idle"}: found ${after} ms after the last byte received (keep_alive 2 s)`);
      assert.deepEqual(t.of("disconnected")[0].slice(0, 3), ["disconnected", "timeout", Err.TIMEOUT]);
    }
  });

  test("4: heavy inbound traffic never times out: 20 × keep_alive of messages with every PINGRESP 3 s behind them", () => {
    const t = fakeClient({ keep_alive: 2 });
    let got = 0;
    t.client.subscribe("flood", { qos: 0 }, () => got++);
    t.client.connect();
    t.accept();
    const pingresps = [];
    const msg = gen({ cmd: "publish", topic: "flood", payload: "0123456789", qos: 0 });
    let sent = 0;
    for (let ms = 0; ms < 20 * 2000; ms += 50) {
      t.fake.advance(50);
      t.receive(concat(msg, msg, msg, msg));
      sent += 4;
      for (const p of t.fake.sent()) if (p.type === TYPES.pingreq) pingresps.push(t.fake.now + 3000);
      while (pingresps.length && pingresps[0] <= t.fake.now) { pingresps.shift(); t.receive(gen({ cmd: "pingresp" })); }
    }
    assert.deepEqual(t.of("disconnected"), []);
    assert.equal(got, sent);
  });

  test("5: nothing is handled after `disconnected`: a bad packet followed by PUBLISHes in one chunk, short or longer than the receive buffer", () => {
    const publishes = (n) => concat(...Array.from({ length: n }, (_, i) => gen({ cmd: "publish", topic: "t", payload: "m" + i, qos: i % 2, messageId: i % 2 ? i : undefined })));
    for (const n of [2, 40]) { // 40 PUBLISHes: the chunk is appended in maxChunk pieces
      const t = fakeClient({ reconnect_min: 1000, limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 256, maxChunk: 64 } });
      t.client.subscribe("t", { qos: 1 }, () => t.events.push(["handler"]));
      t.client.connect();
      t.accept();
      t.fake.sent();
      const conn = t.fake.conn;
      t.receive(concat([0xf0, 0x00], publishes(n)));
      assert.deepEqual(t.events.slice(1).map((e) => e[0]), ["error", "disconnected"], `${n} PUBLISHes after the bad packet`);
      assert.deepEqual(conn.written.flatMap((b) => [...b]), [], "something was sent after the bad packet (a PUBACK?)");
      assert.equal(conn.closed, true);
      // One failed attempt, not more: the first backoff step (0.75 × reconnect_min with this jitter).
      t.fake.advanceUntil(() => t.fake.conns.length === 2, 1250, "the reconnect after one backoff step");
    }
  });

  test("5: a handler that calls disconnect() ends the handling of the chunk it came in, however long", () => {
    const t = fakeClient({ limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 256, maxChunk: 64 } });
    let handled = 0;
    t.client.subscribe("t", { qos: 1 }, () => { handled++; t.client.disconnect(); });
    t.client.connect();
    t.accept();
    t.receive(concat(...Array.from({ length: 40 }, (_, i) => gen({ cmd: "publish", topic: "t", payload: "m" + i, qos: 1, messageId: i + 1 }))));
    assert.equal(handled, 1);
    assert.deepEqual(t.of("message").map((e) => e[2]), ["m0"], "only the message being handled reaches the listeners");
    assert.deepEqual(t.of("error"), []);
    assert.equal(t.fake.ticking, false, "still reconnecting after disconnect()");
    t.client.connect();
    assert.equal(t.fake.conns.length, 2, "connect() after disconnect() did nothing");
  });

  test("6: incoming QoS 2 ids are forgotten when CONNACK says the session is new (MQTT-3.1.2-6)", { skip: compact && "the compact session keeps no incoming QoS 2 ids (no QoS 2)" }, () => {
    const t = fakeClient({ reconnect_min: 100 });
    t.client.connect();
    t.accept();
    t.receive(gen({ cmd: "publish", topic: "q2", payload: "first", qos: 2, messageId: 7 }));
    assert.deepEqual(t.fake.sent().map((p) => p.type), [TYPES.pubrec]);
    t.fake.conn.handler.onClose(t.fake.conn); // the PUBREL never comes
    t.fake.advanceUntil(() => t.fake.conns.length === 2, 2000, "reconnect");
    t.accept(false);
    t.receive(gen({ cmd: "publish", topic: "q2", payload: "second", qos: 2, messageId: 7 }));
    assert.deepEqual(t.of("message").map((e) => e[2]), ["first", "second"]);
  });

  test("7: oversize QoS 1/2 messages are acknowledged (PUBACK / PUBREC) and reported, so the broker's window never jams", () => {
    const t = fakeClient();
    let obeyed = 0;
    t.client.subscribe("cmd", { qos: 1 }, (m) => { if (m.text() === "stop") obeyed++; });
    t.client.connect();
    t.accept();
    t.fake.sent();
    const big = Buffer.alloc(1000, 0x61);
    const stream = [];
    for (let id = 1; id <= 25; id++) stream.push(...gen({ cmd: "publish", topic: "cmd", payload: big, qos: id <= 23 ? 1 : 2, messageId: id }));
    stream.push(...gen({ cmd: "publish", topic: "cmd", payload: "stop", qos: 1, messageId: 26 }));
    for (let i = 0; i < stream.length; i += 100) t.receive(Uint8Array.from(stream.slice(i, i + 100))); // split anywhere
    const acks = t.fake.sent().map((p) => parse(p.bytes)).map((p) => `${p.cmd} ${p.messageId}`);
    const expected = Array.from({ length: 26 }, (_, i) => `${i < 23 || i === 25 ? "puback" : "pubrec"} ${i + 1}`);
    assert.deepEqual(acks, expected);
    assert.equal(t.of("error").filter((e) => e[1] === "packet too large").length, 25);
    assert.equal(obeyed, 1, "the command after the oversize ones");
    assert.equal(t.client.connected, true);
  });

  test("9: PINGREQ never later than keep_alive after the last packet sent (MQTT-3.1.2-23), idle or publishing now and then", () => {
    const t = fakeClient({ keep_alive: 2 });
    t.client.connect();
    t.accept();
    const sentAt = [];
    for (let ms = 0; ms < 20 * 2000; ms += 50) {
      t.fake.advance(50);
      if (ms > 20000 && ms % 1300 === 0) t.client.publish("tele", "x");
      for (const p of t.fake.sent()) {
        sentAt.push(t.fake.now);
        if (p.type === TYPES.pingreq) t.receive(gen({ cmd: "pingresp" }));
      }
    }
    const gaps = sentAt.slice(1).map((at, i) => at - sentAt[i]);
    assert.ok(Math.max(...gaps) <= 2000, `gaps between packets sent: up to ${Math.max(...gaps)} ms with keep_alive 2 s`);
  });

  test("10: a refused publish is never silent (`busy` event), a typical burst fits the default window, and retrying on `drain` sends the rest", () => {
    const t = fakeClient({ limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 256 } });
    t.client.connect();
    t.accept();
    t.fake.sent();
    const payload = "x".repeat(61);
    let accepted = 0;
    for (let i = 0; i < 12; i++) if (t.client.publish("wisp/r/event", payload) === 0) accepted++;
    assert.equal(accepted, 12, "a burst of 12 × 61 B refused in part by the default window");
    let left = 40;
    const results = [];
    const burst = () => { while (left > 0) { const r = t.client.publish("wisp/r/event", payload); results.push(r); if (r !== 0) return; left--; } };
    t.client.on("drain", burst);
    burst();
    const busy = results.filter((r) => r === Err.BUSY).length;
    assert.ok(busy >= 1, "the window never filled");
    assert.equal(t.of("busy").length, busy, "a BUSY without its `busy` event");
    for (let i = 0; i < 20 && left > 0; i++) t.fake.conn.handler.onDrain(t.fake.conn); // the socket empties
    assert.equal(left, 0, "retrying on drain did not send the whole burst");
    assert.equal(t.fake.sent().length, 52);
    // Nothing unsent: even a publish bigger than the window goes out (a drain always follows a BUSY).
    assert.equal(t.client.publish("wisp/r/event", "y".repeat(200)), 0);
  });

  test("11: session present = 1 in answer to a clean session is a protocol error, never `connected`", () => {
    const t = fakeClient({ reconnect_min: 100 });
    t.client.connect();
    t.accept(true);
    assert.equal(t.client.connected, false);
    assert.deepEqual(t.of("error").map((e) => e.slice(0, 3)), [["error", "protocol violation", Err.PROTOCOL]]);
    assert.equal(t.fake.conn.closed, true);
    t.fake.advanceUntil(() => t.fake.conns.length === 2, 2000, "reconnect");
    t.accept(false);
    assert.equal(t.client.connected, true);
  });
});
}

// ---- the host simulator: dist/wisp.js in the Espruino stand-ins, against real brokers ---------------

/** dist/wisp.js in its own stand-in context (its own net and loop), events recorded with their time. */
function simClient(url, options = {}) {
  const w = loadWisp();
  const client = w.create(url, { client_id: `wisp-sf-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, reconnect_min: 100, reconnect_max: 500, ...options });
  const events = [];
  for (const e of ["connected", "disconnected", "error", "busy"]) client.on(e, (a, b) => events.push([e, a, b, Date.now()]));
  return { client, events, of: (name) => events.filter((e) => e[0] === name) };
}

/** An MQTT.js subscriber counting the payloads that arrive on `topic`. */
async function subscriber(url, topic, { clean = true, clientId } = {}) {
  const seen = new Map();
  const sub = mqtt.connect(`mqtt://${url}`, { clientId, clean, reconnectPeriod: 100 });
  sub.on("message", (t, payload) => seen.set(String(payload), (seen.get(String(payload)) || 0) + 1));
  sub.on("error", () => {});
  await new Promise((resolve) => sub.once("connect", resolve));
  await sub.subscribeAsync(topic, { qos: 1 });
  return { sub, seen, missing: (n) => Array.from({ length: n }, (_, i) => String(i)).filter((m) => !seen.has(m)) };
}

/** Publishes "0".."n-1" at QoS 1, retrying on `puback` / `drain` / `connected` after BUSY. */
function stream(client, topic, n) {
  let next = 0;
  const pump = () => { while (next < n && client.publish(topic, String(next), { qos: 1 }) > 0) next++; };
  for (const e of ["puback", "drain", "connected"]) client.on(e, pump);
  pump();
  return { get published() { return next; } };
}

/** A TCP server speaking just enough MQTT: CONNACK to the CONNECT, then `script(socket)`; records
 *  what the client sends after that. */
async function fakeBroker(script) {
  const received = [];
  const server = net.createServer((s) => {
    let connected = false;
    s.on("data", (d) => {
      if (connected) return received.push(...d);
      connected = true;
      s.write(Buffer.from(gen({ cmd: "connack", returnCode: 0, sessionPresent: false })));
      setTimeout(() => script(s), 50);
    });
    s.on("error", () => {});
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `127.0.0.1:${server.address().port}`, received, close: () => new Promise((r) => server.close(r)) };
}

/** One chunk: an invalid packet (reserved type 15), then a QoS 0 and a QoS 1 PUBLISH the client must not handle. */
const BAD_THEN_PUBLISHES = Buffer.from(concat([0xf0, 0x00], gen({ cmd: "publish", topic: "t", payload: "a", qos: 0 }), gen({ cmd: "publish", topic: "t", payload: "b", qos: 1, messageId: 9 })));

describe("issue 10 in the host simulator (dist/wisp.js in the stand-ins) against real brokers", { concurrency: true, skip: skipWithoutMosquitto }, () => {
  test("1: a client that only publishes stays connected 10 × keep_alive (1 s) on Mosquitto, and every message arrives", async () => {
    const broker = await startMosquitto();
    const sub = await subscriber(broker.url, "sf/pub");
    const w = simClient(broker.url, { keep_alive: 1 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    let n = 0;
    const timer = setInterval(() => { if (w.client.publish("sf/pub", String(n)) === 0) n++; }, 200);
    const until = Date.now() + 10 * 1000;
    await waitFor(() => Date.now() >= until || w.of("disconnected").length > 0, "10 s", 15000);
    clearInterval(timer);
    const drops = w.of("disconnected");
    await waitFor(() => sub.seen.size >= n, () => `${n} messages at the subscriber (${sub.seen.size})`, 5000).catch(() => {});
    w.client.disconnect();
    sub.sub.end(true);
    await broker.stop();
    assert.deepEqual(drops, []);
    assert.ok(n >= 45, `only ${n} published in 10 s`);
    assert.deepEqual(sub.missing(n), []);
  });

  test("2: Mosquitto stopped (refusing reconnects) and restarted 10 times during a QoS 1 stream: 0 lost, each reconnect ≤ 1.5 s after it is back", async () => {
    const N = 1000;
    const broker = await restartableMosquitto("wisp-sf-");
    const url = broker.url;
    const sub = await subscriber(url, "sf/restart", { clean: false, clientId: `sf-sub-${process.pid}` });
    const w = simClient(url, { clean_session: false, keep_alive: 2 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const s = stream(w.client, "sf/restart", N);
    const delays = [];
    for (let i = 1; i <= 10; i++) {
      await waitFor(() => w.client.connected && s.published >= (i * N) / 12, `progress before restart ${i}`, 20000);
      await broker.stop("SIGTERM");
      await waitFor(() => !w.client.connected, "the client noticing the broker gone");
      const connects = w.of("connected").length;
      const refusals = w.of("error").length;
      await waitFor(() => w.of("error").length >= refusals + 2, "two refused reconnects while the broker is down"); // net.connect throws
      await broker.start();
      const back = Date.now();
      await waitFor(() => w.of("connected").length > connects, `reconnect ${i}`, 10000);
      delays.push(w.of("connected").at(-1)[3] - back);
    }
    await waitFor(() => s.published === N && w.client.pending === 0, "every message published and acknowledged", 30000);
    await waitFor(() => sub.missing(N).length === 0, () => `every message at the subscriber (${sub.missing(N).length} missing)`, 15000).catch(() => {});
    w.client.disconnect();
    sub.sub.end(true);
    await broker.stop();
    log(`host simulator: 10 Mosquitto restarts, reconnected ${delays.join(", ")} ms after it was back; ${N - sub.missing(N).length} of ${N} arrived`);
    assert.deepEqual(sub.missing(N), [], "QoS 1 messages lost");
    assert.ok(Math.max(...delays) <= 1500, `reconnects ${delays.join(", ")} ms after the broker was back`);
  });

  test("3: a half-open link (proxy blackholed) is found ≤ 1.5 × keep_alive (2 s) while publishing", async () => {
    const broker = await startAedes();
    const proxy = await startProxy(broker.port);
    const w = simClient(proxy.url, { keep_alive: 2 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const timer = setInterval(() => w.client.publish("sf/half", "x"), 100);
    await new Promise((r) => setTimeout(r, 2500));
    proxy.state.mode = "blackhole";
    const t0 = Date.now();
    await waitFor(() => w.of("disconnected").length > 0, "the dead link noticed", 10000);
    const found = w.of("disconnected")[0][3] - t0;
    clearInterval(timer);
    w.client.disconnect();
    await proxy.stop();
    await broker.stop();
    log(`host simulator: half-open link found after ${found} ms (keep_alive 2 s)`);
    assert.equal(w.of("disconnected")[0][1], "timeout");
    assert.ok(found <= 1.5 * 2000, `found after ${found} ms`);
  });

  test("5: nothing is handled after `disconnected`: a bad packet and two PUBLISHes in one chunk from the broker", async () => {
    const broker = await fakeBroker((s) => s.write(BAD_THEN_PUBLISHES));
    const w = simClient(broker.url, { reconnect: false });
    const handled = [];
    w.client.subscribe("t", { qos: 1 }, (m) => handled.push(m.text()));
    w.client.on("message", (t, m) => handled.push(m));
    w.client.connect();
    await waitFor(() => w.of("disconnected").length > 0, "disconnected");
    await new Promise((r) => setTimeout(r, 200)); // anything still to come from that chunk
    await broker.close();
    assert.deepEqual(w.events.map((e) => e[0]), ["connected", "error", "disconnected"]);
    assert.deepEqual(handled, []);
    assert.ok(!broker.received.some((b, i) => b === 0x40 && i === 0), "a PUBACK was sent after the bad packet");
  });

  test("7: 25 oversize QoS 1 commands through Mosquitto are acknowledged and reported; the next command is obeyed", async () => {
    const broker = await startMosquitto();
    const w = simClient(broker.url, { keep_alive: 5 });
    const obeyed = [];
    w.client.subscribe("sf/cmd", { qos: 1 }, (m) => obeyed.push(m.text()));
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const pub = mqtt.connect(`mqtt://${broker.url}`);
    await new Promise((r) => pub.once("connect", r));
    await new Promise((r) => setTimeout(r, 200)); // the SUBSCRIBE in
    for (let i = 0; i < 25; i++) pub.publish("sf/cmd", Buffer.alloc(1000, 0x61), { qos: 1 });
    await pub.publishAsync("sf/cmd", "stop", { qos: 1 });
    await waitFor(() => obeyed.includes("stop"), () => `the command after the oversize ones (${w.of("error").length} errors)`, 10000);
    pub.end(true);
    w.client.disconnect();
    await broker.stop();
    assert.equal(w.of("error").filter((e) => e[1] === "packet too large").length, 25);
    assert.deepEqual(w.of("disconnected").filter((e) => e[1] !== "connection lost"), []);
  });

  test("9: PINGREQ never later than keep_alive (1 s) after the last packet sent, on the wire to Mosquitto", async () => {
    const broker = await startMosquitto();
    const arrivals = [];
    const proxy = await startProxy(broker.port, { onClientData: (c, d) => arrivals.push([Date.now(), d[0]]) });
    const w = simClient(proxy.url, { keep_alive: 1 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const from = arrivals.length;
    await new Promise((r) => setTimeout(r, 8000));
    w.client.disconnect();
    await proxy.stop();
    await broker.stop();
    const times = arrivals.slice(from).map((a) => a[0]);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    log(`host simulator: gaps between packets sent, keep_alive 1 s: ${Math.min(...gaps)}–${Math.max(...gaps)} ms`);
    assert.ok(gaps.length >= 8, `${gaps.length} packets in 8 s`);
    assert.ok(Math.max(...gaps) <= 1000, `a gap of ${Math.max(...gaps)} ms`);
    assert.deepEqual(w.of("disconnected").filter((e) => e[1] !== "connection lost"), []);
  });
});

describe("issue 10 in the host simulator: inbound flood", { skip: skipWithoutMosquitto }, () => {
  test("4: 30,000 QoS 0 messages to a slow subscription handler (0.1 ms each), keep_alive 1 s: never a timeout, all delivered", async () => {
    const broker = await startMosquitto();
    const w = simClient(broker.url, { keep_alive: 1 });
    let got = 0;
    w.client.subscribe("sf/flood", { qos: 0 }, () => {
      got++;
      for (const until = performance.now() + 0.1; performance.now() < until;); // the handler's own work
    });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const pub = mqtt.connect(`mqtt://${broker.url}`);
    await new Promise((r) => pub.once("connect", r));
    await new Promise((r) => setTimeout(r, 200));
    const N = 30000;
    const t0 = Date.now();
    for (let i = 0; i < N; i++) pub.publish("sf/flood", `message ${String(i).padStart(24, "0")}`);
    await waitFor(() => got === N || w.of("disconnected").length > 0, () => `${N} messages (${got})`, 60000);
    const ms = Date.now() - t0;
    const drops = w.of("disconnected");
    pub.end(true);
    w.client.disconnect();
    await broker.stop();
    log(`host simulator: ${got} of ${N} flood messages in ${ms} ms with keep_alive 1 s`);
    assert.deepEqual(drops, []);
    assert.equal(got, N);
    assert.ok(ms > 1500, `the flood took only ${ms} ms: too short to test the keepalive`);
  });
});

// ---- the real interpreter (ESPRUINO_BIN): dist/wisp.js as a module, against Mosquitto -----------------

/** Runs `body` on the interpreter after creating `c` = require("wisp").create(url, options), whose events
 *  are printed as "EV <name> <a> <b>"; the script marks its lines with "@@". Returns {lines: [[arrival ms, text]], done} (done: the output). */
function onEspruino(url, options, body, timeoutMs = 40000) {
  const lines = [];
  let seen = 0;
  const script = `
    var c = require("wisp").create(${JSON.stringify(url)}, ${JSON.stringify({ reconnect_min: 100, reconnect_max: 500, ...options })});
    function ev(n) { return function (a, b) { print("@@EV " + n + " " + a + " " + (b === undefined ? "" : b)); }; }
    ["connected", "disconnected", "error", "subscribed"].forEach(function (n) { c.on(n, ev(n)); });
    ${body}`;
  const done = runOnEspruino(script, {
    modules: WISP_MODULES, timeoutMs,
    onOutput: (all) => {
      const parts = all.slice(seen).split("\n");
      for (let i = 0; i < parts.length - 1; i++) {
        seen += parts[i].length + 1;
        const at = parts[i].indexOf("@@"); // after the console's prompt and escapes
        if (at >= 0) lines.push([Date.now(), parts[i].slice(at + 2).trim()]);
      }
    },
  });
  done.catch(() => {});
  const of = (prefix) => lines.filter((l) => l[1].startsWith(prefix));
  return { lines, done, of };
}

describe("issue 10 on the real interpreter against Mosquitto", { concurrency: true, skip: skipWithoutEspruino || skipWithoutMosquitto }, () => {
  test("1: a client that only publishes stays connected 10 × keep_alive (1 s), and every message arrives", async () => {
    const broker = await startMosquitto();
    const sub = await subscriber(broker.url, "sf/e/pub");
    const e = onEspruino(broker.url, { client_id: "sf-e-pub", keep_alive: 1 }, `
      var n = 0;
      c.on("connected", function () {
        var t = setInterval(function () { if (c.publish("sf/e/pub", String(n)) === 0) n++; }, 200);
        setTimeout(function () { clearInterval(t); print("@@PUBLISHED " + n); setTimeout(function () { c.disconnect(); quit(); }, 300); }, 10000);
      });
      c.connect();`);
    const out = await e.done;
    const n = Number((out.match(/@@PUBLISHED (\d+)/) || [])[1]);
    await waitFor(() => sub.seen.size >= n, () => `${n} messages at the subscriber (${sub.seen.size})`, 5000).catch(() => {});
    sub.sub.end(true);
    await broker.stop();
    assert.deepEqual(e.of("EV disconnected").filter((l) => !l[1].includes("connection lost")), [], out);
    assert.equal(e.of("EV connected").length, 1, out);
    assert.ok(n >= 40, out);
    assert.deepEqual(sub.missing(n), []);
  });

  test("2: Mosquitto stopped (refusing reconnects) and restarted 10 times during a QoS 1 stream: 0 lost, each reconnect ≤ 1.5 s after it is back", async () => {
    const N = 400;
    const broker = await restartableMosquitto("wisp-sf-e-");
    const url = broker.url;
    const sub = await subscriber(url, "sf/e/restart", { clean: false, clientId: `sf-e-sub-${process.pid}` });
    const e = onEspruino(url, { client_id: "sf-e-restart", clean_session: false, keep_alive: 2 }, `
      var next = 0;
      function pump() {
        while (next < ${N} && c.publish("sf/e/restart", String(next), { qos: 1 }) > 0) { next++; if (next % 10 === 0) print("@@P " + next); }
        if (next === ${N} && c.pending === 0) { print("@@ALLACKED"); c.disconnect(); setTimeout(quit, 200); }
      }
      c.on("puback", pump); c.on("drain", pump); c.on("connected", pump);
      c.connect();`, 90000);
    const published = () => { const p = e.of("P "); return p.length ? Number(p.at(-1)[1].slice(2)) : 0; };
    const delays = [];
    for (let i = 1; i <= 10; i++) {
      await waitFor(() => e.of("EV connected").length === i && published() >= (i * N) / 12, `progress before restart ${i}`, 20000);
      await broker.stop("SIGTERM");
      await waitFor(() => e.of("EV disconnected").length === i, "the interpreter noticing the broker gone");
      const refusals = e.of("EV error").length;
      await waitFor(() => e.of("EV error").length >= refusals + 2, "two refused reconnects while the broker is down");
      await broker.start();
      const back = Date.now();
      await waitFor(() => e.of("EV connected").length > i, `reconnect ${i}`, 10000);
      delays.push(e.of("EV connected").at(-1)[0] - back);
    }
    const out = await e.done;
    await waitFor(() => sub.missing(N).length === 0, () => `every message at the subscriber (${sub.missing(N).length} missing)`, 15000).catch(() => {});
    sub.sub.end(true);
    await broker.stop();
    log(`interpreter: 10 Mosquitto restarts, reconnected ${delays.join(", ")} ms after it was back; ${N - sub.missing(N).length} of ${N} arrived`);
    assert.match(out, /ALLACKED/);
    assert.deepEqual(sub.missing(N), [], "QoS 1 messages lost");
    assert.ok(Math.max(...delays) <= 1500, `reconnects ${delays.join(", ")} ms after the broker was back`);
  });

  test("3: a half-open link (proxy blackholed) is found ≤ 1.5 × keep_alive (2 s) while publishing", async () => {
    const broker = await startAedes();
    const proxy = await startProxy(broker.port);
    const e = onEspruino(proxy.url, { client_id: "sf-e-half", keep_alive: 2, reconnect: false }, `
      c.on("connected", function () { setInterval(function () { c.publish("sf/e/half", "x"); }, 100); });
      c.on("disconnected", function () { setTimeout(quit, 100); });
      c.connect();`);
    await waitFor(() => e.of("EV connected").length === 1, "connected");
    await new Promise((r) => setTimeout(r, 2500));
    proxy.state.mode = "blackhole";
    const t0 = Date.now();
    await waitFor(() => e.of("EV disconnected").length === 1, "the dead link noticed", 10000);
    const found = e.of("EV disconnected")[0][0] - t0;
    await e.done;
    await proxy.stop();
    await broker.stop();
    log(`interpreter: half-open link found after ${found} ms (keep_alive 2 s)`);
    assert.match(e.of("EV disconnected")[0][1], /timeout/, e.lines.map((l) => l[1]).join("\n"));
    assert.ok(found <= 1.5 * 2000, `found after ${found} ms`);
  });

  test("4: 5,000 QoS 0 messages to a subscription handler, keep_alive 1 s: never a timeout, all delivered", async () => {
    const broker = await startMosquitto();
    const N = 5000;
    const e = onEspruino(broker.url, { client_id: "sf-e-flood", keep_alive: 1 }, `
      var got = 0;
      c.subscribe("sf/e/flood", { qos: 0 }, function () { if (++got === ${N}) { print("@@GOT " + got); c.disconnect(); setTimeout(quit, 100); } });
      c.on("disconnected", function (r) { if (got < ${N}) { print("@@GOT " + got); setTimeout(quit, 100); } });
      c.connect();`, 60000);
    await waitFor(() => e.of("EV subscribed").length === 1, "subscribed");
    const pub = mqtt.connect(`mqtt://${broker.url}`);
    await new Promise((r) => pub.once("connect", r));
    const t0 = Date.now();
    for (let i = 0; i < N; i++) pub.publish("sf/e/flood", `message ${String(i).padStart(24, "0")}`);
    const out = await e.done;
    const ms = Date.now() - t0;
    pub.end(true);
    await broker.stop();
    log(`interpreter: ${out.match(/GOT \d+/)} of ${N} flood messages in ${ms} ms with keep_alive 1 s`);
    assert.match(out, new RegExp(`@@GOT ${N}\\b`));
    assert.deepEqual(e.of("EV disconnected").filter((l) => !l[1].includes("connection lost")), [], out);
  });

  test("5: nothing is handled after `disconnected`: a bad packet and two PUBLISHes in one chunk from the broker", async () => {
    const broker = await fakeBroker((s) => s.write(BAD_THEN_PUBLISHES));
    const e = onEspruino(broker.url, { client_id: "sf-e-bad", reconnect: false }, `
      c.subscribe("t", { qos: 1 }, function (m) { print("@@HANDLED " + m.text()); });
      c.on("message", function (t, m) { print("@@MESSAGE " + m); });
      c.on("disconnected", function () { setTimeout(quit, 300); });
      c.connect();`);
    const out = await e.done;
    await broker.close();
    assert.deepEqual(e.lines.filter((l) => /^(EV|HANDLED|MESSAGE)/.test(l[1])).map((l) => l[1].split(" ").slice(0, 2).join(" ")), ["EV connected", "EV error", "EV disconnected"], out);
    assert.ok(!broker.received.includes(0x40), "a PUBACK was sent after the bad packet");
  });

  test("7: 25 oversize QoS 1 commands through Mosquitto are acknowledged and reported; the next command is obeyed", async () => {
    const broker = await startMosquitto();
    const e = onEspruino(broker.url, { client_id: "sf-e-big", keep_alive: 5 }, `
      var errors = 0;
      c.on("error", function (r) { if (r === "packet too large") errors++; });
      c.subscribe("sf/e/cmd", { qos: 1 }, function (m) { if (m.text() === "stop") { print("@@OBEYED after " + errors); c.disconnect(); setTimeout(quit, 100); } });
      c.connect();`);
    await waitFor(() => e.of("EV subscribed").length === 1, "subscribed");
    const pub = mqtt.connect(`mqtt://${broker.url}`);
    await new Promise((r) => pub.once("connect", r));
    for (let i = 0; i < 25; i++) pub.publish("sf/e/cmd", Buffer.alloc(1000, 0x61), { qos: 1 });
    await pub.publishAsync("sf/e/cmd", "stop", { qos: 1 });
    const out = await e.done;
    pub.end(true);
    await broker.stop();
    assert.match(out, /@@OBEYED after 25\b/);
  });

  test("9: PINGREQ never later than keep_alive (1 s) after the last packet sent, on the wire to Mosquitto", async () => {
    const broker = await startMosquitto();
    const arrivals = [];
    const proxy = await startProxy(broker.port, { onClientData: (c, d) => arrivals.push(Date.now()) });
    const e = onEspruino(proxy.url, { client_id: "sf-e-ping", keep_alive: 1 }, `
      c.on("connected", function () { setTimeout(function () { print("@@IDLE DONE"); quit(); }, 8000); });
      c.connect();`);
    await waitFor(() => e.of("EV connected").length === 1, "connected");
    const from = arrivals.length;
    await e.done;
    await proxy.stop();
    await broker.stop();
    const times = arrivals.slice(from);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    log(`interpreter: gaps between packets sent, keep_alive 1 s: ${Math.min(...gaps)}–${Math.max(...gaps)} ms`);
    assert.ok(gaps.length >= 8, `${gaps.length} packets in 8 s`);
    assert.ok(Math.max(...gaps) <= 1000, `a gap of ${Math.max(...gaps)} ms`);
    assert.deepEqual(e.of("EV disconnected"), []);
  });
});
