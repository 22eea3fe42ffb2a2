// Framer: every fixture split at every byte and coalesced with its neighbours, as Uint8Array and as
// Espruino-style binary strings; oversize packets skipped byte-exactly; bad lengths reported. On both codec
// branches (Node, and the ES5 build inside the Espruino stand-ins).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fixtures, bytes } from "./fixtures/packets.mjs";
import { codecBranches, Err, errName } from "./helpers/codec.mjs";

const packets = fixtures.map((f) => bytes(f.hex));
const concat = (...arrs) => {
  const out = new Uint8Array(arrs.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrs) { out.set(a, o); o += a.length; }
  return out;
};
const binaryString = (u8) => String.fromCharCode(...u8);

for (const { label, codec } of codecBranches()) {
  /** A framer of `codec` that records packets (copied out, as Node Uint8Arrays) and errors. */
  function recorder(maxPacket = 512, maxChunk = 536) {
    const got = [];
    const errors = [];
    const framer = new codec.Framer(maxPacket, maxChunk, { onPacket: (buf, s, e) => got.push(new Uint8Array(buf.subarray(s, e))), onFrameError: (err) => errors.push(errName(err)) });
    return { framer, got, errors };
  }

  for (const asString of [false, true]) {
    const kind = asString ? "binary-string" : "Uint8Array";
    const chunk = (u8) => (asString ? binaryString(u8) : u8);

    test(`${label}${kind}: every fixture split at every byte, coalesced with its neighbours`, () => {
      for (let i = 0; i < packets.length; i++) {
        const prev = packets[(i + packets.length - 1) % packets.length];
        const cur = packets[i];
        const next = packets[(i + 1) % packets.length];
        for (let k = 0; k <= cur.length; k++) {
          const { framer, got, errors } = recorder();
          framer.push(chunk(concat(prev, cur.subarray(0, k))));
          framer.push(chunk(concat(cur.subarray(k), next)));
          assert.deepEqual(errors, []);
          assert.deepEqual(got, [prev, cur, next], `${fixtures[i].name} split at ${k}`);
        }
      }
    });

    test(`${label}${kind}: the whole fixture stream one byte at a time, and in one chunk`, () => {
      const stream = concat(...packets);
      for (const size of [1, 2, 3, 7, stream.length]) {
        const { framer, got, errors } = recorder();
        for (let o = 0; o < stream.length; o += size) framer.push(chunk(stream.subarray(o, o + size)));
        assert.deepEqual(errors, []);
        assert.deepEqual(got, packets, `chunks of ${size}`);
      }
    });
  }

  test(`${label}a packet larger than the buffer is skipped byte-exactly, at every split, and the stream stays in sync`, () => {
    const big = new Uint8Array(300).fill(0x2a);
    big.set([0x30, 0xa9, 0x02, 0x00, 0x01, 0x74]); // PUBLISH, remaining length 297, topic "t"
    const small = packets[5];
    const stream = concat(small, big, small);
    for (let k = 0; k <= stream.length; k++) {
      const { framer, got, errors } = recorder(64, 64);
      framer.push(stream.subarray(0, k));
      framer.push(stream.subarray(k));
      assert.deepEqual(errors, ["PACKET_TOO_LARGE"], `split ${k}`);
      assert.deepEqual(got, [small, small], `split ${k}`);
    }
  });

  test(`${label}a 268 MB length claim is skipped without buffering: memory stays put, the error is reported once`, () => {
    const { framer, got, errors } = recorder(64, 64);
    const before = framer.buf;
    framer.push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]));
    for (let i = 0; i < 1000; i++) framer.push(new Uint8Array(536).fill(i & 255));
    assert.equal(framer.buf, before);
    assert.equal(framer.buf.length, 128);
    assert.deepEqual(errors, ["PACKET_TOO_LARGE"]);
    assert.deepEqual(got, []);
    framer.reset();
    framer.push(packets[5]);
    assert.deepEqual(got, [packets[5]]);
  });

  test(`${label}a Remaining Length of five bytes is reported as BAD_LENGTH and the framer starts afresh`, () => {
    const { framer, got, errors } = recorder();
    framer.push(concat(packets[5], new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])));
    assert.deepEqual(errors, ["BAD_LENGTH"]);
    assert.deepEqual(got, [packets[5]]);
    framer.push(packets[6]);
    assert.deepEqual(got, [packets[5], packets[6]]);
  });

  test(`${label}chunks longer than maxChunk are accepted`, () => {
    const { framer, got } = recorder(256, 16);
    const stream = concat(...packets);
    framer.push(stream);
    framer.push(binaryString(stream));
    assert.deepEqual(got, [...packets, ...packets]);
  });

  test(`${label}a packet exactly maxPacket long is delivered; one byte more is skipped`, () => {
    for (const extra of [0, 1]) {
      const p = new Uint8Array(64 + extra).fill(0x41);
      p.set([0x30, 62 + extra, 0x00, 0x01, 0x74]);
      const { framer, got, errors } = recorder(64, 64);
      framer.push(p);
      framer.push(packets[5]);
      assert.deepEqual(got, extra ? [packets[5]] : [p, packets[5]]);
      assert.deepEqual(errors, extra ? ["PACKET_TOO_LARGE"] : []);
    }
  });
}

test("Err names are unique and negative", () => {
  const values = Object.values(Err);
  assert.ok(values.length >= 19);
  assert.equal(new Set(values).size, values.length);
  assert.ok(values.every((v) => v < 0));
});
