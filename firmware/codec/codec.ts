// MQTT 3.1.1 packet encoders and the in-place decoder. Pure over (buf, offset, …): every encoder
// returns the offset after the packet or a negative Err, and never writes past buf.length. Strings are
// written as their UTF-8 bytes and checked in place (MQTT 1.5.3).
import { Err } from "../errors";
import { Bytes, bytesOf, copyBytes, checkUtf8, writeLength, readLength, NOT_PLAIN, toByteString } from "./bytes";
import { ESPRUINO } from "wisp-target";

export type { Bytes };

/** Control packet types (MQTT 2.2.1). */
export const enum PacketType {
  CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
  SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, PINGREQ = 12, PINGRESP = 13, DISCONNECT = 14,
}


/** Writes a fixed header (MQTT 2.2) for `remaining` bytes of body after checking the whole packet fits;
 *  returns the body offset or an Err. */
function beginPacket(buf: Uint8Array, off: number, header: number, remaining: number): number {
  // The Remaining Length's size (MQTT 2.2.3), as bytes.ts lengthSize gives it, one call less.
  const n = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : remaining < 268435456 ? 4 : 0;
  if (!n) return Err.BAD_LENGTH;
  if (!(off >= 0) || off + 1 + n + remaining > buf.length) return Err.BUFFER_TOO_SMALL;
  buf[off] = header;
  return writeLength(buf, off + 1, remaining);
}

/** Writes a length-prefixed field (MQTT 1.5.3) at `off`; for `text` (1: a string, 2: a topic name) the
 *  bytes are checked as UTF-8 in place. Returns the end or an Err. */
function writeField(buf: Uint8Array, off: number, b: Bytes, text: number): number {
  const len = b.length;
  buf[off] = len >> 8;
  buf[off + 1] = len & 255;
  if (ESPRUINO) (buf as any).set(b, off + 2);
  else copyBytes(buf, off + 2, b);
  // On Espruino `b` is a byte string: one native test passes plain ASCII.
  const bad = text && (!ESPRUINO || NOT_PLAIN.test(b as string)) ? checkUtf8(buf, off + 2, off + 2 + len, text === 2) : 0;
  return bad || off + 2 + len;
}

/** CONNECT's optional fields, named as the session's Options name them (MQTT 3.1.2, 3.1.3). */
export interface ConnectFields {
  /** Clean session (MQTT 3.1.2.4); true unless false. */
  clean_session?: boolean;
  will?: { topic: string; message?: Bytes; qos?: number; retain?: boolean };
  username?: string;
  password?: Bytes;
}

/** Encodes CONNECT (MQTT 3.1) with protocol "MQTT" level 4; an empty username or password is absent,
 *  and a password needs a username (MQTT-3.1.2-22). */
export function encodeConnect(buf: Uint8Array, off: number, clientId: string, keepAlive: number, o: ConnectFields): number {
  const clean = o.clean_session !== false;
  const w = o.will;
  const willQos = w ? w.qos || 0 : 0;
  const username = o.username || "";
  const password = o.password || "";
  if (!(keepAlive >= 0 && keepAlive <= 65535) || typeof clientId !== "string") return Err.BAD_ARGUMENT;
  if (clientId.length === 0 && !clean) return Err.BAD_ARGUMENT; // MQTT-3.1.3-7
  if (willQos !== 0 && willQos !== 1 && willQos !== 2) return Err.BAD_QOS; // MQTT-3.1.2-14
  if (w && (typeof w.topic !== "string" || !w.topic.length || (NOT_PLAIN.test(w.topic) && (w.topic.indexOf("+") >= 0 || w.topic.indexOf("#") >= 0 || w.topic.indexOf("\0") >= 0)))) return Err.BAD_TOPIC; // MQTT-4.7.3-1, -3.3.2-2
  if (password.length && !username) return Err.BAD_ARGUMENT;
  // The fields in packet order, each with its kind: 1 a UTF-8 string, 2 a topic name, 0 bytes.
  const fields: (Bytes | null)[] = [bytesOf(clientId)];
  const kinds = [1];
  // Will message and password: a string's UTF-8, or bytes as they are.
  if (w) { fields.push(bytesOf(w.topic), typeof w.message === "string" ? bytesOf(w.message) : w.message === undefined ? "" : w.message); kinds.push(2, 0); }
  if (username) { fields.push(bytesOf(username)); kinds.push(1); }
  if (password.length) { fields.push(typeof password === "string" ? bytesOf(password) : password); kinds.push(0); }
  let rem = 10;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (!kinds[i] && f !== null && typeof f !== "string" && !(f instanceof Uint8Array)) return Err.BAD_ARGUMENT;
    if (f === null || f.length > 65535) return kinds[i] === 0 && f === null ? Err.BAD_ARGUMENT : Err.BAD_STRING;
    rem += 2 + f.length;
  }
  let p = beginPacket(buf, off, PacketType.CONNECT << 4, rem);
  if (p < 0) return p;
  const flags = (clean ? 2 : 0) | (w ? 4 | (willQos << 3) | (w.retain ? 32 : 0) : 0) | (username ? 128 : 0) | (password.length ? 64 : 0);
  buf[p] = 0; buf[p + 1] = 4; buf[p + 2] = 77; buf[p + 3] = 81; buf[p + 4] = 84; buf[p + 5] = 84; // "MQTT"
  buf[p + 6] = 4;
  buf[p + 7] = flags;
  buf[p + 8] = keepAlive >> 8;
  buf[p + 9] = keepAlive & 255;
  p += 10;
  for (let i = 0; i < fields.length && p >= 0; i++) p = writeField(buf, p, fields[i]!, kinds[i]);
  return p;
}

/** Encodes PUBLISH (MQTT 3.3); `packetId` is ignored at QoS 0, where DUP must be 0 (MQTT-3.3.1-2). The
 *  topic's UTF-8 is checked in place (MQTT-4.7.3-1, -3.3.2-2). */
export function encodePublish(
  buf: Uint8Array, off: number, topic: string, payload: Bytes, qos: number, retain: boolean, dup: boolean,
  packetId: number,
): number {
  if (qos !== 0 && qos !== 1 && qos !== 2) return Err.BAD_QOS;
  if (qos === 0 ? dup : !(packetId >= 1 && packetId <= 65535 && packetId % 1 === 0)) return qos === 0 ? Err.BAD_FLAGS : Err.BAD_PACKET_ID;
  // A topic name holds no wildcard or U+0000: plain ASCII passes with one native test (NOT_PLAIN; a second
  // regex would cost an ESP8266 about 15 JsVars).
  if (typeof topic !== "string" || !topic.length || (NOT_PLAIN.test(topic) && (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0 || topic.indexOf("\0") >= 0))) return Err.BAD_TOPIC;
  const t = bytesOf(topic);
  const m = typeof payload === "string" ? bytesOf(payload) : payload instanceof Uint8Array ? payload : null;
  if (!t || t.length > 65535) return Err.BAD_STRING;
  if (m === null) return Err.BAD_ARGUMENT;
  let p = beginPacket(buf, off, 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), 2 + t.length + (qos ? 2 : 0) + m.length);
  if (p < 0) return p;
  p = writeField(buf, p, t, 2);
  if (p < 0) return p;
  if (qos) {
    buf[p] = packetId >> 8;
    buf[p + 1] = packetId & 255;
    p += 2;
  }
  if (ESPRUINO) (buf as any).set(m, p);
  else copyBytes(buf, p, m);
  return p + m.length;
}

/** Encodes PUBACK, PUBREC, PUBREL or PUBCOMP (MQTT 3.4–3.7): two bytes of packet id; PUBREL flags 0010. */
export function encodeAck(buf: Uint8Array, off: number, type: number, packetId: number): number {
  if (type < PacketType.PUBACK || type > PacketType.PUBCOMP) return Err.BAD_ARGUMENT;
  if (!(packetId >= 1 && packetId <= 65535 && packetId % 1 === 0)) return Err.BAD_PACKET_ID; // MQTT-2.3.1-1
  const p = beginPacket(buf, off, (type << 4) | (type === PacketType.PUBREL ? 2 : 0), 2);
  if (p < 0) return p;
  buf[p] = packetId >> 8;
  buf[p + 1] = packetId & 255;
  return p + 2;
}

/** Encodes SUBSCRIBE (MQTT 3.8) for filters[i] at qos[i]; header flags 0010 (MQTT-3.8.1-1). */
export function encodeSubscribe(buf: Uint8Array, off: number, packetId: number, filters: string[], qos: number[]): number {
  return encodeFilterList(buf, off, PacketType.SUBSCRIBE, packetId, filters, qos);
}

/** Encodes UNSUBSCRIBE (MQTT 3.10); header flags 0010 (MQTT-3.10.1-1). */
export function encodeUnsubscribe(buf: Uint8Array, off: number, packetId: number, filters: string[]): number {
  return encodeFilterList(buf, off, PacketType.UNSUBSCRIBE, packetId, filters, null);
}

/** Encodes SUBSCRIBE (type 8, with `qos`) or UNSUBSCRIBE (type 10, qos null) for a list of filters
 *  (MQTT 3.8, 3.10); header flags 0010. */
export function encodeFilterList(buf: Uint8Array, off: number, type: number, packetId: number, filters: string[], qos: number[] | null): number {
  if (!(packetId >= 1 && packetId <= 65535 && packetId % 1 === 0)) return Err.BAD_PACKET_ID; // MQTT-2.3.1-1
  if (!filters || !filters.length) return Err.BAD_FILTER; // MQTT-3.8.3-3, MQTT-3.10.3-2
  let rem = 2;
  for (let i = 0; i < filters.length; i++) {
    // The filter (MQTT 4.7.1, MQTT-4.7.1-2/-3): not empty, '#' last and alone in its level, '+' alone in
    // its level. UTF-8 is checked where it is written.
    const f = filters[i];
    if (typeof f !== "string" || f.length === 0) return Err.BAD_FILTER;
    for (let j = f.indexOf("#") < 0 && f.indexOf("+") < 0 ? f.length : 0; j < f.length; j++) {
      const c = f.charCodeAt(j);
      if (c !== 35 && c !== 43) continue; // '#', '+'
      const alone = (j === 0 || f.charCodeAt(j - 1) === 47) && (j === f.length - 1 || f.charCodeAt(j + 1) === 47);
      if (!alone || (c === 35 && j !== f.length - 1)) return Err.BAD_FILTER;
    }
    if (qos && qos[i] !== 0 && qos[i] !== 1 && qos[i] !== 2) return Err.BAD_QOS;
    const b = bytesOf(filters[i]);
    if (!b || b.length > 65535) return Err.BAD_STRING;
    rem += 2 + b.length + (qos ? 1 : 0);
  }
  let p = beginPacket(buf, off, (type << 4) | 2, rem);
  if (p < 0) return p;
  buf[p++] = packetId >> 8;
  buf[p++] = packetId & 255;
  for (let i = 0; i < filters.length && p >= 0; i++) {
    p = writeField(buf, p, bytesOf(filters[i])!, 1);
    if (qos && p >= 0) buf[p++] = qos[i];
  }
  return p;
}

/** Encodes PINGREQ (MQTT 3.12). */
export function encodePingreq(buf: Uint8Array, off: number): number {
  return encodeHeaderOnly(buf, off, PacketType.PINGREQ);
}

/** Encodes DISCONNECT (MQTT 3.14). */
export function encodeDisconnect(buf: Uint8Array, off: number): number {
  return encodeHeaderOnly(buf, off, PacketType.DISCONNECT);
}

/** Encodes a packet that is its fixed header alone: PINGREQ (12) or DISCONNECT (14) (MQTT 3.12, 3.14). */
export function encodeHeaderOnly(buf: Uint8Array, off: number, type: number): number {
  return beginPacket(buf, off, type << 4, 0);
}

/** One decoded packet, reused for every packet: fields are numbers and offsets into the buffer
 *  the packet was decoded from, valid until that buffer is overwritten. */
export class PacketView {
  /** Packet type (MQTT 2.2.1). */
  type = 0;
  /** PUBLISH QoS (MQTT 3.3.1.2). */
  qos = 0;
  /** PUBLISH DUP flag (MQTT 3.3.1.1). */
  dup = false;
  /** PUBLISH RETAIN flag (MQTT 3.3.1.3). */
  retain = false;
  /** Packet identifier of PUBLISH QoS>0, PUBACK…PUBCOMP, SUBACK, UNSUBACK; else 0. */
  packetId = 0;
  /** PUBLISH topic bytes [topicStart, topicEnd). */
  topicStart = 0;
  topicEnd = 0;
  /** Payload bytes [payloadStart, payloadEnd): a PUBLISH message, SUBACK return codes (MQTT 3.9.3), or
   *  CONNACK's two bytes: its flags (bit 0: session present, MQTT 3.2.2.2) and return code (MQTT 3.2.2.3).
   *  (No fields of their own: each property costs an ESP8266's heap for good.) */
  payloadStart = 0;
  payloadEnd = 0;
  /** A PUBLISH topic that decodePacket found plain ASCII, as the byte string it checked (Espruino), so
   *  the session need not make it again; else "". While set, the fields every QoS 0 PUBLISH shares
   *  (type, qos, packetId, dup) hold, and a next packet with the same topic skips the check. */
  plainTopic_ = "";
}

/** Decodes the one whole packet in buf[start, end) into `v` in place (MQTT 2, 3.2–3.13, client side);
 *  returns the packet type, or an Err for anything the spec calls malformed. */
export function decodePacket(buf: Uint8Array, start: number, end: number, v: PacketView): number {
  "ram";
  // On the interpreter every byte of a function's text is read on each call: here only the packet that
  // comes by the thousand, a QoS 0 PUBLISH with a one-byte Remaining Length and a plain ASCII topic
  // (MQTT 3.3); everything else, checks that fail included, in decodeAny.
  const te = start + 4 + ((buf[start + 2] << 8) | buf[start + 3]);
  if ((buf[start] & 0xfe) !== 0x30 || buf[start + 1] + 2 !== end - start || end - start < 4 || te > end || te === start + 4 || !ESPRUINO) return decodeAny(buf, start, end, v);
  const t = toByteString(buf.subarray(start + 4, te));
  // The same topic as the last packet decoded here (streams repeat it): checked then, and the fields a
  // QoS 0 PUBLISH shares are still set (decodeAny clears plainTopic_).
  if (t !== v.plainTopic_) {
    if (NOT_PLAIN.test(t)) return decodeAny(buf, start, end, v);
    v.plainTopic_ = t;
    v.type = PacketType.PUBLISH;
    v.qos = v.packetId = 0;
    v.dup = false;
  }
  v.retain = (buf[start] & 1) === 1;
  v.topicStart = start + 4;
  v.topicEnd = v.payloadStart = te;
  v.payloadEnd = end;
  return PacketType.PUBLISH;
}

/** decodePacket for every packet: the fixed header and the body of each packet a client receives. */
function decodeAny(buf: Uint8Array, start: number, end: number, v: PacketView): number {
  v.plainTopic_ = "";
  if (end - start < 2) return Err.MALFORMED;
  let p = start + 2;
  if (buf[start + 1] < 128) {
    if (p + buf[start + 1] !== end) return Err.MALFORMED;
  } else {
    const r = readLength(buf, start + 1, end);
    if (r < 0) return r;
    p = start + 2 + (r & 3);
    if (p + (r >> 2) !== end) return Err.MALFORMED;
  }
  const flags = buf[start] & 15;
  const type = (v.type = buf[start] >> 4);
  v.packetId = 0;
  if (type !== PacketType.PUBLISH) {
    // Every other packet a client receives (MQTT 3.2, 3.4–3.7, 3.9, 3.11, 3.13).
    const len = end - p;
    switch (type) {
      case PacketType.CONNACK: {
        if (flags) return Err.BAD_FLAGS;
        if (len !== 2) return Err.MALFORMED;
        if (buf[p] & 0xfe) return Err.MALFORMED; // MQTT 3.2.2.1 reserved bits
        v.payloadStart = p;
        v.payloadEnd = end;
        if (buf[p + 1] > 5) return Err.BAD_RETURN_CODE;
        if (buf[p + 1] && buf[p]) return Err.PROTOCOL; // MQTT-3.2.2-4
        return type;
      }
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBREL:
      case PacketType.PUBCOMP:
      case PacketType.UNSUBACK: {
        if (flags !== (type === PacketType.PUBREL ? 2 : 0)) return Err.BAD_FLAGS; // MQTT-3.6.1-1
        if (len !== 2) return Err.MALFORMED;
        v.packetId = (buf[p] << 8) | buf[p + 1];
        return v.packetId ? type : Err.BAD_PACKET_ID;
      }
      case PacketType.SUBACK: {
        if (flags) return Err.BAD_FLAGS;
        if (len < 3) return Err.MALFORMED;
        v.packetId = (buf[p] << 8) | buf[p + 1];
        if (!v.packetId) return Err.BAD_PACKET_ID;
        for (let i = p + 2; i < end; i++) if (buf[i] > 2 && buf[i] !== 0x80) return Err.BAD_RETURN_CODE; // MQTT 3.9.3
        v.payloadStart = p + 2;
        v.payloadEnd = end;
        return type;
      }
      case PacketType.PINGRESP:
        if (flags) return Err.BAD_FLAGS;
        return len ? Err.MALFORMED : type;
    }
    return Err.UNEXPECTED_PACKET;
  }
  // PUBLISH (MQTT 3.3)
  const qos = (flags >> 1) & 3;
  if (qos === 3) return Err.BAD_QOS; // MQTT-3.3.1-4
  if (qos === 0 && flags & 8) return Err.BAD_FLAGS; // MQTT-3.3.1-2
  if (end - p < 2) return Err.MALFORMED;
  const topicEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  if (topicEnd + (qos ? 2 : 0) > end) return Err.MALFORMED;
  if (topicEnd === p + 2) return Err.BAD_TOPIC; // MQTT-4.7.3-1
  // On Espruino one native test of the topic as a (transient) byte string passes plain ASCII.
  const bad = !ESPRUINO || NOT_PLAIN.test(toByteString(buf.subarray(p + 2, topicEnd))) ? checkUtf8(buf, p + 2, topicEnd, true) : 0;
  if (bad) return bad;
  v.qos = qos;
  v.dup = (flags & 8) !== 0;
  v.retain = (flags & 1) !== 0;
  v.topicStart = p + 2;
  v.topicEnd = topicEnd;
  v.payloadStart = topicEnd;
  v.payloadEnd = end;
  if (!qos) return PacketType.PUBLISH;
  v.packetId = (buf[topicEnd] << 8) | buf[topicEnd + 1];
  v.payloadStart = topicEnd + 2;
  return v.packetId ? PacketType.PUBLISH : Err.BAD_PACKET_ID;
}
