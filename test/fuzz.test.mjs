// Fuzzing the framer and decoder (fast-check): 120,000 random, mutated and re-chunked inputs on each codec
// branch (Node, and the ES5 build inside the Espruino stand-ins), with the same seeds. The framer must
// never throw, never grow or replace its buffer, hand out only in-bounds whole frames, and be in sync
// again after reset(); the decoder must never throw and keep its offsets inside the packet.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fixtures, bytes } from "./fixtures/packets.mjs";
import { codecBranches } from "./helpers/codec.mjs";

const packets = fixtures.map((f) => bytes(f.hex));
const MAX_PACKET = 128;
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);

for (const { label, codec } of codecBranches()) {
  function harness() {
    const view = new codec.PacketView();
    const frames = [];
    let errors = 0;
    const framer = new codec.Framer(MAX_PACKET, 64, {
      onPacket(buf, s, e) {
        assert.ok(s >= 0 && s < e && e <= buf.length, `frame [${s}, ${e}) outside the buffer`);
        assert.ok(e - s <= MAX_PACKET);
        const t = codec.decodePacket(buf, s, e, view);
        if (t === 3) assert.ok(view.topicStart > s && view.topicEnd <= view.payloadStart && view.payloadEnd === e);
        frames.push(new Uint8Array(buf.subarray(s, e)));
      },
      onFrameError() { errors++; },
    });
    return { framer, frames, errors: () => errors };
  }

  function feed(framer, stream, cuts) {
    let o = 0;
    for (const c of cuts) {
      if (o >= stream.length) break;
      framer.push(stream.subarray(o, o + c));
      o += c;
    }
    if (o < stream.length) framer.push(stream.subarray(o));
  }

  function assertInSyncAfterReset(h) {
    const buf = h.framer.buf;
    h.framer.reset();
    h.frames.length = 0;
    for (const p of packets) h.framer.push(p);
    assert.equal(h.framer.buf, buf, "buffer replaced");
    assert.deepEqual(h.frames, packets.filter((p) => p.length <= MAX_PACKET));
  }

  const cutsArb = fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 40 });

  test(`${label}fuzz: 40,000 random byte streams in random chunks`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), cutsArb, (stream, cuts) => {
      const h = harness();
      feed(h.framer, stream, cuts);
      assertInSyncAfterReset(h);
    }), { numRuns: 40000, seed: SEED });
  });

  test(`${label}fuzz: 40,000 mutated valid streams (flipped, inserted, deleted bytes)`, () => {
    const mutation = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 255 }));
    fc.assert(fc.property(fc.array(fc.nat({ max: packets.length - 1 }), { minLength: 1, maxLength: 12 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }), cutsArb, (picks, mutations, cuts) => {
        const bytesList = [...picks.flatMap((i) => [...packets[i]])];
        for (const [pos, kind, val] of mutations) {
          const at = pos % (bytesList.length + 1);
          if (kind === 0 && at < bytesList.length) bytesList[at] ^= val || 1;
          else if (kind === 1) bytesList.splice(at, 0, val);
          else bytesList.splice(at, 1);
        }
        const h = harness();
        feed(h.framer, Uint8Array.from(bytesList), cuts);
        assertInSyncAfterReset(h);
      }), { numRuns: 40000, seed: SEED + 1 });
  });

  test(`${label}fuzz: 40,000 valid streams with oversize packets, any chunking: exactly the fitting packets come out`, () => {
    // PUBLISH packets around and above MAX_PACKET bytes, by Remaining Length.
    const oversize = fc.integer({ min: MAX_PACKET - 8, max: 400 }).map((rem) => {
      const head = rem < 128 ? 2 : 3;
      const p = new Uint8Array(head + rem).fill(0x61);
      p[0] = 0x30;
      if (head === 2) p[1] = rem;
      else { p[1] = (rem & 127) | 128; p[2] = rem >> 7; }
      p[head] = 0; p[head + 1] = 1;
      return p;
    });
    const item = fc.oneof(fc.nat({ max: packets.length - 1 }).map((i) => packets[i]), oversize);
    fc.assert(fc.property(fc.array(item, { maxLength: 15 }), cutsArb, (items, cuts) => {
      const stream = new Uint8Array(items.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of items) { stream.set(p, o); o += p.length; }
      const h = harness();
      feed(h.framer, stream, cuts);
      assert.deepEqual(h.frames, items.filter((p) => p.length <= MAX_PACKET));
      assert.equal(h.errors(), items.filter((p) => p.length > MAX_PACKET).length);
    }), { numRuns: 40000, seed: SEED + 2 });
  });
}
