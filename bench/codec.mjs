// Codec benchmark (run on demand: npm run bench:codec). Encode + decode round trips of a 40-byte QoS 1
// PUBLISH with Wisp's codec and with mqtt-packet, measured in the same run; GCs counted during Wisp's loop.
import { PerformanceObserver } from "node:perf_hooks";
import mqttPacket from "mqtt-packet";
import * as codec from "../dist/test/codec.mjs";

const TOPIC = "wisp/dev1/telemetry"; // 19 bytes: 2 + 2 + 19 + 2 + 15 = 40 bytes on the wire
const PAYLOAD = new Uint8Array(15).fill(0x2a);
const ROUNDS = Number(process.env.ROUNDS || 1_000_000);

function wispRounds(n) {
  const buf = new Uint8Array(64);
  const view = new codec.PacketView();
  let check = 0;
  for (let i = 0; i < n; i++) {
    const id = (i % 65535) + 1;
    const end = codec.encodePublish(buf, 0, TOPIC, PAYLOAD, 1, false, false, id);
    if (codec.decodePacket(buf, 0, end, view) !== 3 || view.packetId !== id) throw new Error("round trip failed");
    check += view.payloadEnd - view.payloadStart;
  }
  return check;
}

function mqttPacketRounds(n) {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let check = 0;
  parser.on("packet", (p) => (check += p.payload.length));
  const payload = Buffer.from(PAYLOAD);
  for (let i = 0; i < n; i++) {
    parser.parse(mqttPacket.generate({ cmd: "publish", topic: TOPIC, payload, qos: 1, messageId: (i % 65535) + 1, retain: false, dup: false }));
  }
  return check;
}

function opsPerSecond(fn, n) {
  const t0 = process.hrtime.bigint();
  fn(n);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const size = codec.encodePublish(new Uint8Array(64), 0, TOPIC, PAYLOAD, 1, false, false, 1);
if (size !== 40) throw new Error(`packet is ${size} bytes, not 40`);
wispRounds(100_000); // warm up both
mqttPacketRounds(20_000);
global.gc?.();

let gcEvents = 0;
const obs = new PerformanceObserver((list) => (gcEvents += list.getEntries().length));
obs.observe({ entryTypes: ["gc"] });
const wisp = opsPerSecond(wispRounds, ROUNDS);
await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
obs.disconnect();
const reference = opsPerSecond(mqttPacketRounds, Math.max(50_000, ROUNDS / 5));

console.log(JSON.stringify({
  bench: "codec", case: "publish-40B-qos1-encode+decode", rounds: ROUNDS,
  wisp_ops_s: Math.round(wisp), mqtt_packet_ops_s: Math.round(reference), ratio: +(wisp / reference).toFixed(1),
  gc_events: gcEvents, node: process.version,
}));
