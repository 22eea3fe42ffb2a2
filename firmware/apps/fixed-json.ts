// Telemetry as JSON without allocating: the document's layout is built once into a Uint8Array, every
// number and string has a fixed-width slot (padded with spaces, which JSON allows between tokens, never
// inside a string's quotes), and each publish only rewrites the slot in place. The buffer is then
// published as it is.
import { copyBytes } from "../codec/bytes";

/** A JSON document of fixed length whose number (and short text) slots are rewritten in place: a plain
 *  object, written by the functions below (methods would cost every firmware that includes it a
 *  function object each, whether it uses them or not). */
export interface FixedJson {
  /** The document; publish it as the payload. */
  readonly buf: Uint8Array;
  /** Per slot, four bytes: its offset (high, low byte), width, and decimals + 1 (0 for a string), in one
   *  typed array: three JS arrays would cost 1.6 JsVars an element (the quadruped's 25 slots: about 120
   *  JsVars; this: about 8), and a Uint8Array, whose class every firmware uses anyway, rather than an
   *  Int16Array, whose class costs the heap 8 JsVars more once used. */
  readonly slots: Uint8Array;
}

/** The document for `layout`: the JSON text with each slot written as `%W.D` (a number W characters
 *  wide with D decimals) or `%Ws` (a JSON string of up to W - 2 characters, its quotes included: write no
 *  quotes around it in the layout). Slots are numbered in order. */
export function fixedJson(layout: string): FixedJson {
  let text = "";
  let n = 0;
  const slots = new Uint8Array(4 * layout.split("%").length);
  for (let i = 0; i < layout.length; i++) {
    if (layout[i] !== "%") {
      text += layout[i];
      continue;
    }
    let j = i + 1;
    while (layout[j] >= "0" && layout[j] <= "9") j++;
    const w = +layout.slice(i + 1, j);
    let decimals = -1;
    if (layout[j] === ".") decimals = +layout[++j];
    slots[n++] = text.length >> 8;
    slots[n++] = text.length & 255;
    slots[n++] = w;
    slots[n++] = decimals + 1;
    for (let k = 0; k < w; k++) text += decimals < 0 ? " " : "0";
    i = j;
  }
  const buf = new Uint8Array(text.length);
  copyBytes(buf, 0, text);
  return { buf: buf, slots: slots };
}

/** Writes `value` into number slot `slot` of `doc`, rounded to its decimals, saturating at the slot's
 *  width. */
export function fixedNum(doc: FixedJson, slot: number, value: number): void {
  const buf = doc.buf;
  const slots = doc.slots;
  const w = slots[4 * slot + 2];
  const decimals = slots[4 * slot + 3] - 1;
  const scale = Math.pow(10, decimals);
  let digits = w - (decimals ? decimals + 1 : 0);
  const neg = value < 0;
  if (neg) digits--;
  const max = Math.pow(10, digits) - 1 / scale;
  let v = Math.round(Math.min(Math.abs(value), max) * scale);
  if (!(v >= 0)) v = 0; // NaN
  const start = (slots[4 * slot] << 8) | slots[4 * slot + 1];
  let p = start + w - 1;
  let d = 0;
  do {
    if (d === decimals && decimals) buf[p--] = 46; // '.'
    buf[p--] = 48 + (v % 10);
    v = Math.floor(v / 10);
    d++;
  } while (v > 0 || d <= decimals);
  if (neg) buf[p--] = 45; // '-'
  while (p >= start) buf[p--] = 32;
}

/** Writes `s` (ASCII with no quote or backslash, at most the slot's width - 2) into string slot `slot`
 *  of `doc` as "s", padded with spaces after the closing quote: `"walk" ` parses as "walk". */
export function fixedText(doc: FixedJson, slot: number, s: string): void {
  const at = (doc.slots[4 * slot] << 8) | doc.slots[4 * slot + 1];
  const buf = doc.buf;
  buf.fill(32, at, at + doc.slots[4 * slot + 2]);
  buf[at] = 34;
  copyBytes(buf, at + 1, s);
  buf[at + 1 + s.length] = 34;
}
