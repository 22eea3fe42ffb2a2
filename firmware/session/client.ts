// The MQTT 3.1.1 client session: connection life, keepalive, QoS 1/2 in-flight slots in static storage,
// resend after reconnect, subscriptions with per-filter handlers, reconnect with backoff and failover.
// Shaped by the interpreter (README, "What things cost on Espruino"): every function object costs the
// heap about 7 JsVars, so the session is few functions: the per-message ones (publish, onPacket, the
// framer's push) are short, because every byte of a function's text is read on each call, and every
// rare job (connection life, control packets, QoS 1/2, errors) is one case of one cold method, x_,
// whose length costs time only when it runs. Numbers live in one typed array, not in properties;
// listeners are kept by Espruino's own `on` (in the object's "#on<event>" lists) and called in turn.
import { PacketType, decodePacket, encodeConnect, encodePublish, encodeFilterList } from "../codec/codec";
import { framePush } from "../codec/framer";
import { bytesOf, writeLength, toByteString, UNICODE } from "../codec/bytes";
import type { Platform, Socket } from "../platform";
import { Message, MessageHandler, MESSAGE_METHODS } from "./message";
import { Err, errorText } from "../errors";
import { topicMatches } from "../codec/topic";
import type { Limits, Options } from "./types";

export { errorText, topicMatches };
export type { Message, MessageHandler, Limits, Options };

const enum State { IDLE = 0, OPENING = 1, CONNACK_WAIT = 2, CONNECTED = 3, BACKOFF = 4 }
/** In-flight slot states (MQTT 4.3.2, 4.3.3): a PUBLISH to send, sent; a PUBREL to send, sent. */
const enum Slot { FREE = 0, QUEUED = 1, SENT = 2, RELEASE_QUEUED = 3, RELEASED = 4 }
/** Indexes into the client's one Float64Array of numbers; slot i's four numbers start at SLOTS + 4 i,
 *  then the incoming QoS 2 ids awaiting PUBREL (MQTT 4.3.3), one per slot, then at SUBS_AT each
 *  subscription's SUBSCRIBE packet id while its SUBACK is awaited. */
const enum V {
  ATTEMPTS = 0, SERVER = 1, SINCE = 2, RECONNECT_AT = 3, LAST_SENT = 4, LAST_RECEIVED = 5, PING_AT = 6,
  NEXT_ID = 7, SEQ = 8, SENT_SEEN = 9, KEEPALIVE = 10, INFLIGHT = 11, SLOT_BYTES = 12, MAX_SUBS = 13,
  SUBS_AT = 14, SLOTS = 15,
}
/** A slot's numbers in v_, SIZE of them: packet length, id, Slot state, sequence (oldest first). */
const enum S { LEN = 0, ID = 1, STATE = 2, SEQ = 3, SIZE = 4 }
/** The Espruino platform: its natives, made when the first client needs them (Platform). */
let natives: Platform | undefined;

/** The cold operations of Client.x_ (a negative op is the framer's error report). */
const enum Op {
  CONTROL = 1, PUBLISH = 2, CONNACK = 3, TICK = 4, OPEN = 5, OPENED = 6, CLOSED = 7, DROP = 8, FAIL = 9,
  SEND_SUBSCRIBE = 10, FIRST_DELIVERY = 12, PUBLISH_EVENT = 13, FIND_SUB = 14,
}

/** Built-ins the per-message code calls, looked up once (finding one by name costs the interpreter about
 *  as much as the call). */
const fromCharCode = String.fromCharCode;
const isUTF8 = E.isUTF8;

/** Milliseconds between ticks of the one periodic timer: keepalive, timeouts, reconnect (an enum: a
 *  module constant costs JsVars, an enum member is written into the code). */
const enum Tick { MS = 250 }

/** Every socket event, and the periodic tick, in one function (a function object costs an ESP8266's heap
 *  about 6 JsVars): told apart by the argument as Espruino gives it: a string of received bytes (framed
 *  into packets in the receive buffer, MQTT 2.2), the socket (or nothing) when it is open and when it
 *  drains, a boolean on close, an object on error, and the client, which setInterval passes to the tick.
 *  A socket event has `this` = the socket, whose client rides on it as `h` (no closure per client or
 *  connection); events of a socket the client has let go are ignored. */
function onSocketEvent(this: Socket, e?: any) {
  "ram";
  if (e instanceof Client) return e.x_(Op.TICK);
  const c = this.h;
  if (c.conn_ !== this) return;
  if (typeof e === "string") {
    c.received_ = 1;
    return c.push_(e);
  }
  if (typeof e === "boolean" || (e && e !== this)) c.x_(Op.CLOSED, e);
  else if (c.state_ === State.OPENING) c.x_(Op.OPENED);
  else {
    c.drained_ = c.sent_;
    if (c.pending) c.flush_();
    c.emit("drain");
  }
}

/** An MQTT 3.1.1 client: a drop-in for Espruino's MQTT module. Every buffer is allocated here, once.
 *  Private members end in "_" (the build shortens them); methods live on the prototype. It is its own
 *  framer state (codec/framer.ts FrameState). */
export class Client {
  // Members in the order the interpreter needs them most: it finds a property by walking the object's
  // list in order, so the framer's loop (per packet), then receiving and publishing come first.
  /** The two listener lists (Espruino's `on` fills them) every message looks up by a "#on…" name: first
   *  in the list, and present from the start, because a name is compared character by character with
   *  each property before it, and one the object lacks is sought through its prototypes and Espruino's
   *  built-ins (about 5 % of a message's work on the interpreter). removeAllListeners deletes them; the
   *  next `on` adds them back last: slower, not wrong. */
  private "#onmessage": unknown = undefined;
  private "#onpublish": unknown = undefined;
  /** The framer's state (FrameState): positions in the receive buffer, sizes, the buffer. */
  readPos_ = 0;
  writePos_ = 0;
  skip_ = 0;
  maxPacket_ = 0;
  msg_: Message = null!;
  state_ = State.IDLE;
  /** Four entries per subscription: filter, its UTF-8 bytes as a byte string (the same string when it is
   *  ASCII), handler, QoS. */
  subs_: any[] = [];
  /** The last topic publish sent on the fast path, and its field (length + bytes) as a byte string. */
  topic_ = "";
  /** True after CONNACK 0 until the connection is lost. */
  connected = false;
  topicField_ = "";
  /** Bytes written since start, and the count when the socket last drained: their difference is unsent. */
  sent_ = 0;
  drained_ = 0;
  /** Limits.txWindow: bytes written and not yet drained past which publish says BUSY. */
  window_ = 0;
  /** The connection, or null. */
  conn_: Socket | null = null;
  rx_: Uint8Array = null!;
  /** Set when data arrived since the last tick. */
  received_ = 0;
  resets_ = 0;
  /** QoS 1/2 messages held in slots, queued or awaiting acknowledgement. */
  pending = 0;
  /** The framer's push (codec/framer.ts), as a method of the client. */
  push_!: (chunk: string) => void;
  /** FrameSink.onFrameError: x_ itself, whose negative ops are framing errors. */
  onFrameError!: (err: number, header: number, id: number) => void;
  v_: Float64Array;
  tx_: Uint8Array;
  /** The QoS 1/2 slots' packets, v_[V.SLOT_BYTES] bytes each. */
  slots_: Uint8Array;
  /** The options, client_id filled in. */
  opt_: Options;
  /** The server as given: one, or a list to fail over between (no array made for one). */
  servers_: string | string[];
  platform_: Platform;
  timer_: any = null;
  /** FrameState.chunk_ and chunkAt_, set by the framer (last on the object: read only with a listener). */
  declare chunk_: string;
  declare chunkAt_: number;
  /** Adds a listener (Espruino's own, kept in "#on<event>"): connected, disconnected, message, publish,
   *  error, subscribed, subscribed_fail, unsubscribed, puback, busy, drain. */
  declare on: (event: string, fn: (a?: any, b?: any) => void) => this;
  /** Removes every listener of `event`, or of all events (Espruino's own). */
  declare removeAllListeners: (event?: string) => this;

  /** `server`: a host, "host:port", or a list to fail over between; `limits` default to an ESP8266's
   *  (boards/esp8266.json); the platform (options.platform) to Espruino's natives. */
  constructor(server: string | string[], options?: Options, limits?: Partial<Limits>) {
    // The options kept are a copy without `limits` and `platform`, so that the caller's object (and its
    // limits) can go.
    const opt: any = (this.opt_ = {});
    for (const k in options) if (k !== "limits" && k !== "platform") opt[k] = (options as any)[k];
    if (typeof server !== "string" && (!server || !server.length || typeof server[0] !== "string")) throw new Error("MQTT: no server");
    this.servers_ = server;
    // Espruino's own functions, one object shared by every client: no function of ours.
    const p = (this.platform_ = (options && options.platform) || natives || (natives = { connect: require("net").connect, time: getTime, setInterval: setInterval, clearInterval: clearInterval, random: Math.random }));
    const l: Partial<Limits> = limits || {};
    const inflight = l.inflight || 2;
    const slotBytes = l.inflightBytes || 128;
    const subs = l.maxSubscriptions || 4;
    this.window_ = l.txWindow || 1024;
    this.maxPacket_ = l.maxPacket || 256;
    if (opt.client_id === undefined) opt.client_id = "wisp" + (p.time() * 1e6 % 1e9 | 0).toString(36) + (p.random() * 1e6 | 0);
    this.tx_ = new Uint8Array(l.txBuffer || 128);
    this.slots_ = new Uint8Array(inflight * slotBytes);
    const v = (this.v_ = new Float64Array(V.SLOTS + inflight * (S.SIZE + 1) + subs));
    v[V.KEEPALIVE] = opt.keep_alive === undefined ? 60 : opt.keep_alive;
    v[V.INFLIGHT] = inflight;
    v[V.SLOT_BYTES] = slotBytes;
    v[V.MAX_SUBS] = subs;
    v[V.SUBS_AT] = V.SLOTS + inflight * (S.SIZE + 1);
    const m = (this.msg_ = Object.create(MESSAGE_METHODS));
    m.buf = this.rx_ = new Uint8Array(this.maxPacket_ + (l.maxChunk || 128));
  }

  /** Calls the listeners of `event` (added with Espruino's own `on`) with up to two arguments, at once. */
  emit(event: string, a?: any, b?: any): void {
    const l = (this as any)["#on" + event];
    if (typeof l === "function") l.call(this, a, b);
    else if (l) for (let i = 0; i < l.length; i++) l[i].call(this, a, b);
  }

  /** Publishes (MQTT 3.3): returns the packet id (QoS 1/2) or 0, or a negative Err, also reported as an
   *  `error` event (bad arguments) or a `busy` event (BUSY: no in-flight slot, or txWindow bytes are
   *  written and not yet drained; retry on `puback` / `drain`). QoS 0 while offline is NOT_CONNECTED;
   *  QoS 1/2 is queued. */
  publish(topic: string, message: any, options?: { qos?: number; retain?: boolean }): number {
    "ram";
    // The hot path: QoS 0, a byte string, the topic of the last QoS 0 publish, a one-byte length. On the
    // interpreter every statement and property read costs microseconds: this is all it does. The packet
    // is the one byte string the socket write needs: header + topic field + message.
    if (options || typeof message !== "string" || topic !== this.topic_ || !this.connected) return this.q_(Op.PUBLISH, topic, message, options);
    const f = this.topicField_;
    const rem = f.length + message.length;
    if (rem > 127 || (isUTF8 && isUTF8(message))) return this.q_(Op.PUBLISH, topic, message, options);
    if (this.sent_ - this.drained_ > this.window_) {
      this.emit("busy", topic);
      return Err.BUSY;
    }
    this.conn_!.write(fromCharCode(48, rem) + f + message);
    this.sent_ += rem + 2;
    return 0;
  }

  /** Subscribes to a filter or a list (MQTT 3.8); `handler` gets each matching message as the reused
   *  Message view. `subscribed` / `subscribed_fail` follow the SUBACK. Returns 0 or an Err. */
  subscribe(filters: string | string[], options?: { qos?: number }, handler?: MessageHandler): number {
    const qos = (options && options.qos) || 0;
    const list = typeof filters === "string" ? [filters] : filters;
    const subs = this.subs_;
    if (!list || typeof list.length !== "number" || !list.length) return this.x_(Op.FAIL, Err.BAD_ARGUMENT);
    if (qos !== 0 && qos !== 1 && qos !== 2) return this.x_(Op.FAIL, Err.BAD_QOS);
    let added = subs.length / 4;
    for (let i = 0; i < list.length; i++) {
      // Checked by encoding its SUBSCRIBE, as it will be sent: a filter the buffer cannot hold is too large.
      const b = encodeFilterList(this.tx_, 0, PacketType.SUBSCRIBE, 1, [list[i]], [qos]);
      if (b < 0) return this.x_(Op.FAIL, b === Err.BUFFER_TOO_SMALL ? Err.PACKET_TOO_LARGE : b);
      if (this.x_(Op.FIND_SUB, list[i]) < 0 && list.indexOf(list[i]) === i) added++;
    }
    if (added > this.v_[V.MAX_SUBS]) return this.x_(Op.FAIL, Err.BUSY);
    for (let i = 0; i < list.length; i++) {
      let k = this.x_(Op.FIND_SUB, list[i]);
      if (k < 0) {
        k = subs.length;
        subs.push(list[i], bytesOf(list[i]), undefined, -1);
        this.v_[this.v_[V.SUBS_AT] + k / 4] = 0;
      }
      if (handler) subs[k + 2] = handler;
      // Sent when new or at another QoS.
      if (subs[k + 3] !== qos) {
        subs[k + 3] = qos;
        if (this.state_ === State.CONNECTED) this.x_(Op.SEND_SUBSCRIBE, k);
      }
    }
    return 0;
  }

  /** Unsubscribes (MQTT 3.10): matching stops at once; `unsubscribed` follows the UNSUBACK. */
  unsubscribe(filters: string | string[]): number {
    const list = typeof filters === "string" ? [filters] : filters;
    if (!list || typeof list.length !== "number") return this.x_(Op.FAIL, Err.BAD_ARGUMENT);
    const v = this.v_;
    const q = v[V.SUBS_AT];
    for (let i = 0; i < list.length; i++) {
      const k = this.x_(Op.FIND_SUB, list[i]);
      if (k < 0) continue;
      this.subs_.splice(k, 4);
      v.set(v.subarray(q + k / 4 + 1), q + k / 4);
      if (this.state_ === State.CONNECTED) this.x_(Op.SEND_SUBSCRIBE, -1, list[i]);
    }
    return 0;
  }

  /** Connects, and keeps reconnecting (if enabled) until disconnect(); while connecting or waiting to
   *  reconnect, calling it again changes nothing, so backoff holds. */
  connect(): void {
    if (this.state_ !== State.IDLE) return;
    this.timer_ = this.platform_.setInterval(onSocketEvent, Tick.MS, this);
    this.v_[V.ATTEMPTS] = 0;
    this.x_(Op.OPEN);
  }

  /** Sends DISCONNECT, closes, stops reconnecting; queued QoS 1/2 messages stay for the next connect(). */
  disconnect(): void {
    if (this.state_ === State.IDLE) return;
    if (this.state_ === State.CONNECTED) this.conn_!.write("\xe0\x00");
    this.x_(Op.DROP, Err.CONNECTION_LOST, false);
  }

  /** FrameSink: one whole packet in the receive buffer. A QoS 0 PUBLISH goes to the matching handlers,
   *  then the `message` listeners (and `publish`, through x_); every other packet to x_. */
  onPacket(buf: Uint8Array, start: number, end: number): void {
    "ram";
    const m = this.msg_;
    const type = decodePacket(buf, start, end, m);
    if (type !== PacketType.PUBLISH || this.state_ !== State.CONNECTED || m.qos) return this.q_(Op.CONTROL, type);
    const subs = this.subs_;
    const l: any = this["#onmessage"];
    // The topic as a byte string (made by decodePacket when plain ASCII), for the filters (equal bytes
    // first: no call) and, flagged UTF-8 where the build has Unicode and it is not plain, the listeners.
    const t = subs.length || l ? m.plainTopic_ || toByteString(buf.subarray(m.topicStart, m.topicEnd)) : "";
    for (let k = 0; k < subs.length; k += 4) if (subs[k + 2] && (subs[k + 1] === t || topicMatches(subs[k + 1], t))) subs[k + 2](m);
    if (l) {
      // emit("message", topic, payload), inlined: one call fewer per message.
      const tt = m.plainTopic_ || !UNICODE ? t : E.asUTF8!(t);
      // From the chunk when the packet is in it (FrameState.chunk_): a third of the interpreter's work.
      const pl = start >= this.chunkAt_ ? (this.chunk_ as string).substr(m.payloadStart - this.chunkAt_, end - m.payloadStart) : toByteString(buf.subarray(m.payloadStart, end));
      if (typeof l === "function") l.call(this, tt, pl);
      else for (let i = 0; i < l.length; i++) l[i].call(this, tt, pl);
    }
    if (this["#onpublish"]) this.q_(Op.PUBLISH_EVENT);
  }

  /** Sends queued PUBLISH and PUBREL packets, oldest first, while the send window has room. A method of
   *  its own, not a case of x_: it runs for every QoS 1/2 message and on every drain. */
  flush_(): void {
    const v = this.v_;
    const n = v[V.INFLIGHT];
    for (;;) {
      let oldest = -1;
      for (let i = 0; i < n; i++) {
        const st = v[V.SLOTS + i * S.SIZE + S.STATE];
        if ((st === Slot.QUEUED || st === Slot.RELEASE_QUEUED) && (oldest < 0 || v[V.SLOTS + i * S.SIZE + S.SEQ] < v[V.SLOTS + oldest * S.SIZE + S.SEQ])) oldest = i;
      }
      if (oldest < 0 || this.state_ !== State.CONNECTED || this.sent_ - this.drained_ > this.window_) return;
      const at = V.SLOTS + oldest * S.SIZE;
      const slotBytes = v[V.SLOT_BYTES];
      if (v[at + S.STATE] === Slot.QUEUED) {
        v[at + S.STATE] = Slot.SENT;
        this.conn_!.write(toByteString(this.slots_.subarray(oldest * slotBytes, oldest * slotBytes + v[at + S.LEN])));
        this.sent_ += v[at + S.LEN];
      } else {
        v[at + S.STATE] = Slot.RELEASED;
        this.conn_!.write(fromCharCode(0x62, 2, v[at + S.ID] >> 8, v[at + S.ID] & 255));
        this.sent_ += 4;
      }
    }
  }

  /** The next packet id: 1..65535, wrapping, never one still in use by a slot or an awaited SUBACK
   *  (MQTT 2.3.1). A method of its own: it runs for every QoS 1/2 message. */
  nextId_(): number {
    const v = this.v_;
    const n = v[V.INFLIGHT];
    for (;;) {
      const id = (v[V.NEXT_ID] = (v[V.NEXT_ID] % 65535) + 1);
      let used = false;
      for (let i = 0; i < n; i++) if (v[V.SLOTS + i * S.SIZE + S.STATE] && v[V.SLOTS + i * S.SIZE + S.ID] === id) used = true;
      const q = v[V.SUBS_AT];
      for (let k = 0; k < this.subs_.length; k += 4) if (v[q + k / 4] === id) used = true;
      if (!used) return id;
    }
  }

  /** The messages' rare jobs, one case each, in one method shorter than x_, as they come with every
   *  QoS 1/2 message: control packets, publishing into a slot, QoS 2 delivery once, the `publish` event.
   *  A negative `op` is FrameSink.onFrameError(err, header, packetId). */
  q_(op: number, a?: any, b?: any, d?: any): any {
    const v = this.v_;
    const m = this.msg_;
    const n = v[V.INFLIGHT];
    const tx = this.tx_;
    if (op < 0) {
      // A packet too large to hold was skipped (a QoS 1/2 PUBLISH is acknowledged all the same, so the
      // broker's window never fills), or the stream is lost.
      this.x_(Op.FAIL, op);
      if (op !== Err.PACKET_TOO_LARGE) return this.x_(Op.DROP, op, true);
      if (b && this.state_ === State.CONNECTED && (!(a & 4) || this.q_(Op.FIRST_DELIVERY, b))) this.conn_!.write(fromCharCode(a & 4 ? 0x50 : 0x40, 2, b >> 8, b & 255));
      return;
    }
    switch (op) {
      case Op.CONTROL: {
        // Every packet but a QoS 0 PUBLISH while connected; `a` is its type or an Err.
        if (this.state_ !== State.CONNECTED && this.state_ !== State.CONNACK_WAIT) return; // a dropped connection's
        if (a < 0 || (this.state_ === State.CONNACK_WAIT) !== (a === PacketType.CONNACK)) {
          // Malformed, or out of order (MQTT-3.2.0-1: the first packet is CONNACK, and only once).
          const err = a < 0 ? a : Err.PROTOCOL;
          this.x_(Op.FAIL, err);
          return this.x_(Op.DROP, err, true);
        }
        const id = m.packetId;
        if (a === PacketType.PUBLISH) {
          // QoS 1 (MQTT 4.3.2) or QoS 2, delivered once per id until its PUBREL (MQTT 4.3.3).
          if (m.qos === 2 && !this.q_(Op.FIRST_DELIVERY, id)) return;
          const subs = this.subs_;
          const t = toByteString(m.buf.subarray(m.topicStart, m.topicEnd));
          for (let k = 0; k < subs.length; k += 4) if (subs[k + 2] && topicMatches(subs[k + 1], t)) subs[k + 2](m);
          if (this["#onmessage"]) this.emit("message", m.topic(), m.text());
          if (this["#onpublish"]) this.q_(Op.PUBLISH_EVENT);
          // PUBACK or PUBREC; the handlers may have dropped the connection.
          if (this.conn_) this.conn_.write(fromCharCode(m.qos === 1 ? 0x40 : 0x50, 2, id >> 8, id & 255));
        } else if (a === PacketType.CONNACK) {
          return this.x_(Op.CONNACK);
        } else if (a === PacketType.PUBACK || a === PacketType.PUBCOMP || a === PacketType.PUBREC) {
          // The slot holding this id in the state the packet answers: PUBLISH sent, or PUBREL sent.
          let s = -1;
          for (let i = 0; i < n; i++) if (v[V.SLOTS + i * S.SIZE + S.ID] === id && v[V.SLOTS + i * S.SIZE + S.STATE] === (a === PacketType.PUBCOMP ? Slot.RELEASED : Slot.SENT)) s = i;
          if (a === PacketType.PUBREC) {
            // Answered with PUBREL (MQTT-4.3.3-1), paced like the PUBLISH; one for an unknown id too.
            if (s < 0) return this.conn_!.write(fromCharCode(0x62, 2, id >> 8, id & 255));
            v[V.SLOTS + s * S.SIZE + S.STATE] = Slot.RELEASE_QUEUED;
            return this.flush_();
          }
          if (s < 0) return;
          v[V.SLOTS + s * S.SIZE + S.STATE] = Slot.FREE;
          this.pending--;
          this.emit("puback", id);
          this.flush_();
        } else if (a === PacketType.PUBREL) {
          for (let i = 0; i < n; i++) if (v[V.SLOTS + n * S.SIZE + i] === id) v[V.SLOTS + n * S.SIZE + i] = 0;
          this.conn_!.write(fromCharCode(0x70, 2, id >> 8, id & 255));
        } else if (a === PacketType.SUBACK) {
          const q = v[V.SUBS_AT];
          const code = m.buf[m.payloadStart];
          for (let k = 0; k < this.subs_.length; k += 4) {
            if (v[q + k / 4] !== id) continue;
            v[q + k / 4] = 0;
            if (code === 0x80) this.emit("subscribed_fail", this.subs_[k]);
            else this.emit("subscribed", this.subs_[k], code);
          }
        } else if (a === PacketType.UNSUBACK) this.emit("unsubscribed", id);
        else v[V.PING_AT] = 0; // PINGRESP
        return;
      }
      case Op.PUBLISH: {
        // Every publish but the hot path's: QoS 0 of any payload or with retain, written like the hot
        // path; QoS 1/2 into a free slot, kept until acknowledged. a: topic, b: message, d: options.
        const qos = d ? d.qos || 0 : 0;
        const retain = !!(d && d.retain);
        if (typeof b === "number") b = String(b);
        if (!qos && b instanceof Uint8Array) b = toByteString(b);
        if (!qos && typeof b === "string") {
          const bytes = bytesOf(b) as string;
          if (a !== this.topic_) {
            // Checks the topic by encoding it with no payload, and keeps its field for the hot path.
            const len = encodePublish(tx, 0, a, "", 0, false, false, 0);
            if (len < 0) return this.x_(Op.FAIL, len === Err.BUFFER_TOO_SMALL ? Err.PACKET_TOO_LARGE : len);
            this.topic_ = a;
            // With no payload the packet ends with the topic field, which follows the fixed header.
            this.topicField_ = toByteString(tx.subarray(tx[1] & 128 ? 3 : 2, len));
          }
          if (this.state_ !== State.CONNECTED) return Err.NOT_CONNECTED;
          const rem = this.topicField_.length + bytes.length;
          if (this.sent_ - this.drained_ > this.window_) {
            this.emit("busy", a);
            return Err.BUSY;
          }
          if (rem > 268435455) return this.x_(Op.FAIL, Err.PACKET_TOO_LARGE);
          tx[0] = retain ? 49 : 48;
          const h = writeLength(tx, 1, rem);
          this.conn_!.write(toByteString(tx.subarray(0, h)) + this.topicField_ + bytes);
          this.sent_ += rem + h;
          return 0;
        }
        let s = -1;
        if (qos) for (let i = n - 1; i >= 0; i--) if (!v[V.SLOTS + i * S.SIZE + S.STATE]) s = i;
        // With no free slot the arguments are still checked, so that a bad call reports its own error.
        const id = s < 0 ? 1 : this.nextId_();
        const slotBytes = v[V.SLOT_BYTES];
        let len = encodePublish(s < 0 ? tx : this.slots_.subarray(s * slotBytes, (s + 1) * slotBytes), 0, a, b, qos, retain, false, id);
        if (len === Err.BUFFER_TOO_SMALL) len = Err.PACKET_TOO_LARGE;
        if (len < 0) return this.x_(Op.FAIL, len);
        if (s < 0) {
          this.emit("busy", a);
          return Err.BUSY;
        }
        const at = V.SLOTS + s * S.SIZE;
        v[at + S.LEN] = len;
        v[at + S.ID] = id;
        v[at + S.STATE] = Slot.QUEUED;
        v[at + S.SEQ] = ++v[V.SEQ];
        this.pending++;
        this.flush_();
        return id;
      }
      case Op.FIRST_DELIVERY: {
        // True for a QoS 2 packet id `a` not delivered yet, which it then remembers until PUBREL (MQTT
        // 4.3.3); a repeat is acknowledged again. With no room to remember it, it stays unacknowledged
        // (the broker sends it again) and `error` says busy.
        const ids = V.SLOTS + n * S.SIZE;
        let free = -1;
        for (let i = 0; i < n; i++) {
          if (v[ids + i] === a) {
            this.conn_!.write(fromCharCode(0x50, 2, a >> 8, a & 255));
            return false;
          }
          if (!v[ids + i] && free < 0) free = i;
        }
        if (free < 0) {
          this.x_(Op.FAIL, Err.BUSY);
          return false;
        }
        v[ids + free] = a;
        return true;
      }
      case Op.PUBLISH_EVENT:
        // The `publish` event of Espruino's MQTT module (its strings and object allocate).
        this.emit("publish", { topic: m.topic(), message: m.text(), qos: m.qos, retain: m.retain, dup: m.dup });
    }
  }

  /** The connection's rare jobs (CONNACK, tick, open, close, drop, errors, SUBSCRIBE), one case each, in
   *  one method: a function costs the heap the same however long it is, and its length costs time only
   *  when it runs. `op` is an Op, with its arguments in a and b. */
  x_(op: number, a?: any, b?: any): any {
    const v = this.v_;
    const o = this.opt_;
    const p = this.platform_;
    const m = this.msg_;
    const n = v[V.INFLIGHT];
    const tx = this.tx_;
    switch (op) {
      case Op.CONNACK: {
        // Refused, or connected (MQTT 3.2); then resend what was not acknowledged. The view's payload is
        // CONNACK's flags (session present) and return code.
        const sessionPresent = m.buf[m.payloadStart] === 1;
        const returnCode = m.buf[m.payloadStart + 1];
        if (returnCode || (o.clean_session !== false && sessionPresent)) {
          // Refused (MQTT 3.2.2.3), or a session kept against a clean start (MQTT-3.2.2-1).
          this.emit("error", returnCode ? "connection refused: " + ["", "unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"][returnCode] : errorText(Err.PROTOCOL), returnCode ? Err.REFUSED : Err.PROTOCOL);
          return this.x_(Op.DROP, returnCode ? Err.REFUSED : Err.PROTOCOL, true);
        }
        this.state_ = State.CONNECTED;
        this.connected = true;
        v[V.ATTEMPTS] = 0;
        v[V.LAST_RECEIVED] = v[V.LAST_SENT] = p.time();
        // Resend what the broker has not acknowledged, with DUP and the original ids (MQTT 4.4).
        for (let i = 0; i < n; i++) {
          const at = V.SLOTS + i * S.SIZE + S.STATE;
          if (v[at] === Slot.SENT) {
            this.slots_[i * v[V.SLOT_BYTES]] |= 8;
            v[at] = Slot.QUEUED;
          } else if (v[at] === Slot.RELEASED) v[at] = Slot.RELEASE_QUEUED;
        }
        if (!sessionPresent) {
          // A new session: no incoming QoS 2 state (MQTT-3.1.2-6), no subscriptions (MQTT 3.2.2.2).
          for (let i = 0; i < n; i++) v[V.SLOTS + n * S.SIZE + i] = 0;
          for (let k = 0; k < this.subs_.length; k += 4) this.x_(Op.SEND_SUBSCRIBE, k);
        }
        this.flush_();
        this.emit("connected", sessionPresent);
        return;
      }
      case Op.TICK: {
        // Reconnect after backoff, connect timeout, keepalive (MQTT 3.1.2.10).
        const now = p.time();
        const tick = Tick.MS / 1000;
        // What was sent or received since the last tick counts from that tick: never later than it
        // happened, so a PINGREQ is not late by a tick plus the timer's delay (MQTT-3.1.2-23).
        if (this.sent_ !== v[V.SENT_SEEN]) {
          v[V.SENT_SEEN] = this.sent_;
          v[V.LAST_SENT] = now - tick;
        }
        if (this.received_) {
          this.received_ = 0;
          v[V.LAST_RECEIVED] = now - tick;
        }
        const st = this.state_;
        const keepAlive = v[V.KEEPALIVE];
        if (st === State.BACKOFF) {
          if (now >= v[V.RECONNECT_AT]) this.x_(Op.OPEN);
        } else if (st === State.OPENING || st === State.CONNACK_WAIT) {
          if (now - v[V.SINCE] > (o.connect_timeout || 10000) / 1000) {
            this.x_(Op.FAIL, Err.TIMEOUT);
            this.x_(Op.DROP, Err.TIMEOUT, true);
          }
        } else if (st === State.CONNECTED && keepAlive) {
          if (v[V.PING_AT]) {
            // Anything received since the PINGREQ shows the link alive: a PINGRESP queued behind a
            // flood of messages may come late.
            if (v[V.LAST_RECEIVED] >= v[V.PING_AT]) v[V.PING_AT] = 0;
            else if (now - v[V.PING_AT] > (o.ping_timeout || Math.min(keepAlive * 500, 10000)) / 1000) {
              this.x_(Op.FAIL, Err.TIMEOUT);
              return this.x_(Op.DROP, Err.TIMEOUT, true);
            }
          }
          // PINGREQ within the keepalive of the last packet sent (MQTT-3.1.2-23), and of the last
          // received: a client that only publishes still hears from the broker, and finds a dead link.
          if (!v[V.PING_AT] && (now - v[V.LAST_SENT] >= keepAlive - 2 * tick || now - v[V.LAST_RECEIVED] >= keepAlive - 2 * tick)) {
            this.conn_!.write("\xc0\x00");
            this.sent_ += 2;
            v[V.PING_AT] = now;
          }
        }
        return;
      }
      case Op.OPEN: {
        // Opens a connection to the next broker. A refusal may throw at once (Espruino's Linux build
        // does): it counts as a failed attempt like any other.
        const list = this.servers_;
        let address = typeof list === "string" ? list : list[v[V.SERVER] % list.length];
        // "mqtts://host:port" or the tls option: TLS (port 8883 by default); "mqtt://" or none: TCP.
        const tls = o.tls || address.indexOf("mqtts:") === 0;
        address = address.split("//").pop()!;
        const colon = address.lastIndexOf(":");
        // The receive buffer is empty here: every way to OPEN passes DROP, which resets the stream, or
        // starts from a new client.
        this.state_ = State.OPENING;
        v[V.SINCE] = p.time();
        // TLS from Espruino's tls module, looked up only when wanted: an ESP8266 has none.
        if (tls && p === natives && !p.tls) try { p.tls = require("tls").connect; } catch (e) { /* said below */ }
        if (tls && !p.tls) {
          this.emit("error", "TLS is not available on this board", Err.BAD_ARGUMENT);
          return this.x_(Op.DROP, Err.BAD_ARGUMENT, false);
        }
        const to = { host: colon > 0 ? address.slice(0, colon) : address, port: colon > 0 ? +address.slice(colon + 1) : o.port || (tls ? 8883 : 1883), ca: o.ca, key: o.key, cert: o.cert };
        let s: Socket;
        try {
          s = tls ? p.tls!(to, onSocketEvent) : p.connect(to, onSocketEvent);
        } catch (e) {
          this.emit("error", tls ? "TLS: " + (e as any).message : "connection refused", Err.CONNECTION_LOST);
          return this.x_(Op.DROP, Err.CONNECTION_LOST, true);
        }
        s.h = this;
        s.on("data", onSocketEvent);
        s.on("drain", onSocketEvent);
        s.on("close", onSocketEvent);
        s.on("error", onSocketEvent);
        this.conn_ = s;
        return;
      }
      case Op.OPENED: {
        // The TCP connection is up: send CONNECT (MQTT 3.1).
        const len = encodeConnect(tx, 0, o.client_id!, v[V.KEEPALIVE], o);
        if (len < 0) {
          this.x_(Op.FAIL, len);
          return this.x_(Op.DROP, len, false);
        }
        this.state_ = State.CONNACK_WAIT;
        v[V.SINCE] = p.time();
        this.conn_!.write(toByteString(tx.subarray(0, len)));
        this.sent_ += len;
        return;
      }
      case Op.CLOSED: {
        // `close` gives a boolean, `error` an object with a message.
        this.conn_ = null;
        if (this.readPos_ < this.writePos_ || this.skip_) this.emit("error", "truncated packet", Err.MALFORMED);
        // Closed before CONNACK (e.g. a TLS handshake the broker refused): said, then retried with backoff.
        else if (this.state_ !== State.CONNECTED) this.emit("error", "connection closed before CONNACK" + (a && a.message ? ": " + a.message : ""), Err.CONNECTION_LOST);
        return this.x_(Op.DROP, Err.CONNECTION_LOST, true);
      }
      case Op.DROP: {
        // Ends the current connection (nothing more of it is handled) and, with `b` (retry) and
        // reconnect on, waits to reconnect with exponential backoff and jitter, moving on to the next
        // broker; `a` is the reason.
        const wasConnected = this.connected;
        this.connected = false;
        const s = this.conn_;
        this.conn_ = null;
        if (s) s.end();
        this.readPos_ = this.writePos_ = this.skip_ = 0;
        this.resets_++;
        v[V.PING_AT] = 0;
        const q = v[V.SUBS_AT];
        for (let k = 0; k < this.subs_.length; k += 4) v[q + k / 4] = 0; // a SUBACK that never came
        if (b && o.reconnect !== false) {
          const wait = Math.min(o.reconnect_max || 60000, (o.reconnect_min || 1000) * Math.pow(2, Math.min(v[V.ATTEMPTS], 16)));
          v[V.ATTEMPTS]++;
          v[V.SERVER]++;
          this.state_ = State.BACKOFF;
          v[V.RECONNECT_AT] = p.time() + (wait * (0.5 + p.random() / 2)) / 1000;
        } else {
          if (this.timer_) p.clearInterval(this.timer_);
          this.timer_ = null;
          this.state_ = State.IDLE;
        }
        if (wasConnected) this.emit("disconnected", errorText(a), a);
        return;
      }
      case Op.FAIL:
        this.emit("error", errorText(a), a);
        return a;
      case Op.SEND_SUBSCRIBE: {
        // SUBSCRIBE for subscription `a`, its packet id then awaiting the SUBACK; or with a < 0,
        // UNSUBSCRIBE for filter `b`.
        const id = this.nextId_();
        const len = encodeFilterList(tx, 0, a < 0 ? PacketType.UNSUBSCRIBE : PacketType.SUBSCRIBE, id, [a < 0 ? b : this.subs_[a]], a < 0 ? null : [this.subs_[a + 3]]);
        if (len < 0) return this.x_(Op.FAIL, len);
        if (a >= 0) v[v[V.SUBS_AT] + a / 4] = id;
        this.conn_!.write(toByteString(tx.subarray(0, len)));
        this.sent_ += len;
        return;
      }
      case Op.FIND_SUB: {
        // The index in subs_ of filter `a`'s subscription, or -1. Only entries 0 mod 4 are filters: the
        // bytes after one may equal another filter's text.
        let k = typeof a === "string" ? this.subs_.indexOf(a) : -1;
        while (k > 0 && k % 4) k = this.subs_.indexOf(a, k + 1);
        return k;
      }
    }
  }
}

Client.prototype.push_ = framePush;
Client.prototype.onFrameError = Client.prototype.q_;
