// Faults with message accounting: a misbehaving TCP proxy (split, delay, half-open, cut), Mosquitto
// stopped and restarted mid-stream, and a fake broker that sends malformed, truncated, oversize and
// unknown packets. QoS 1 messages: sent vs received, duplicates counted, none lost.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { loadWisp } from "../host-sim/node/load.mjs";
import { startAedes, startMosquitto, freePort, skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { startProxy } from "./helpers/proxy.mjs";
import { waitFor, sleep, recordingPlatform, recordEvents } from "./helpers/util.mjs";
import { Err } from "./helpers/codec.mjs";

const wisp = loadWisp();
const log = (...a) => console.log("[faults]", ...a);

/** A Wisp client whose outgoing PUBLISH packets are counted (first sends and DUP resends). */
function countedClient(url, options = {}) {
  const platform = recordingPlatform();
  const counts = { publish: 0, dup: 0 };
  const send = platform.send;
  platform.send = (s, buf, start, end) => {
    if (buf[start] >> 4 === 3) buf[start] & 8 ? counts.dup++ : counts.publish++;
    send(s, buf, start, end);
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
  };
}

describe("through a misbehaving proxy (Aedes behind it)", () => {
  let broker;
  let proxy;
  before(async () => {
    broker = await startAedes();
    proxy = await startProxy(broker.port);
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
    await waitFor(() => p.published === N && w.client.pending === 0 && c.accounting(N).missing === 0 && echo.length >= N, "all messages", 60000);
    proxy.state.mode = "pass";
    proxy.state.delayMs = 0;
    w.client.disconnect();
    c.sub.end(true);
    const a = c.accounting(N);
    log("split+delay:", JSON.stringify({ sent: N, ...a, echoedToWisp: echo.length, dupResends: w.counts.dup }));
    assert.equal(a.missing, 0);
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

  test("connections cut repeatedly mid-stream: zero QoS 1 messages lost", async () => {
    const N = 1000;
    const c = await counter(broker.url, "f/cut", `sub-cut-${process.pid}`);
    const w = countedClient(proxy.url, { clean_session: false });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const p = publishSequence(w.client, "f/cut", N);
    for (let i = 0; i < 5; i++) {
      await sleep(60);
      proxy.cut();
    }
    await waitFor(() => p.published === N && w.client.pending === 0 && c.accounting(N).missing === 0, "all messages", 60000);
    w.client.disconnect();
    c.sub.end(true);
    const a = c.accounting(N);
    log("cut x5:", JSON.stringify({ sent: N, ...a, dupResends: w.counts.dup, reconnects: w.events.filter((e) => e[0] === "connected").length - 1 }));
    assert.equal(a.missing, 0);
    assert.ok(w.events.filter((e) => e[0] === "connected").length >= 2, "the cuts did not interrupt anything");
  });
});

describe("Mosquitto stopped and restarted mid-stream", { skip: skipWithoutMosquitto }, () => {
  test("3 restarts while publishing 2,000 QoS 1 messages: zero lost, resends flagged DUP", async () => {
    const N = 2000;
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "wisp-persist-"));
    let broker = await startMosquitto(port, { persistDir: dir });
    const url = `127.0.0.1:${port}`;
    const c = await counter(url, "f/restart", `sub-restart-${process.pid}`);
    const w = countedClient(url, { clean_session: false, keep_alive: 2 });
    w.client.connect();
    await waitFor(() => w.client.connected, "connected");
    const p = publishSequence(w.client, "f/restart", N);
    for (let i = 0; i < 3; i++) {
      await waitFor(() => p.published >= ((i + 1) * N) / 4, "progress", 30000);
      await broker.stop("SIGTERM");
      await sleep(300);
      broker = await startMosquitto(port, { persistDir: dir });
    }
    await waitFor(() => p.published === N && w.client.pending === 0 && c.accounting(N).missing === 0,
      () => `all messages: ${JSON.stringify({ published: p.published, pending: w.client.pending, connected: w.client.connected, ...c.accounting(N), events: w.events.slice(-6) })}`, 60000);
    w.client.disconnect();
    c.sub.end(true);
    await broker.stop();
    const a = c.accounting(N);
    const reconnects = w.events.filter((e) => e[0] === "connected").length - 1;
    log("mosquitto restarts x3:", JSON.stringify({ sent: N, ...a, dupResends: w.counts.dup, reconnects }));
    assert.equal(a.missing, 0);
    assert.ok(reconnects >= 3, `${reconnects} reconnects`);
  });
});

describe("a fake broker sending bad packets", () => {
  // Each connection gets CONNACK, then the next scripted bytes; the last connection behaves.
  let server;
  let port;
  const script = [];
  let conns = 0;
  const delivered = [];
  before(async () => {
    server = net.createServer((s) => {
      const bad = script[conns++];
      const parser = mqttPacket.parser();
      parser.on("packet", (p) => {
        if (p.cmd === "connect") {
          s.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
          if (bad) bad(s);
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

  const cases = [
    ["malformed (PUBACK with flags 0001)", (s) => s.write(Buffer.from([0x41, 0x02, 0x00, 0x01])), "bad header flags"],
    ["truncated PUBLISH, then the socket closes", (s) => s.end(Buffer.from([0x30, 0x10, 0x00, 0x05, 0x61])), "truncated packet"],
    ["unknown packet type 15", (s) => s.write(Buffer.from([0xf0, 0x00])), "unexpected packet"],
    ["CONNECT sent to the client", (s) => s.write(mqttPacket.generate({ cmd: "connect", clientId: "x" })), "unexpected packet"],
    ["10 KB PUBLISH (larger than the receive buffer)", (s) => s.write(mqttPacket.generate({ cmd: "publish", topic: "big", payload: Buffer.alloc(10240, 0x61), qos: 0 })), "packet too large"],
    ["268 MB length claim, then silence", (s) => s.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 0x61])), "packet too large"],
    ["five-byte Remaining Length", (s) => s.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), "bad remaining length"],
  ];

  for (const [name, bad, reason] of cases) {
    test(`${name}: error "${reason}", no crash, no growth, the session recovers and delivers`, async () => {
      script.length = 0;
      conns = 0;
      script.push(bad);
      const w = countedClient(`127.0.0.1:${port}`, { keep_alive: 1, ping_timeout: 500, limits: { maxPacket: 1024 } });
      const heapBefore = process.memoryUsage().heapUsed;
      w.client.connect();
      await waitFor(() => w.events.some((e) => e[0] === "error"), "an error event");
      const id = w.client.publish("after/fault", `ok-${name}`, { qos: 1 });
      assert.ok(id > 0);
      await waitFor(() => delivered.includes(`ok-${name}`) && w.client.pending === 0, "recovery and delivery", 15000);
      w.client.disconnect();
      const errors = w.events.filter((e) => e[0] === "error").map((e) => e[1]);
      log(`${name}: error events ${JSON.stringify(errors)}; connections ${conns}; heap delta ${((process.memoryUsage().heapUsed - heapBefore) / 1024).toFixed(0)} KiB`);
      assert.equal(errors[0], reason);
    });
  }
});
