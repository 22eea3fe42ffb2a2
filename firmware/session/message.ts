// The received-message view and topic matching, beside the session that uses them; and the words for
// every Err code. Espruino-only code, like the session: strings are made with E.toString.
import type { PacketView } from "../codec/codec";

/** A received message, reused for every message: topic and payload are offsets into `buf`, valid only
 *  during the handler call. Reading fields allocates nothing; topic() and text() allocate strings. It is
 *  also the client's PacketView: packets are decoded straight into it. */
export class Message implements PacketView {
  buf: Uint8Array;
  topicStart = 0;
  topicEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;
  qos = 0;
  retain = false;
  dup = false;
  type = 0;
  packetId = 0;
  sessionPresent = false;
  returnCode = 0;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  /** The topic as a string. */
  topic(): string { return E.asUTF8 ? E.asUTF8(E.toString(this.buf.subarray(this.topicStart, this.topicEnd))) : E.toString(this.buf.subarray(this.topicStart, this.topicEnd)); }
  /** The payload as a byte string, one char per byte, as Espruino's MQTT module gives it. */
  text(): string { return E.toString(this.buf.subarray(this.payloadStart, this.payloadEnd)); }
}

/** Called for each message matching a subscription's filter. */
export type MessageHandler = (m: Message) => void;

/** Words for an Err code, as carried by `error` and `disconnected` events. Each is a literal in a
 *  switch: only the one reported is made, and no table stays in the heap. */
export function errorText(code: number): string {
  switch (code) {
    case -1: return "buffer too small";
    case -2: return "bad remaining length";
    case -3: return "bad header flags";
    case -4: return "bad QoS";
    case -5: return "bad packet id";
    case -6: return "bad topic";
    case -7: return "bad topic filter";
    case -8: return "bad UTF-8 string";
    case -9: return "malformed packet";
    case -10: return "unexpected packet";
    case -11: return "packet too large";
    case -12: return "bad return code";
    case -13: return "bad argument";
    case -14: return "busy";
    case -15: return "not connected";
    case -16: return "connection refused";
    case -17: return "timeout";
    case -18: return "connection lost";
    case -19: return "protocol violation";
  }
  return "error";
}

/** True when a topic in buf[start, end) matches the filter's UTF-8 bytes (MQTT 4.7; MQTT-4.7.2-1: a
 *  wildcard first level does not match topics starting with '$'). */
export function topicMatches(f: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  "ram";
  const fl = f.length;
  let i = 0;
  let t = start;
  if ((f[0] === 35 || f[0] === 43) && buf[start] === 36) return false;
  // Equal bytes first, one statement each (a received topic holds no wildcards, so they are literal).
  while (i < fl && t < end && f[i] === buf[t]) { i++; t++; }
  while (i < fl) {
    const c = f[i];
    if (c === 35) return true; // '#': the rest, including the parent level (MQTT 4.7.1.2)
    if (c === 43) { // '+': one whole level
      while (t < end && buf[t] !== 47) t++;
      i++;
    } else {
      if (t >= end || buf[t] !== c) {
        // "a/#" also matches "a": the filter's "/#" is all that is left at the topic's end.
        return t === end && c === 47 && i + 2 === fl && f[i + 1] === 35;
      }
      t++;
      i++;
    }
  }
  return t === end;
}
