// The session on a scripted socket and a fake clock: every state transition, byte-exact.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import { readFileSync } from "node:fs";
import { loadWisp } from "../host-sim/node/load.mjs";
import { createBareEnv } from "../host-sim/espruino/env.mjs";
import { fakePlatform } from "./helpers/fake-platform.mjs";
import { Err, TYPES } from "./helpers/codec.mjs";

/** Both sessions, unminified: the layered one (dist/wisp-esp32.js) and the compact one (dist/wisp.js,
 *  the ESP8266 firmware), each run through every test; `layeredOnly` marks what the compact session
 *  leaves out (QoS 2), which its own tests below check is refused with a clear error. */
const EDITIONS = [["layered session (dist/wisp-esp32.js)", "test/wisp.espruino.js", false], ["compact session (dist/wisp.js)", "test/wisp-compact.espruino.js", true]];
for (const [edition, file, compact] of EDITIONS) describe(edition, () => {
const wisp = loadWisp(file);
const layeredOnly = compact && "the compact session has no QoS 2 (refused with BAD_QOS, tested below)";
/** Byte payloads as the module's own context makes them. */
const U8 = wisp.Uint8Array;
const gen = (p) => new Uint8Array(mqttPacket.generate(p));
const CONNACK = gen({ cmd: "connack", returnCode: 0, sessionPresent: false });

/** A client on a fake platform with its events recorded. */
function setup(options = {}, server = "broker:1883") {
  const fake = fakePlatform();
  const events = [];
  const client = wisp.create(server, { client_id: "c1", platform: fake.platform, limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 256 }, ...options });
  for (const e of ["connected", "disconnected", "error", "subscribed", "subscribed_fail", "unsubscribed", "puback", "message", "drain", "busy"]) {
    client.on(e, (a, b) => events.push([e, a, b]));
  }
  return { fake, client, events };
}

/** Connects through TCP open and CONNACK; returns what was sent before CONNACK. */
function online(t, connack = CONNACK) {
  t.client.connect();
  t.fake.conn.handler.onOpen(t.fake.conn);
  const sent = t.fake.sent();
  t.fake.conn.handler.onData(t.fake.conn, connack);
  return sent;
}
const receive = (t, bytes) => t.fake.conn.handler.onData(t.fake.conn, bytes);
const names = (events) => events.map((e) => e[0]);

test("CONNECT carries the options; connected only after CONNACK 0", () => {
  const t = setup({ keep_alive: 30, clean_session: false, username: "u", password: "p", will: { topic: "w/s", message: "off", qos: 1, retain: true } });
  t.client.connect();
  assert.equal(t.fake.conn.host, "broker");
  assert.equal(t.fake.conn.port, 1883);
  t.fake.conn.handler.onOpen(t.fake.conn);
  const [connect] = t.fake.sent();
  assert.deepEqual(connect.bytes, gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: "c1", keepalive: 30, will: { topic: "w/s", payload: "off", qos: 1, retain: true }, username: "u", password: "p" }));
  assert.equal(t.client.connected, false);
  assert.deepEqual(names(t.events), []);
  receive(t, CONNACK);
  assert.equal(t.client.connected, true);
  assert.deepEqual(t.events, [["connected", false, undefined]]);
});

test("a refused CONNACK is an error in words, never `connected`, and reconnects with growing backoff", () => {
  const t = setup({ reconnect_min: 1000, reconnect_max: 8000 });
  const opens = [];
  t.client.connect();
  for (let i = 0; i < 5; i++) {
    opens.push(t.fake.conns.length);
    t.fake.conn.handler.onOpen(t.fake.conn);
    receive(t, gen({ cmd: "connack", returnCode: 5 }));
    assert.equal(t.fake.conn.closed, true);
    const before = t.fake.conns.length;
    const wait = Math.min(8000, 1000 * 2 ** i) * 0.75; // random() = 0.5 → 0.75 of the step
    t.fake.advance(wait - 300);
    assert.equal(t.fake.conns.length, before, `attempt ${i}: reconnected too early`);
    t.fake.advance(600);
    assert.equal(t.fake.conns.length, before + 1, `attempt ${i}: no reconnect`);
  }
  assert.ok(!names(t.events).includes("connected"));
  assert.deepEqual(t.events[0], ["error", "connection refused: not authorized", Err.REFUSED]);
});

test("a broker list is failed over in turn", () => {
  const t = setup({ reconnect_min: 100 }, ["a:1", "b:2", "c"]);
  t.client.connect();
  const seen = [];
  for (let i = 0; i < 4; i++) {
    seen.push(`${t.fake.conn.host}:${t.fake.conn.port}`);
    t.fake.conn.handler.onClose(t.fake.conn);
    const conns = t.fake.conns.length;
    t.fake.advanceUntil(() => t.fake.conns.length > conns, 10000, `reconnect after ${seen.at(-1)}`);
  }
  assert.deepEqual(seen, ["a:1", "b:2", "c:1883", "a:1"]);
});

test("keepalive: PINGREQ within keep_alive s of the last exchange (MQTT-3.1.2-23); no PINGRESP ⇒ dead, closed, reconnecting", () => {
  const t = setup({ keep_alive: 10, ping_timeout: 3000, reconnect_min: 1000 });
  online(t);
  t.fake.sent();
  t.fake.advance(9250);
  assert.deepEqual(t.fake.sent(), []);
  t.fake.advance(500);
  assert.deepEqual(t.fake.sent().map((p) => p.type), [TYPES.pingreq]);
  receive(t, gen({ cmd: "pingresp" }));
  const pongAt = t.fake.now;
  t.fake.advanceUntil(() => t.fake.sent().some((p) => p.type === TYPES.pingreq), 20000, "a second PINGREQ");
  const pingAt = t.fake.now;
  assert.ok(pingAt - pongAt >= 9250 && pingAt - pongAt <= 10000, `PINGREQ ${pingAt - pongAt} ms after the last exchange`);
  const conns = t.fake.conns.length;
  t.fake.advanceUntil(() => !t.client.connected, 10000, "the connection declared dead");
  const deadAfter = t.fake.now - pingAt;
  assert.ok(deadAfter > 3000 && deadAfter <= 3250, `declared dead ${deadAfter} ms after PINGREQ (ping_timeout 3000)`);
  assert.equal(t.fake.conns[conns - 1].closed, true);
  assert.deepEqual(t.events.at(-1), ["disconnected", "timeout", Err.TIMEOUT]);
  t.fake.advance(1000);
  assert.equal(t.fake.conns.length, conns + 1, "no reconnect");
});

test("publishing resets the keepalive clock (MQTT 3.1.2.10: PINGREQ only when nothing was sent)", () => {
  const t = setup({ keep_alive: 10 });
  online(t);
  t.fake.sent();
  for (let i = 0; i < 5; i++) {
    t.fake.advance(5000);
    receive(t, gen({ cmd: "pingresp" }));
    assert.equal(t.client.publish("a", "x"), 0);
  }
  assert.deepEqual(t.fake.sent().map((p) => p.type), [3, 3, 3, 3, 3]);
});

test("no CONNACK within connect_timeout ⇒ error and reconnect", () => {
  const t = setup({ connect_timeout: 5000, reconnect_min: 1000 });
  t.client.connect();
  t.fake.conn.handler.onOpen(t.fake.conn);
  t.fake.advance(5250);
  assert.equal(t.fake.conns[0].closed, true);
  assert.deepEqual(t.events[0], ["error", "timeout", Err.TIMEOUT]);
  t.fake.advance(1000);
  assert.equal(t.fake.conns.length, 2);
});

test("QoS 1: ids non-zero and distinct, BUSY when the slots are full, PUBACK frees a slot", () => {
  const t = setup();
  online(t);
  t.fake.sent();
  const ids = [1, 2, 3, 4].map((i) => t.client.publish("t", "m" + i, { qos: 1 }));
  assert.deepEqual(ids, [1, 2, 3, 4]);
  assert.equal(t.client.publish("t", "m5", { qos: 1 }), Err.BUSY);
  assert.equal(t.client.pending, 4);
  const sent = t.fake.sent();
  assert.deepEqual(sent.map((p) => [p.type, p.flags]), [[3, 2], [3, 2], [3, 2], [3, 2]]);
  receive(t, gen({ cmd: "puback", messageId: 2 }));
  assert.equal(t.client.pending, 3);
  assert.deepEqual(t.events.at(-1), ["puback", 2, undefined]);
  assert.equal(t.client.publish("t", "m5", { qos: 1 }), 5);
});

test("packet ids wrap 65535 → 1 and skip ids still in flight", () => {
  const t = setup();
  online(t);
  assert.equal(t.client.publish("t", "held", { qos: 1 }), 1);
  for (let i = 2; i <= 65535; i++) {
    assert.equal(t.client.publish("t", "x", { qos: 1 }), i);
    t.fake.conn.handler.onDrain(t.fake.conn);
    receive(t, gen({ cmd: "puback", messageId: i }));
  }
  assert.equal(t.client.publish("t", "x", { qos: 1 }), 2, "reused id 1 while in flight");
});

test("after reconnect, unacknowledged QoS 1 messages are resent with DUP=1 and their original ids, in order", () => {
  const t = setup({ clean_session: false, reconnect_min: 100 });
  online(t);
  for (let i = 0; i < 3; i++) t.client.publish("t", "m" + i, { qos: 1 });
  receive(t, gen({ cmd: "puback", messageId: 2 }));
  const first = t.fake.sent();
  t.fake.conn.handler.onClose(t.fake.conn);
  assert.equal(t.client.publish("t", "offline", { qos: 1 }), 4, "offline QoS 1 is queued");
  assert.equal(t.client.publish("t", "offline", { qos: 0 }), Err.NOT_CONNECTED);
  t.fake.advance(1000);
  t.fake.conn.handler.onOpen(t.fake.conn);
  t.fake.sent();
  receive(t, gen({ cmd: "connack", returnCode: 0, sessionPresent: true }));
  const resent = t.fake.sent();
  assert.deepEqual(resent.map((p) => p.flags), [0b1010, 0b1010, 0b0010]);
  const parse = (b) => { let p; const parser = mqttPacket.parser(); parser.on("packet", (x) => (p = x)); parser.parse(Buffer.from(b)); return p; };
  assert.deepEqual(resent.map((p) => [parse(p.bytes).messageId, String(parse(p.bytes).payload)]), [[1, "m0"], [3, "m2"], [4, "offline"]]);
  assert.deepEqual(first.filter((p) => p.type === 3).map((p) => p.bytes.slice(1)), [0, 1, 2].map((i) => gen({ cmd: "publish", topic: "t", payload: "m" + i, qos: 1, messageId: i + 1 }).slice(1)));
});

test("QoS 2 publish: PUBREC → PUBREL → PUBCOMP frees the slot; PUBREL is resent after reconnect", { skip: layeredOnly }, () => {
  const t = setup({ reconnect_min: 100, clean_session: false });
  online(t);
  t.fake.sent();
  assert.equal(t.client.publish("t", "x", { qos: 2 }), 1);
  receive(t, gen({ cmd: "pubrec", messageId: 1 }));
  assert.deepEqual(t.fake.sent().map((p) => [p.type, p.flags]), [[3, 4], [6, 2]]);
  t.fake.conn.handler.onClose(t.fake.conn);
  t.fake.advance(1000);
  t.fake.conn.handler.onOpen(t.fake.conn);
  receive(t, gen({ cmd: "connack", returnCode: 0, sessionPresent: true }));
  assert.deepEqual(t.fake.sent().map((p) => [p.type, p.flags]), [[1, 0], [6, 2]]);
  receive(t, gen({ cmd: "pubcomp", messageId: 1 }));
  assert.equal(t.client.pending, 0);
});

test("incoming QoS 1 gets PUBACK; QoS 2 gets PUBREC, is delivered once despite DUP resends, PUBREL → PUBCOMP", { skip: layeredOnly }, () => {
  const t = setup();
  online(t);
  t.fake.sent();
  receive(t, gen({ cmd: "publish", topic: "a/b", payload: "one", qos: 1, messageId: 7 }));
  receive(t, gen({ cmd: "publish", topic: "a/b", payload: "two", qos: 2, messageId: 8 }));
  receive(t, gen({ cmd: "publish", topic: "a/b", payload: "two", qos: 2, messageId: 8, dup: true }));
  receive(t, gen({ cmd: "pubrel", messageId: 8 }));
  assert.deepEqual(t.fake.sent().map((p) => Buffer.from(p.bytes).toString("hex")), ["40020007", "50020008", "50020008", "70020008"]);
  assert.deepEqual(t.events.filter((e) => e[0] === "message"), [["message", "a/b", "one"], ["message", "a/b", "two"]]);
});

test("subscriptions: handlers get a reused view of matching topics; SUBACK 0x80 ⇒ subscribed_fail", () => {
  const t = setup();
  online(t);
  t.fake.sent();
  const got = [];
  const views = new Set();
  assert.equal(t.client.subscribe("wisp/+/cmd", { qos: 1 }, (m) => { views.add(m); got.push([m.topic(), m.text(), m.qos]); }), 0);
  assert.equal(t.client.subscribe(["x/#", "denied"], { qos: 0 }), 0);
  const subs = t.fake.sent();
  assert.deepEqual(subs.map((p) => Buffer.from(p.bytes).toString("hex")), [
    Buffer.from(gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "wisp/+/cmd", qos: 1 }] })).toString("hex"),
    Buffer.from(gen({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic: "x/#", qos: 0 }] })).toString("hex"),
    Buffer.from(gen({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "denied", qos: 0 }] })).toString("hex"),
  ]);
  receive(t, gen({ cmd: "suback", messageId: 1, granted: [1] }));
  receive(t, gen({ cmd: "suback", messageId: 3, granted: [128] }));
  assert.deepEqual(t.events.filter((e) => e[0].startsWith("subscribed")), [["subscribed", "wisp/+/cmd", 1], ["subscribed_fail", "denied", undefined]]);
  for (const topic of ["wisp/d1/cmd", "wisp/d2/cmd", "wisp/d1/cmd/x", "wisp/cmd", "x/y"]) receive(t, gen({ cmd: "publish", topic, payload: "go", qos: 0 }));
  assert.deepEqual(got, [["wisp/d1/cmd", "go", 0], ["wisp/d2/cmd", "go", 0]]);
  assert.equal(views.size, 1, "the message view is reused");
});

test("a stream on one topic: every message's fields and payload are its own, after a QoS 1 message or a control packet too, split anywhere, in pieces when longer than the buffer", () => {
  const stream = Buffer.concat([
    gen({ cmd: "publish", topic: "a/b", payload: "one", qos: 0 }),
    gen({ cmd: "publish", topic: "a/b", payload: "two", qos: 0, retain: true }),
    gen({ cmd: "publish", topic: "a/b", payload: "three", qos: 1, messageId: 7 }),
    gen({ cmd: "pingresp" }),
    gen({ cmd: "publish", topic: "a/b", payload: "four", qos: 0 }),
    gen({ cmd: "publish", topic: "a/c", payload: "five", qos: 0 }),
    gen({ cmd: "publish", topic: "a/b", payload: "six".repeat(30), qos: 0 }),
  ]);
  const expected = [
    ["a/b", "one", 0, false, 0], ["a/b", "two", 0, true, 0], ["a/b", "three", 1, false, 7],
    ["a/b", "four", 0, false, 0], ["a/c", "five", 0, false, 0], ["a/b", "six".repeat(30), 0, false, 0],
  ];
  // A small buffer (128 + 16 bytes) too: chunks longer than its room are appended in pieces, and a
  // partial packet is moved to the front.
  for (const limits of [undefined, { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 128, maxChunk: 16 }]) for (let cut = 0; cut < stream.length; cut++) {
    const t = setup(limits ? { limits } : {});
    online(t);
    const views = [];
    const heard = [];
    t.client.subscribe("a/+", { qos: 1 }, (m) => views.push([m.topic(), m.text(), m.qos, m.retain, m.packetId]));
    t.client.on("message", (topic, payload) => heard.push([topic, payload]));
    receive(t, stream.subarray(0, cut));
    receive(t, stream.subarray(cut));
    assert.deepEqual(views, expected, `split at ${cut}${limits ? ", small buffer" : ""}`);
    assert.deepEqual(heard, expected.map((e) => [e[0], e[1]]), `split at ${cut}${limits ? ", small buffer" : ""}`);
  }
});

test("message and publish listeners come and go with on / removeAllListeners, before and after the first message", () => {
  const t = setup();
  online(t);
  const got = [];
  const pub = (n) => receive(t, gen({ cmd: "publish", topic: "l/t", payload: String(n), qos: 0 }));
  pub(0); // no listener yet
  t.client.on("message", (topic, payload) => got.push(["m1", payload]));
  t.client.on("publish", (p) => got.push(["p", p.message]));
  pub(1);
  t.client.on("message", (topic, payload) => got.push(["m2", payload]));
  pub(2);
  t.client.removeAllListeners("message");
  pub(3);
  t.client.removeAllListeners();
  pub(4);
  t.client.on("message", (topic, payload) => got.push(["m3", topic + " " + payload]));
  pub(5);
  assert.deepEqual(got, [["m1", "1"], ["p", "1"], ["m1", "2"], ["m2", "2"], ["p", "2"], ["p", "3"], ["m3", "l/t 5"]]);
});

test("topic matching follows MQTT 4.7", () => {
  const cases = [
    ["#", "a", true], ["#", "a/b/c", true], ["#", "$SYS/x", false], ["+/x", "$SYS/x", false], ["$SYS/#", "$SYS/x", true],
    ["a/#", "a", true], ["a/#", "a/b/c", true], ["a/#", "ab", false], ["a/+", "a/b", true], ["a/+", "a/b/c", false],
    ["a/+", "a/", true], ["+/+", "/x", true], ["+", "a", true], ["+", "a/b", false], ["a/b", "a/b", true], ["a/b", "a/bc", false],
    ["a/b", "a", false], ["+/b/#", "x/b", true], ["/#", "/", true], ["a/+/c", "a//c", true], ["\u20ac/+", "\u20ac/x", true],
  ];
  const t = setup();
  online(t);
  for (const [filter, topic, want] of cases) {
    let hit = false;
    t.client.subscribe(filter, {}, () => (hit = true));
    receive(t, gen({ cmd: "publish", topic, payload: "", qos: 0 }));
    t.client.unsubscribe(filter);
    assert.equal(hit, want, `${filter} vs ${topic}`);
  }
});

test("a filter equal to another filter's UTF-8 bytes is a subscription of its own, not a corrupted one", { skip: compact && "the compact session keeps one subscription per filter as sent (its UTF-8 bytes): tested below" }, () => {
  const t = setup();
  online(t);
  const got = [];
  assert.equal(t.client.subscribe("\u20ac", { qos: 0 }, () => got.push("euro")), 0);
  // "\u20ac" is kept beside its bytes e2 82 ac; a byte-string filter of those bytes is found as a
  // subscription of its own, not as the entry after "\u20ac" (which once took it for one).
  assert.equal(t.client.subscribe("\xe2\x82\xac", { qos: 1 }, () => got.push("bytes")), 0);
  assert.deepEqual(t.fake.sent().map((p) => [p.bytes[0] >> 4, p.bytes.at(-1)]), [[TYPES.subscribe, 0], [TYPES.subscribe, 1]], "two SUBSCRIBEs, QoS 0 then 1");
  receive(t, gen({ cmd: "publish", topic: "\u20ac", payload: "", qos: 0 }));
  assert.deepEqual(got, ["euro", "bytes"], "the same filter on the wire: both handlers");
  assert.equal(t.client.unsubscribe("\xe2\x82\xac"), 0);
  receive(t, gen({ cmd: "publish", topic: "\u20ac", payload: "", qos: 0 }));
  assert.deepEqual(got, ["euro", "bytes", "euro"], "unsubscribing the byte-string filter left the other");
});

test("persistent session: session present 0 ⇒ resubscribe; session present 1 ⇒ not", () => {
  const t = setup({ clean_session: false, reconnect_min: 100 });
  online(t);
  t.client.subscribe("a/b", { qos: 1 });
  t.fake.sent();
  for (const [present, expect] of [[true, []], [false, [TYPES.subscribe]]]) {
    t.fake.conn.handler.onClose(t.fake.conn);
    t.fake.advance(1000);
    t.fake.conn.handler.onOpen(t.fake.conn);
    t.fake.sent();
    receive(t, gen({ cmd: "connack", returnCode: 0, sessionPresent: present }));
    assert.deepEqual(t.fake.sent().map((p) => p.type), expect, `session present ${present}`);
  }
});

test("writes are paced on drain: QoS 0 returns BUSY past the window, QoS 1 waits in its slot", () => {
  const t = setup({ limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, txWindow: 256, maxPacket: 256 } });
  online(t);
  t.fake.sent();
  const payload = new U8(100);
  assert.equal(t.client.publish("t", payload), 0);
  assert.equal(t.client.publish("t", payload), 0);
  assert.equal(t.client.publish("t", payload), 0, "a packet more than the 256-byte window's room still goes");
  assert.equal(t.client.publish("t", payload), Err.BUSY);
  assert.deepEqual(t.events.filter((e) => e[0] === "busy").length, 1);
  assert.equal(t.client.publish("t", new U8(40), { qos: 1 }), 1);
  assert.deepEqual(t.fake.sent().length, 3, "QoS 1 went out past the window");
  t.fake.conn.handler.onDrain(t.fake.conn);
  assert.deepEqual(t.fake.sent().map((p) => p.type), [3]);
  assert.ok(t.events.some((e) => e[0] === "drain"));
  assert.equal(t.client.publish("t", payload), 0);
});

test("bad arguments give a clear error and leave the session untouched", () => {
  const t = setup();
  online(t);
  t.client.publish("ok", "x", { qos: 1 });
  t.fake.sent();
  const errorsBefore = t.events.length;
  const cases = [
    [() => t.client.publish("a/#", "x"), Err.BAD_TOPIC],
    [() => t.client.publish("a/+", "x", { qos: 1 }), Err.BAD_TOPIC],
    [() => t.client.publish(42, "x"), Err.BAD_TOPIC],
    [() => t.client.publish("t", "x", { qos: 3 }), Err.BAD_QOS],
    [() => t.client.publish("t", new U8(1000), { qos: 1 }), Err.PACKET_TOO_LARGE],
    [() => t.client.publish("t", { an: "object" }), Err.BAD_ARGUMENT],
    [() => t.client.subscribe("a/#/b"), Err.BAD_FILTER],
    [() => t.client.subscribe("a", { qos: 3 }), Err.BAD_QOS],
    [() => t.client.subscribe(7), Err.BAD_ARGUMENT],
  ];
  for (const [call, err] of cases) assert.equal(call(), err, String(call));
  assert.deepEqual(t.events.slice(errorsBefore).map((e) => e[2]), cases.map((c) => c[1]));
  assert.ok(t.events.slice(errorsBefore).every((e) => e[0] === "error" && typeof e[1] === "string" && e[1].length > 3));
  assert.deepEqual(t.fake.sent(), [], "something was sent");
  assert.equal(t.client.pending, 1);
  assert.equal(t.client.connected, true);
  receive(t, gen({ cmd: "puback", messageId: 1 }));
  assert.equal(t.client.pending, 0);
});

test("malformed input from the broker: error, connection dropped, session reconnects and recovers", () => {
  const inputs = {
    "reserved type 15": new Uint8Array([0xf0, 0x00]),
    "SUBACK code 3": new Uint8Array([0x90, 0x03, 0x00, 0x01, 0x03]),
    "five-byte length": new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    "second CONNACK": CONNACK,
    "QoS 3 publish": new Uint8Array([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]),
  };
  for (const [name, bytes] of Object.entries(inputs)) {
    const t = setup({ reconnect_min: 100 });
    online(t);
    t.client.publish("t", "keep", { qos: 1 });
    receive(t, bytes);
    assert.equal(t.client.connected, false, name);
    assert.equal(t.events.filter((e) => e[0] === "error").length, 1, name);
    assert.equal(t.events.at(-1)[0], "disconnected", name);
    t.fake.advance(1000);
    online({ ...t, client: { connect() {} } });
    assert.equal(t.client.connected, true, `${name}: no recovery`);
    assert.equal(t.client.pending, 1, `${name}: the QoS 1 message was lost`);
  }
});

test("a packet before CONNACK is a protocol error", () => {
  const t = setup({ reconnect_min: 100 });
  t.client.connect();
  t.fake.conn.handler.onOpen(t.fake.conn);
  receive(t, gen({ cmd: "publish", topic: "t", payload: "x", qos: 0 }));
  assert.deepEqual(t.events[0], ["error", "protocol violation", Err.PROTOCOL]);
  assert.equal(t.fake.conns[0].closed, true);
});

test("an oversize packet is skipped with an error; the connection stays up", () => {
  const t = setup();
  online(t);
  receive(t, gen({ cmd: "publish", topic: "big", payload: Buffer.alloc(1000), qos: 0 }));
  receive(t, gen({ cmd: "publish", topic: "small", payload: "ok", qos: 0 }));
  assert.deepEqual(t.events.filter((e) => e[0] !== "connected"), [["error", "packet too large", Err.PACKET_TOO_LARGE], ["message", "small", "ok"]]);
  assert.equal(t.client.connected, true);
});

test("disconnect() sends DISCONNECT, stops the timer and reconnecting; connect() resumes", () => {
  const t = setup();
  online(t);
  t.fake.sent();
  t.client.disconnect();
  assert.deepEqual(t.fake.sent().map((p) => p.type), [TYPES.disconnect]);
  assert.equal(t.fake.ticking, false);
  assert.deepEqual(t.events.at(-1), ["disconnected", "connection lost", Err.CONNECTION_LOST]);
  t.fake.advance(120000);
  assert.equal(t.fake.conns.length, 1);
  t.client.connect();
  assert.equal(t.fake.conns.length, 2);
});

test("late events from an old connection are ignored", () => {
  const t = setup({ reconnect_min: 100 });
  online(t);
  const old = t.fake.conn;
  old.handler.onClose(old);
  t.fake.advance(1000);
  online({ ...t, client: { connect() {} } });
  old.handler.onClose(old);
  old.handler.onData(old, gen({ cmd: "pingresp" }));
  assert.equal(t.client.connected, true);
});

test("nothing of a connection is handled after its fatal error, even later in the same chunk (appended in pieces)", () => {
  const t = setup({ limits: { inflight: 4, inflightBytes: 64, txBuffer: 256, maxPacket: 64, maxChunk: 16 }, reconnect_min: 1000 });
  online(t);
  let delivered = 0;
  t.client.subscribe("t", {}, () => delivered++);
  t.client.on("message", () => delivered++);
  const publish = gen({ cmd: "publish", topic: "t", payload: "after the error", qos: 1, messageId: 9 });
  // 134 bytes: more than the 80-byte receive buffer, so it is appended 16 bytes at a time.
  const chunk = new Uint8Array([...publish, 0xf0, 0x00, ...publish, ...publish, ...publish, ...publish, ...publish]);
  assert.ok(chunk.length > 64 + 16);
  t.fake.sent();
  receive(t, chunk);
  assert.equal(delivered, 2, "the PUBLISH before the bad packet is delivered (to the handler and the listener), none after");
  assert.deepEqual(t.events.filter((e) => e[0] === "disconnected" || e[0] === "error").map((e) => e[0] + " " + e[1]),
    ["error unexpected packet", "disconnected unexpected packet"], "the rest of the chunk was framed after the error");
  assert.deepEqual(t.fake.sent().map((p) => p.type), [TYPES.puback], "only the first PUBLISH is acknowledged");
  assert.equal(t.client.connected, false);
});

test("on a build without Unicode (the ESP boards': E.asUTF8 throws, E.fromUTF8 returns false) a non-ASCII topic reaches handlers and listeners as its bytes", () => {
  // The module loaded in a context whose E is an ESP32's or ESP8266's (espruino/Espruino src/jswrap_espruino.c).
  const env = createBareEnv({ modules: { wisp: readFileSync(new URL(`../dist/${file}`, import.meta.url), "utf8") } });
  Object.assign(env.context.E, { asUTF8: () => { throw new Error("Unicode not supported on this build"); }, fromUTF8: () => false, isUTF8: () => false });
  const esp = env.context.require("wisp");
  const fake = fakePlatform();
  const client = esp.create("b", { client_id: "c1", platform: fake.platform });
  const got = [];
  client.subscribe("caf\xc3\xa9/+", {}, (m) => got.push(["handler", m.topic(), m.text()]));
  client.on("message", (topic, payload) => got.push(["listener", topic, payload]));
  client.connect();
  fake.conn.handler.onOpen(fake.conn);
  fake.conn.handler.onData(fake.conn, CONNACK);
  fake.conn.handler.onData(fake.conn, gen({ cmd: "publish", topic: "caf\u00e9/1", payload: "x", qos: 0 }));
  assert.deepEqual(got, [["handler", "caf\xc3\xa9/1", "x"], ["listener", "caf\xc3\xa9/1", "x"]]);
});

if (compact) {
  test("compact: QoS 2 and TLS are refused with a clear error; an incoming QoS 2 message is acknowledged (PUBREC, PUBREL → PUBCOMP) and delivered", () => {
    const t = setup();
    online(t);
    t.fake.sent();
    assert.equal(t.client.publish("t", "x", { qos: 2 }), Err.BAD_QOS);
    assert.equal(t.client.subscribe("t", { qos: 2 }), Err.BAD_QOS);
    assert.deepEqual(t.events.filter((e) => e[0] === "error").map((e) => e[2]), [Err.BAD_QOS, Err.BAD_QOS]);
    assert.deepEqual(t.fake.sent(), []);
    receive(t, gen({ cmd: "publish", topic: "a/b", payload: "two", qos: 2, messageId: 8 }));
    receive(t, gen({ cmd: "pubrel", messageId: 8 }));
    assert.deepEqual(t.fake.sent().map((p) => Buffer.from(p.bytes).toString("hex")), ["50020008", "70020008"]);
    assert.deepEqual(t.events.filter((e) => e[0] === "message"), [["message", "a/b", "two"]]);
    const tls = setup({ tls: true });
    tls.client.connect();
    assert.deepEqual(tls.events, [["error", "TLS is not available on this board", Err.BAD_ARGUMENT]]);
    assert.equal(tls.fake.conns.length, 0);
    assert.equal(tls.fake.ticking, false, "not retrying");
  });

  test("compact: a filter and its UTF-8 bytes are one subscription, as on the wire", () => {
    const t = setup();
    online(t);
    t.fake.sent();
    const got = [];
    assert.equal(t.client.subscribe("\u20ac", { qos: 0 }, () => got.push("euro")), 0);
    assert.equal(t.client.subscribe("\xe2\x82\xac", { qos: 1 }, () => got.push("bytes")), 0);
    assert.deepEqual(t.fake.sent().map((p) => [p.bytes[0] >> 4, p.bytes.at(-1)]), [[TYPES.subscribe, 0], [TYPES.subscribe, 1]], "the second at QoS 1 replaces the first");
    receive(t, gen({ cmd: "publish", topic: "\u20ac", payload: "", qos: 0 }));
    assert.deepEqual(got, ["bytes"]);
    assert.equal(t.client.unsubscribe("\u20ac"), 0);
    receive(t, gen({ cmd: "publish", topic: "\u20ac", payload: "", qos: 0 }));
    assert.deepEqual(got, ["bytes"]);
  });

  test("compact: options it cannot send throw at create, naming the option", () => {
    const fake = fakePlatform();
    assert.throws(() => wisp.create("b", { platform: fake.platform, client_id: "a\0b" }), /bad UTF-8 string \(client_id\)/);
    assert.throws(() => wisp.create("b", { platform: fake.platform, will: { topic: "a/#" } }), /bad topic \(will.topic\)/);
    assert.throws(() => wisp.create("b", { platform: fake.platform, will: { topic: "w", qos: 3 } }), /will.qos/);
    assert.throws(() => wisp.create("b", { platform: fake.platform, keep_alive: 70000 }), /keep_alive/);
    assert.throws(() => wisp.create("b", { platform: fake.platform, keep_alive: 1.5 }), /keep_alive/);
    wisp.create("b", { platform: fake.platform, keep_alive: 61, will: { topic: "w", qos: 1 } }); // any other integer in range
  });
}
});
