// Byte-level primitives under the codec: UTF-8 strings, 16-bit integers and the variable-length
// Remaining Length (MQTT 1.5.2, 1.5.3, 2.2.3). No I/O, no clock, no allocation on the hot path.
import { Err } from "../errors";

declare const E: any;

/** True where `Uint8Array#set(string)` copies the string's bytes natively (Espruino does; V8 does not). */
export const NATIVE_STRING_SET: boolean = (function () {
  const probe = new Uint8Array(1);
  (probe as any).set("A");
  return probe[0] === 65;
})();

/** Espruino's E.isUTF8 where it exists: a string it does not flag is a byte string. */
export const isUTF8: ((s: string) => boolean) | undefined = NATIVE_STRING_SET ? E.isUTF8 : undefined;

/** Bytes `s` takes as UTF-8 (MQTT 1.5.3), or Err.BAD_STRING for a lone surrogate. */
export function utf8Length(s: string): number {
  // On the interpreter every call costs tens of microseconds: the byte-string test is inline.
  if (NATIVE_STRING_SET && !(isUTF8 && isUTF8(s))) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c > 0xffff) n += 4;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return Err.BAD_STRING;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return Err.BAD_STRING;
    else n += 3;
  }
  return n;
}

/** Writes `s` as UTF-8 at `off` (its length from utf8Length, space already checked); returns the end. */
export function writeUtf8(buf: Uint8Array, off: number, s: string, byteLength: number): number {
  if (NATIVE_STRING_SET) {
    (buf as any).set(s, off);
    return off + byteLength;
  }
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[off++] = c;
    else if (c < 0x800) {
      buf[off++] = 0xc0 | (c >> 6);
      buf[off++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdbff) c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      if (c > 0xffff) {
        buf[off++] = 0xf0 | (c >> 18);
        buf[off++] = 0x80 | ((c >> 12) & 63);
      } else buf[off++] = 0xe0 | (c >> 12);
      buf[off++] = 0x80 | ((c >> 6) & 63);
      buf[off++] = 0x80 | (c & 63);
    }
  }
  return off;
}

/** Copies a byte string's (or Uint8Array's) bytes into `buf` at `off` natively where it can. */
export function copyBytes(buf: Uint8Array, off: number, src: string | Uint8Array): void {
  if (typeof src !== "string" || NATIVE_STRING_SET) {
    (buf as any).set(src, off);
    return;
  }
  for (let i = 0; i < src.length; i++) buf[off + i] = src.charCodeAt(i);
}

/** Bytes a payload takes: a Uint8Array's length, or a string's UTF-8 length (MQTT 3.3.3). */
export function payloadLength(p: string | Uint8Array): number {
  return typeof p === "string" ? utf8Length(p) : p.length;
}

/** Writes a payload (string or bytes) at `off`; returns the end. */
export function writePayload(buf: Uint8Array, off: number, p: string | Uint8Array, byteLength: number): number {
  if (typeof p === "string") return writeUtf8(buf, off, p, byteLength);
  buf.set(p, off);
  return off + byteLength;
}

/** 1 for the bytes a topic name may hold without a closer look: ASCII except NUL, '#' and '+'. */
export const PLAIN_TOPIC_BYTE = (function () {
  const t = new Uint8Array(256);
  for (let b = 1; b < 0x80; b++) t[b] = b === 35 || b === 43 ? 0 : 1;
  return t;
})();

/** Checks a received topic name in buf[start, end) in one pass: 0 when it is well-formed UTF-8 without
 *  U+0000 (MQTT 1.5.3, MQTT-1.5.3-1/-2) and without wildcards (MQTT-3.3.2-2), else Err.BAD_STRING or
 *  Err.BAD_TOPIC. */
export function checkTopicName(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b < 0x80) {
      if (b === 35 || b === 43) return Err.BAD_TOPIC; // '#', '+'
      if (b === 0) return Err.BAD_STRING;
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

/** Bytes buf[start, end) as a binary string (one char per byte); allocates the string. */
export function toBinaryString(buf: Uint8Array, start: number, end: number): string {
  if (NATIVE_STRING_SET) return E.toString(buf.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** UTF-8 bytes buf[start, end) (already validated) as a string; allocates the string. */
export function toText(buf: Uint8Array, start: number, end: number): string {
  const bin = toBinaryString(buf, start, end);
  if (NATIVE_STRING_SET) return E.asUTF8 ? E.asUTF8(bin) : bin;
  return decodeURIComponent(escape(bin));
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

/** Scratch output of readLength: the decoded Remaining Length. */
export const lengthOut = { value: 0 };

/** Reads a Remaining Length (MQTT 2.2.3) at `pos` into lengthOut.value; returns the position after it,
 *  Err.MALFORMED when `end` comes first, or Err.BAD_LENGTH when a fifth byte would be needed. */
export function readLength(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (pos >= end) return Err.MALFORMED;
    const b = buf[pos++];
    value += (b & 127) * mul;
    if (b < 128) {
      lengthOut.value = value;
      return pos;
    }
    mul *= 128;
  }
  return Err.BAD_LENGTH;
}
