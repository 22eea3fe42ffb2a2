// Faults with message accounting: a misbehaving TCP proxy (split, delay, half-open, cut), Mosquitto
// stopped and restarted mid-stream, and a fake broker that sends malformed, truncated, oversize and
// unknown packets. QoS 1 messages: sent vs received, duplicates counted, none lost.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { loadWisp } from "../host-sim/node/load.mjs";
import { startAedes, restartableMosquitto, skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { startProxy } from "./helpers/proxy.mjs";
import { waitFor, recordingPlatform, recordEvents } from "./helpers/util.mjs";
import { Err } from "./helpers/codec.mjs";

/** The module the current suite runs: each suite runs on both sessions (the compact dist/wisp.js, the
 *  layered dist/wisp-esp32.js); set as a suite starts (node:test runs the suites one after another). */
let wisp;
const MODULES = [["compact session, dist/wisp.js", loadWisp()], ["layered session, dist/wisp-esp32.js", loadWisp("wisp-esp32.js")]];
const log = (...a) => console.log("[faults]", ...a);

/** A Wisp client whose outgoing PUBLISH packets are counted (first sends and DUP resends). */
function countedClient(url, options = {}) {
  const platform = recordingPlatform();
  const counts = { publish: 0, dup: 0 };
  const connect = platform.connect;
  platform.connect = (options, onOpen) => {
    const s = connect(options, onOpen);
    const write = s.write;
    s.write = (data) => {
      if (data.charCodeAt(0) >> 4 === 3) data.charCodeAt(0) & 8 ? counts.dup++ : counts.publish++;
      write(data);
    };
    return s;
  };
  const client = wisp.create(url, { client_id: `wisp-f-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, platform, reconnect_min: 100, reconnect_max: 400, ...options });
  return { client, platform, counts, events: recordEvents(client) };
}

/** Publishes "0".."n-1" at QoS 1 on `topic`, retrying on BUSY when a slot or the window frees. */
function publishSequence(client, topic, n) {
  let next = 0;
  const pump = () => {
    while (next < n) {
      const r = client.publish(topic, String(next), { qos: 1 });
      if (r === Err.BUSY) return;
      assert.ok(r > 0, `publish ${next}: ${r}`);
      next++;
    }
  };
  for (const e of ["puback", "drain", "connected"]) client.on(e, pump);
  pump();
  return { get published() { return next; } };
}

/** The PUBLISH packets a client put on the wire, per proxied connection, parsed by mqtt-packet:
 *  pass `tap` as the proxy's onClientData. */
function wireLog() {
  const parsers = new Map();
  const publishes = [];
  return {
    publishes,
    tap(connection, data) {
      if (!parsers.has(connection)) {
        const parser = mqttPacket.parser({ protocolVersion: 4 });
        parser.on("packet", (p) => { if (p.cmd === "publish") publishes.push({ connection, id: p.messageId, payload: String(p.payload), qos: p.qos, dup: p.dup }); });
        parser.on("error", (e) => publishes.push({ connection, error: e.message }));
        parsers.set(connection, parser);
      }
      parsers.get(connection).parse(data);
    },
    /** QoS 1/2 PUBLISHes sent again (same packet id and payload as one sent before): how many, how many
     *  of them flagged DUP, and the wire's parse errors. */
    resends() {
      const seen = new Set();
      const out = { resent: 0, resentWithDup: 0, resentWithoutDup: [], parseErrors: publishes.filter((p) => p.error).map((p) => p.error) };
      for (const p of publishes) {
        if (p.error || !p.qos) continue;
        const key = `${p.id}:${p.payload}`;
        if (seen.has(key)) {
          out.resent++;
          if (p.dup) out.resentWithDup++;
          else if (out.resentWithoutDup.length < 5) out.resentWithoutDup.push(key);
        }
        seen.add(key);
      }
      return out;
    },
  };
}

/** An MQTT.js subscriber with a persistent session counting what arrives. */
async function counter(url, topic, clientId) {
  const seen = new Map();
  const sub = mqtt.connect(`mqtt://${url}`, { clientId, clean: false, reconnectPeriod: 100 });
  sub.on("message", (t, payload) => seen.set(String(payload), (seen.get(String(payload)) || 0) + 1));
  sub.on("error", () => {});
  await new Promise((resolve) => sub.once("connect", resolve));
  await sub.subscribeAsync(topic, { qos: 1 });
  return {
    sub, seen,
    accounting(n) {
      let missing = 0;
      let duplicates = 0;
      const gaps = [];
      for (let i = 0; i < n; i++) {
        const c = seen.get(String(i)) || 0;
        if (!c) {
          missing++;
          if (gaps.length && gaps.at(-1)[1] === i - 1) gaps.at(-1)[1] = i;
          else gaps.push([i, i]);
        } else duplicates += c - 1;
      }
      return { received: seen.size, missing, duplicates, gaps: gaps.slice(0, 5).map((g) => g.join("-")).join(",") };
    },
    /** Resolves when "0".."n-1" have all arrived; fails naming the missing ones after timeoutMs. */
    allArrived(n, timeoutMs = 15000) {
      return waitFor(() => this.accounting(n).missing === 0, () => `every message at the subscriber: ${JSON.stringify(this.accounting(n))}`, timeoutMs);
    },
  };
}

for (const [edition, module] of MODULES) describe(edition, () => {
before(() => { wisp = module; });

describe("through a misbehaving proxy (Aedes behind it)", () => {
  let broker;
  let proxy;
  let wire;
  before(async () => {
    broker = await startAedes();
    proxy = await startProxy(broker.port, { onClientData: (c, d) => wire && wire.tap(c, d) });
  });
  after(async () => {
    await proxy.stop();
    await broker.stop();
  });

  test("split into single bytes and delayed: every QoS 1 message arrives", async () => {
    const N = 300;
    const c = await counter(broker.url, "f/split", `sub-split-${process.pid}`);
    proxy.state.mode = "split";
    proxy.state.delayMs = 5;
    const w = countedClient(proxy.url);
    const echo = [];
    w.client.subscribe("f/split", { qos: 1 }, (m) => echo.push(m.text()));
    w.client.connect();
    await waitFor(() => w.events.some((e) => e[0] === "subscribed"), "SUBACK through the proxy");
    const p = publishSequence(w.client, "f/split", N);
    await waitFor(() => p.published === N && w.client.pending === 0, "every message published and acknowledged", 60000);
    await c.allArrived(N);
    await waitFor(() => echo.length >= N, () => `the echo of every message at Wisp (${echo.length})`);
    proxy.state.mode = "pass";
    proxy.state.delayMs = 0;
    w.client.disconnect();
    c.sub.end(true);
    const a = c.accounting(N);
    log("split+delay:", JSON.stringify({ sent: N, ...a, echoedToWisp: echo.length, dupResends: w.counts.dup }));
    assert.equal(new Set(echo).size, N, "the echoes at Wisp are not N distinct messages");
    assert.deepEqual(w.events.filter((e) => e[0] === "error"), [], "errors through a splitting, delaying link");
  });

  test("half-open link (blackhole): detected by keepalive within keep_alive + ping_timeout, then recovered", async () => {
    const w = countedClient(proxy.url, { keep_alive: 1, ping_timeout: 1000 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    proxy.state.mode = "blackhole";
    const t0 = Date.now();
    await waitFor(() => !w.client.connected, "dead-connection detection", 10000);
    const detectMs = Date.now() - t0;
    proxy.state.mode = "pass";
    await waitFor(() => w.client.connected, "reconnected", 10000);
    w.client.disconnect();
    log(`half-open link detected after ${detectMs} ms (keep_alive 1 s, ping_timeout 1 s)`);
    assert.ok(detectMs <= 1000 + 1000 + 2 * 250 + 500, `took ${detectMs} ms`); // keep_alive + ping_timeout + 2 ticks + slack
    assert.deepEqual(w.events.find((e) => e[0] === "disconnected"), ["disconnected", "timeout", Err.TIMEOUT]);
  });

  test("connections cut repeatedly mid-stream: zero QoS 1 messages lost, every resend flagged DUP", async () => {
    const N = 1000;
    const c = await counter(broker.url, "f/cut", `sub-cut-${process.pid}`);
    wire = wireLog();
    const w = countedClient(proxy.url, { clean_session: false });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const p = publishSequence(w.client, "f/cut", N);
    // Each cut once the client is back and has made progress since the last one.
    for (let i = 1; i <= 5; i++) {
      await waitFor(() => w.client.connected && w.client.pending > 0 && p.published >= (i * N) / 6, `progress before cut ${i}`, 30000);
      proxy.cut();
    }
    await waitFor(() => p.published === N && w.client.pending === 0, "every message published and acknowledged", 60000);
    await c.allArrived(N);
    w.client.disconnect();
    c.sub.end(true);
    const a = c.accounting(N);
    const r = wire.resends();
    wire = null;
    log("cut x5:", JSON.stringify({ sent: N, ...a, dupResends: w.counts.dup, resentOnWire: r.resent, reconnects: w.events.filter((e) => e[0] === "connected").length - 1 }));
    assert.ok(w.events.filter((e) => e[0] === "connected").length >= 6, "a cut did not interrupt the session");
    assert.deepEqual(r.parseErrors, []);
    assert.deepEqual(r.resentWithoutDup, [], "messages sent again without DUP (id:payload)");
    assert.equal(r.resentWithDup, r.resent);
  });
});

describe("Mosquitto stopped and restarted mid-stream", { skip: skipWithoutMosquitto }, () => {
  test("3 restarts while publishing 2,000 QoS 1 messages: zero lost, resends flagged DUP", async () => {
    const N = 2000;
    const broker = await restartableMosquitto("wisp-persist-");
    const url = broker.url;
    const c = await counter(url, "f/restart", `sub-restart-${process.pid}`);
    // Wisp reaches Mosquitto through a passing proxy, which reads what Wisp puts on the wire.
    const wire = wireLog();
    const proxy = await startProxy(broker.port, { onClientData: wire.tap });
    const w = countedClient(proxy.url, { clean_session: false, keep_alive: 2 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const p = publishSequence(w.client, "f/restart", N);
    for (let i = 0; i < 3; i++) {
      // Stopped with messages in flight, which must then be resent flagged DUP.
      await waitFor(() => p.published >= ((i + 1) * N) / 4 && w.client.pending > 0, "progress", 30000);
      await broker.stop("SIGTERM");
      await waitFor(() => !w.client.connected, "the client noticing the broker gone");
      await broker.start();
    }
    await waitFor(() => p.published === N && w.client.pending === 0,
      () => `every message published and acknowledged: ${JSON.stringify({ published: p.published, pending: w.client.pending, connected: w.client.connected, events: w.events.slice(-6) })}`, 60000);
    await c.allArrived(N);
    w.client.disconnect();
    c.sub.end(true);
    await proxy.stop();
    await broker.stop();
    const a = c.accounting(N);
    const r = wire.resends();
    const reconnects = w.events.filter((e) => e[0] === "connected").length - 1;
    log("mosquitto restarts x3:", JSON.stringify({ sent: N, ...a, resentOnWire: r.resent, resentWithDup: r.resentWithDup, reconnects }));
    assert.ok(reconnects >= 3, `${reconnects} reconnects`);
    assert.deepEqual(r.parseErrors, []);
    assert.ok(r.resent >= 1, "no QoS 1 message was sent again after the restarts (nothing was in flight?)");
    assert.deepEqual(r.resentWithoutDup, [], "messages sent again without DUP (id:payload)");
    assert.equal(r.resentWithDup, r.resent);
  });
});

describe("a fake broker sending bad packets", () => {
  // Each connection gets CONNACK, then the next scripted bytes; the last connection behaves.
  let server;
  let port;
  const script = [];
  let conns = 0;
  const delivered = [];
  /** Bytes each connection was sent after CONNACK and flushed, by connection number from 1. */
  const flushed = [];
  before(async () => {
    server = net.createServer((s) => {
      const conn = ++conns;
      const bad = script[conn - 1];
      const parser = mqttPacket.parser();
      parser.on("packet", (p) => {
        if (p.cmd === "connect") {
          s.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
          if (bad) s[bad.end ? "end" : "write"](bad.bytes, () => (flushed[conn] = bad.bytes.length));
        } else if (p.cmd === "publish") {
          delivered.push(String(p.payload));
          if (p.qos) s.write(mqttPacket.generate({ cmd: "puback", messageId: p.messageId }));
        } else if (p.cmd === "pingreq" && !bad) s.write(mqttPacket.generate({ cmd: "pingresp" }));
      });
      s.on("data", (d) => parser.parse(d));
      s.on("error", () => {});
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    port = server.address().port;
  });
  after(() => new Promise((r) => server.close(r)));

  // 16 MiB streamed after the fault where the client keeps the connection and must skip what it gets: a
  // client that buffered it would grow by as much, four times GROWTH_BOUND (which leaves room for the
  // collector's and the JIT's noise). Allocated once, before any heap is measured.
  const FLOOD = 16 << 20;
  const oversize = mqttPacket.generate({ cmd: "publish", topic: "big", payload: Buffer.alloc(10240, 0x61), qos: 0 });
  const oversizeFlood = Buffer.concat(Array(Math.ceil(FLOOD / oversize.length)).fill(oversize));
  const claimFlood = Buffer.concat([Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 0x61]), Buffer.alloc(FLOOD, 0x61)]);
  const GROWTH_BOUND = FLOOD / 4;
  const gc = (v8.setFlagsFromString("--expose-gc"), vm.runInNewContext("gc"));
  /** Heap and array-buffer bytes in use after a full collection. */
  const memory = async () => {
    // Node frees a socket's read buffers a turn after their `data` event: let them go first.
    await new Promise((r) => setTimeout(r, 20));
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };

  const cases = [
    ["malformed (PUBACK with flags 0001)", { bytes: Buffer.from([0x41, 0x02, 0x00, 0x01]) }, "bad header flags"],
    ["truncated PUBLISH, then the socket closes", { bytes: Buffer.from([0x30, 0x10, 0x00, 0x05, 0x61]), end: true }, "truncated packet"],
    ["unknown packet type 15", { bytes: Buffer.from([0xf0, 0x00]) }, "unexpected packet"],
    ["CONNECT sent to the client", { bytes: mqttPacket.generate({ cmd: "connect", clientId: "x" }) }, "unexpected packet"],
    ["16 MiB of 10 KB PUBLISHes (each larger than the receive buffer)", { bytes: oversizeFlood }, "packet too large"],
    ["268 MB length claim, 16 MiB of its body, then silence", { bytes: claimFlood }, "packet too large"],
    ["five-byte Remaining Length", { bytes: Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]) }, "bad remaining length"],
  ];

  for (const [name, bad, reason] of cases) {
    test(`${name}: error "${reason}", no crash, no growth, the session recovers and delivers`, async () => {
      script.length = 0;
      conns = 0;
      flushed.length = 0;
      script.push(bad);
      const w = countedClient(`127.0.0.1:${port}`, { keep_alive: 1, ping_timeout: 500, limits: { maxPacket: 1024 } });
      const before = await memory();
      w.client.connect();
      await waitFor(() => w.events.some((e) => e[0] === "error"), "an error event");
      // Growth is measured once the client has read everything the fault sent (or has dropped the link):
      // whatever it kept of it is still held then.
      await waitFor(() => flushed[1] !== undefined && (w.platform.sockets[0].bytesRead >= 4 + bad.bytes.length || w.platform.sockets[0].destroyed),
        () => `the client reading the fault's ${bad.bytes.length} bytes (read ${w.platform.sockets[0].bytesRead})`, 15000);
      const grown = (await memory()) - before;
      const id = w.client.publish("after/fault", `ok-${name}`, { qos: 1 });
      assert.ok(id > 0);
      await waitFor(() => delivered.includes(`ok-${name}`) && w.client.pending === 0, "recovery and delivery", 15000);
      w.client.disconnect();
      const errors = w.events.filter((e) => e[0] === "error").map((e) => e[1]);
      log(`${name}: error events ${JSON.stringify(errors.slice(0, 3))}${errors.length > 3 ? ` and ${errors.length - 3} more` : ""}; connections ${conns}; ${bad.bytes.length} B sent after CONNACK; heap + buffers grew ${(grown / 1024).toFixed(0)} KiB`);
      assert.equal(errors[0], reason);
      assert.ok(grown < GROWTH_BOUND, `heap + buffers grew ${grown} B after ${bad.bytes.length} B of fault`);
    });
  }
});
});
