// Byte-level primitives under the codec: strings as bytes, UTF-8 checks, the variable-length Remaining
// Length (MQTT 1.5.2, 1.5.3, 2.2.3). No I/O, no clock, no allocation on the hot path.
// ESPRUINO is fixed per build (rollup.config.js): the firmware and the module use Espruino's natives
// (byte strings, `Uint8Array#set(string)`, `E.toString`, `E.fromUTF8`); the Node build of the codec for
// the tests uses Node's. Rollup drops the other branch, so the interpreter never reads its text.
import { Err } from "../errors";
import { ESPRUINO } from "wisp-target";

/** Node's text codecs, for the Node branch only (the ES5 lib does not declare them). */
declare const TextEncoder: any;
declare const TextDecoder: any;

/** A string or raw bytes as a packet field: payloads, will messages, passwords. On Espruino a byte
 *  string (one char per byte) is bytes too. */
export type Bytes = string | Uint8Array;

/** The UTF-8 bytes of `s` (MQTT 1.5.3): on Espruino a byte string (a string flagged UTF-8, as on builds
 *  with Unicode, gives its backing bytes; on the ESP boards strings are bytes already), in Node a
 *  Uint8Array. null for a string that is not well-formed (a lone surrogate). */
export function bytesOf(s: string): Bytes | null {
  if (ESPRUINO) return E.isUTF8 && E.isUTF8(s) ? E.fromUTF8!(s) : s;
  // The last string's bytes are kept: a repeated topic is encoded once (no garbage per packet).
  if (s !== lastString) {
    lastString = s;
    lastBytes = (s as any).isWellFormed() ? new TextEncoder().encode(s) : null;
  }
  return lastBytes;
}
/** bytesOf's last string and its bytes (Node branch). */
let lastString: string | undefined;
let lastBytes: Uint8Array | null = null;

/** Copies bytes (a byte string or a Uint8Array) into `buf` at `off` with one native copy where it can;
 *  the caller has checked the room. */
export function copyBytes(buf: Uint8Array, off: number, src: Bytes): void {
  if (ESPRUINO || typeof src !== "string") (buf as any).set(src, off);
  else for (let i = 0; i < src.length; i++) buf[off + i] = src.charCodeAt(i);
}

/** E.toString (bytes to a byte string), looked up once: on the interpreter finding a built-in by name
 *  costs about as much as calling it. Espruino only. */
export const toByteString: (b: Uint8Array) => string = ESPRUINO ? E.toString : (null as any);

/** True where the build has Unicode (Espruino's Linux build): on the ESP boards' builds E.asUTF8 throws
 *  ("Unicode not supported on this build") and E.fromUTF8 returns false. Espruino only. */
export const UNICODE = ESPRUINO && !!E.fromUTF8 && E.fromUTF8("a") === "a";

/** Matches any char but printable ASCII other than '#' and '+': a string it does not match is well-formed
 *  UTF-8 and a valid topic name as it is. One native test instead of a statement per byte; only what it
 *  matches goes through checkUtf8 (control characters too, which are valid there). Written with plain
 *  ranges: a shorter source costs the heap 3 JsVars less than the same class in \x escapes. */
export const NOT_PLAIN = /[^ -"$-*,-~]/;

/** Checks buf[start, end) in one pass: 0 when it is well-formed UTF-8 without U+0000 (MQTT 1.5.3,
 *  MQTT-1.5.3-1/-2) and, for a topic name, without wildcards (MQTT-3.3.2-2); else Err.BAD_STRING or
 *  Err.BAD_TOPIC. */
export function checkUtf8(buf: Uint8Array, start: number, end: number, topic: boolean): number {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b < 0x80) {
      if (b === 0) return Err.BAD_STRING;
      if (topic && (b === 35 || b === 43)) return Err.BAD_TOPIC; // '#', '+'
      continue;
    }
    let more: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { more = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { more = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { more = 3; min = 0x10000; }
    else return Err.BAD_STRING;
    if (i + more >= end) return Err.BAD_STRING;
    let cp = b & (0x3f >> more);
    while (more--) {
      const c = buf[++i];
      if ((c & 0xc0) !== 0x80) return Err.BAD_STRING;
      cp = (cp << 6) | (c & 63);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return Err.BAD_STRING;
  }
  return 0;
}

/** Encoded size of a Remaining Length value (MQTT 2.2.3): 1..4, or Err.BAD_LENGTH beyond 268,435,455. */
export function lengthSize(len: number): number {
  return len < 128 ? 1 : len < 16384 ? 2 : len < 2097152 ? 3 : len < 268435456 ? 4 : Err.BAD_LENGTH;
}

/** Writes a Remaining Length (MQTT 2.2.3) at `off`; returns the end. */
export function writeLength(buf: Uint8Array, off: number, len: number): number {
  do {
    let b = len & 127;
    len >>>= 7;
    if (len > 0) b |= 128;
    buf[off++] = b;
  } while (len > 0);
  return off;
}

/** Reads a Remaining Length (MQTT 2.2.3) at `pos`; returns both numbers in one, 4 × the length + the
 *  count of its bytes - 1 (the length is `r >> 2`, the position after it `pos + (r & 3) + 1`: below 2^30,
 *  no object to return them in, which would cost the heap for good), or Err.MALFORMED when `end` comes
 *  first, or Err.BAD_LENGTH when a fifth byte would be needed. */
export function readLength(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (pos >= end) return Err.MALFORMED;
    const b = buf[pos++];
    value += (b & 127) * mul;
    if (b < 128) return value * 4 + i;
    mul *= 128;
  }
  return Err.BAD_LENGTH;
}
