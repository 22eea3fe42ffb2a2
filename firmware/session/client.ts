// The MQTT 3.1.1 client session: connection life, keepalive, QoS 1/2 in-flight slots in static storage,
// resend after reconnect, subscriptions with per-filter handlers, reconnect with backoff and failover.
// Shaped by the interpreter (README, "What things cost on Espruino"): every function object costs
// JsVars, so the session is a few methods; every byte of a function's text is read on each call, so the
// per-message ones (publish, onPacket) are short and leave rare work to others; numbers live in one
// typed array, not in properties.
import { PacketType, decodePacket, encodeConnect, encodePublish, encodeAck, encodeFilterList, checkFilter } from "../codec/codec";
import { Framer } from "../codec/framer";
import { bytesOf, writeLength } from "../codec/bytes";
import type { Platform, Socket } from "../platform";
import { Message, MessageHandler } from "./message";
import { Err, errorText } from "../errors";
import { topicMatches } from "../codec/topic";
import type { Limits, Options } from "./types";

export { Message, errorText, topicMatches };
export type { MessageHandler, Limits, Options };

const enum State { IDLE = 0, OPENING = 1, CONNACK_WAIT = 2, CONNECTED = 3, BACKOFF = 4 }
/** In-flight slot states (MQTT 4.3.2, 4.3.3): a PUBLISH to send, sent; a PUBREL to send, sent. */
const enum Slot { FREE = 0, QUEUED = 1, SENT = 2, RELEASE_QUEUED = 3, RELEASED = 4 }
/** Indexes into the client's one Float64Array of numbers; slot i's four numbers start at SLOTS + 4 i,
 *  then the incoming QoS 2 ids awaiting PUBREL (MQTT 4.3.3), one per slot, then at SUBS_AT each
 *  subscription's SUBSCRIBE packet id while its SUBACK is awaited. */
const enum V {
  ATTEMPTS = 0, SERVER = 1, SINCE = 2, RECONNECT_AT = 3, LAST_SENT = 4, LAST_RECEIVED = 5, PING_AT = 6,
  NEXT_ID = 7, SEQ = 8, SENT_SEEN = 9, KEEPALIVE = 10, SUBS_AT = 11, SLOTS = 12,
}
const enum S { LEN = 0, ID = 1, STATE = 2, SEQ = 3 }
const SLOT_SIZE = 4;

/** Milliseconds between ticks of the one periodic timer: keepalive, timeouts, reconnect. */
const TICK_MS = 250;

// Socket events call these with `this` = the socket, whose client rides on it as `h`: no closure is made
// per client or connection. Events of a socket the client has let go are ignored.
/** The TCP connection is up: send CONNECT (MQTT 3.1). */
function onSocketOpen(this: Socket) {
  const c = this.h;
  if (c.conn_ !== this) return;
  const o = c.opt_;
  const w = o.will;
  const len = encodeConnect(c.tx_, 0, c.clientId_, c.v_[V.KEEPALIVE], o.clean_session !== false,
    w ? w.topic : "", w && w.message !== undefined ? w.message : "", w ? w.qos || 0 : 0, w ? !!w.retain : false,
    o.username || "", o.password || "");
  if (len < 0) {
    c.fail_(len);
    return c.drop_(len, false);
  }
  c.state_ = State.CONNACK_WAIT;
  c.v_[V.SINCE] = c.platform_.time();
  c.send_(c.tx_, len);
}
function onSocketData(this: Socket, d: string) {
  "ram";
  const c = this.h;
  if (c.conn_ !== this) return;
  c.received_ = 1;
  c.framer_.push(d);
}
function onSocketDrain(this: Socket) {
  const c = this.h;
  if (c.conn_ !== this) return;
  c.drained_ = c.sent_;
  c.flush_();
  c.emit("drain");
}
function onSocketClose(this: Socket) {
  const c = this.h;
  if (c.conn_ !== this) return;
  const e = arguments[0]; // `error` gives {message}, `close` a boolean; not a parameter, which costs a JsVar
  c.conn_ = null;
  if (c.framer_.readPos_ < c.framer_.writePos_ || c.framer_.skip_) c.emit("error", "truncated packet", Err.MALFORMED);
  // Closed before CONNACK (e.g. a TLS handshake the broker refused): said, then retried with backoff.
  else if (c.state_ !== State.CONNECTED) c.emit("error", "connection closed before CONNACK" + (e && e.message ? ": " + e.message : ""), Err.CONNECTION_LOST);
  c.drop_(Err.CONNECTION_LOST, true);
}

/** An MQTT 3.1.1 client: a drop-in for Espruino's MQTT module. Every buffer is allocated here, once.
 *  Private members end in "_" (the build shortens them); methods live on the prototype. */
export class Client {
  // Hot members first: Espruino finds a property by walking the object's list in order.
  /** The connection, or null. */
  conn_: Socket | null = null;
  /** Bytes written since start, and the count when the socket last drained: their difference is unsent. */
  sent_ = 0;
  drained_ = 0;
  state_ = State.IDLE;
  /** True after CONNACK 0 until the connection is lost. */
  connected = false;
  /** The last topic publish sent on the fast path, and its field (length + bytes) as a byte string. */
  topic_ = "";
  topicField_ = "";
  /** Limits.txWindow: bytes written and not yet drained past which publish says BUSY. */
  readonly window_: number;
  /** Set when data arrived since the last tick. */
  received_ = 0;
  readonly framer_: Framer;
  readonly msg_: Message;
  /** Four entries per subscription: filter, its bytes, handler, QoS. */
  readonly subs_: any[] = [];
  readonly listeners_: { [event: string]: any } = {};
  readonly limits_: Limits;
  readonly v_: Float64Array;
  readonly tx_: Uint8Array;
  readonly slots_: Uint8Array[] = [];
  readonly opt_: Options;
  readonly servers_: string[];
  readonly platform_: Platform;
  readonly clientId_: string;
  timer_: any = null;

  /** `server`: a host, "host:port", or a list to fail over between. */
  constructor(server: string | string[], options: Options | undefined, limits: Limits, platform: Platform) {
    const opt = (this.opt_ = options || {});
    const servers = (this.servers_ = typeof server === "string" ? [server] : server);
    if (!servers || !servers.length || typeof servers[0] !== "string") throw new Error("MQTT: no server");
    this.platform_ = platform;
    this.limits_ = limits;
    this.window_ = limits.txWindow;
    this.clientId_ = opt.client_id === undefined ? "wisp" + (platform.time() * 1e6 % 1e9 | 0).toString(36) + (platform.random() * 1e6 | 0) : opt.client_id;
    this.tx_ = new Uint8Array(limits.txBuffer);
    const slotBytes = new Uint8Array(limits.inflight * limits.inflightBytes);
    for (let i = 0; i < limits.inflight; i++) this.slots_.push(slotBytes.subarray(i * limits.inflightBytes, (i + 1) * limits.inflightBytes));
    this.v_ = new Float64Array(V.SLOTS + limits.inflight * (SLOT_SIZE + 1) + limits.maxSubscriptions);
    this.v_[V.KEEPALIVE] = opt.keep_alive === undefined ? 60 : opt.keep_alive;
    this.v_[V.SUBS_AT] = V.SLOTS + limits.inflight * (SLOT_SIZE + 1);
    this.framer_ = new Framer(limits.maxPacket, limits.maxChunk, this);
    this.msg_ = new Message(this.framer_.buf);
  }

  /** Adds a listener: connected, disconnected, message, publish, error, subscribed, subscribed_fail,
   *  unsubscribed, puback, busy, drain. */
  on(event: string, fn: (a?: any, b?: any) => void): this {
    const l = this.listeners_[event];
    this.listeners_[event] = !l ? fn : typeof l === "function" ? [l, fn] : l.concat([fn]);
    return this;
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: string): this {
    for (const k in this.listeners_) if (!event || k === event) delete this.listeners_[k];
    return this;
  }

  /** Calls the listeners of `event` with up to two arguments; false when there are none. */
  emit(event: string, a?: any, b?: any): boolean {
    const l = this.listeners_[event];
    if (!l) return false;
    if (typeof l === "function") l.call(this, a, b);
    else for (let i = 0; i < l.length; i++) l[i].call(this, a, b);
    return true;
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
    if (options || typeof message !== "string" || topic !== this.topic_ || !this.connected) return this.publishAny_(topic, message, options);
    const f = this.topicField_;
    const rem = f.length + message.length;
    if (rem > 127 || (E.isUTF8 && E.isUTF8(message))) return this.publishAny_(topic, message, options);
    if (this.sent_ - this.drained_ > this.window_) {
      this.emit("busy", topic);
      return Err.BUSY;
    }
    this.conn_!.write(String.fromCharCode(48, rem) + f + message);
    this.sent_ += rem + 2;
    return 0;
  }

  /** Every other publish: QoS 0 of any payload or with retain, written like the hot path; QoS 1/2 into
   *  a free slot, kept until acknowledged. */
  publishAny_(topic: string, message: any, options?: { qos?: number; retain?: boolean }): number {
    const qos = options ? options.qos || 0 : 0;
    const retain = !!(options && options.retain);
    const tx = this.tx_;
    if (typeof message === "number") message = String(message);
    if (!qos && message instanceof Uint8Array) message = E.toString(message);
    if (!qos && typeof message === "string") {
      const bytes = bytesOf(message) as string;
      if (topic !== this.topic_) {
        // Checks the topic by encoding it with no payload, and keeps its field for the hot path.
        const len = encodePublish(tx, 0, topic, "", 0, false, false, 0);
        if (len < 0) return this.fail_(len === Err.BUFFER_TOO_SMALL ? Err.PACKET_TOO_LARGE : len);
        this.topic_ = topic;
        // With no payload the packet ends with the topic field, which follows the fixed header.
        this.topicField_ = E.toString(tx.subarray(tx[1] & 128 ? 3 : 2, len));
      }
      if (this.state_ !== State.CONNECTED) return Err.NOT_CONNECTED;
      const rem = this.topicField_.length + bytes.length;
      if (this.sent_ - this.drained_ > this.window_) {
        this.emit("busy", topic);
        return Err.BUSY;
      }
      if (rem > 268435455) return this.fail_(Err.PACKET_TOO_LARGE);
      tx[0] = retain ? 49 : 48;
      const h = writeLength(tx, 1, rem);
      this.conn_!.write(E.toString(tx.subarray(0, h)) + this.topicField_ + bytes);
      this.sent_ += rem + h;
      return 0;
    }
    const s = qos ? this.findSlot_(-1, Slot.FREE) : -1;
    // With no free slot the arguments are still checked, so that a bad call reports its own error.
    const id = s < 0 ? 1 : this.nextId_();
    let len = encodePublish(s < 0 ? tx : this.slots_[s], 0, topic, message, qos, retain, false, id);
    if (len === Err.BUFFER_TOO_SMALL) len = Err.PACKET_TOO_LARGE;
    if (len < 0) return this.fail_(len);
    if (s < 0) {
      this.emit("busy", topic);
      return Err.BUSY;
    }
    const v = this.v_;
    const at = V.SLOTS + s * SLOT_SIZE;
    v[at + S.LEN] = len;
    v[at + S.ID] = id;
    v[at + S.STATE] = Slot.QUEUED;
    v[at + S.SEQ] = ++v[V.SEQ];
    this.flush_();
    return id;
  }

  /** Subscribes to a filter or a list (MQTT 3.8); `handler` gets each matching message as the reused
   *  Message view. `subscribed` / `subscribed_fail` follow the SUBACK. Returns 0 or an Err. */
  subscribe(filters: string | string[], options?: { qos?: number }, handler?: MessageHandler): number {
    const qos = (options && options.qos) || 0;
    const list = typeof filters === "string" ? [filters] : filters;
    const subs = this.subs_;
    if (!list || typeof list.length !== "number" || !list.length) return this.fail_(Err.BAD_ARGUMENT);
    if (qos !== 0 && qos !== 1 && qos !== 2) return this.fail_(Err.BAD_QOS);
    let added = 0;
    for (let i = 0; i < list.length; i++) {
      const b = checkFilter(list[i]) || (bytesOf(list[i]) ? 0 : Err.BAD_STRING);
      if (b) return this.fail_(b);
      if (this.findSub_(list[i]) < 0) added++;
    }
    if (subs.length / 4 + added > this.limits_.maxSubscriptions) return this.fail_(Err.BUSY);
    for (let i = 0; i < list.length; i++) {
      let k = this.findSub_(list[i]);
      if (k < 0) {
        const b = bytesOf(list[i])!;
        const u8 = new Uint8Array(b.length);
        u8.set(b as any);
        k = subs.length;
        subs.push(list[i], u8, undefined, -1);
        this.v_[this.v_[V.SUBS_AT] + k / 4] = 0;
      }
      if (handler) subs[k + 2] = handler;
      // Sent when new or at another QoS.
      if (subs[k + 3] !== qos) {
        subs[k + 3] = qos;
        if (this.state_ === State.CONNECTED) this.sendSubscribe_(k);
      }
    }
    return 0;
  }

  /** Unsubscribes (MQTT 3.10): matching stops at once; `unsubscribed` follows the UNSUBACK. */
  unsubscribe(filters: string | string[]): number {
    const list = typeof filters === "string" ? [filters] : filters;
    if (!list || typeof list.length !== "number") return this.fail_(Err.BAD_ARGUMENT);
    const q = this.v_[V.SUBS_AT];
    for (let i = 0; i < list.length; i++) {
      const k = this.findSub_(list[i]);
      if (k < 0) continue;
      this.subs_.splice(k, 4);
      this.v_.set(this.v_.subarray(q + k / 4 + 1), q + k / 4);
      if (this.state_ === State.CONNECTED) this.send_(this.tx_, encodeFilterList(this.tx_, 0, PacketType.UNSUBSCRIBE, this.nextId_(), [list[i]], null));
    }
    return 0;
  }

  /** Connects, and keeps reconnecting (if enabled) until disconnect(); while connecting or waiting to
   *  reconnect, calling it again changes nothing, so backoff holds. */
  connect(): void {
    if (this.state_ !== State.IDLE) return;
    const self = this;
    this.timer_ = this.platform_.setInterval(function () { self.tick_(); }, TICK_MS);
    this.v_[V.ATTEMPTS] = 0;
    this.open_();
  }

  /** Sends DISCONNECT, closes, stops reconnecting; queued QoS 1/2 messages stay for the next connect(). */
  disconnect(): void {
    if (this.state_ === State.IDLE) return;
    if (this.state_ === State.CONNECTED) this.conn_!.write("\xe0\x00");
    this.drop_(Err.CONNECTION_LOST, false);
  }

  /** QoS 1/2 messages held in slots, queued or awaiting acknowledgement. */
  get pending(): number {
    let count = 0;
    for (let i = 0; i < this.limits_.inflight; i++) if (this.v_[V.SLOTS + i * SLOT_SIZE + S.STATE]) count++;
    return count;
  }

  // ---- connection life ------------------------------------------------------------------------------

  fail_(code: number): number {
    this.emit("error", errorText(code), code);
    return code;
  }

  /** Opens a connection to the next broker. A refusal may throw at once (Espruino's Linux build does):
   *  it counts as a failed attempt like any other. */
  private open_(): void {
    const v = this.v_;
    const o = this.opt_;
    const p = this.platform_;
    let address = this.servers_[v[V.SERVER] % this.servers_.length];
    // "mqtts://host:port" or the tls option: TLS (port 8883 by default); "mqtt://" or none: TCP.
    const tls = o.tls || address.indexOf("mqtts:") === 0;
    address = address.split("//").pop()!;
    const colon = address.lastIndexOf(":");
    this.state_ = State.OPENING;
    v[V.SINCE] = p.time();
    this.framer_.reset();
    if (tls && !p.tls) {
      this.emit("error", "TLS is not available on this board", Err.BAD_ARGUMENT);
      return this.drop_(Err.BAD_ARGUMENT, false);
    }
    const to = { host: colon > 0 ? address.slice(0, colon) : address, port: colon > 0 ? +address.slice(colon + 1) : o.port || (tls ? 8883 : 1883), ca: o.ca, key: o.key, cert: o.cert };
    let s: Socket;
    try {
      s = tls ? p.tls!(to, onSocketOpen) : p.connect(to, onSocketOpen);
    } catch (e) {
      this.emit("error", tls ? "TLS: " + (e as any).message : "connection refused", Err.CONNECTION_LOST);
      return this.drop_(Err.CONNECTION_LOST, true);
    }
    s.h = this;
    s.on("data", onSocketData);
    s.on("drain", onSocketDrain);
    s.on("close", onSocketClose);
    s.on("error", onSocketClose);
    this.conn_ = s;
  }

  /** Ends the current connection (nothing more of it is handled) and, with `retry` and reconnect on,
   *  waits to reconnect with exponential backoff and jitter, moving on to the next broker. */
  drop_(reason: number, retry: boolean): void {
    const v = this.v_;
    const wasConnected = this.connected;
    this.connected = false;
    const s = this.conn_;
    this.conn_ = null;
    if (s) s.end();
    this.framer_.reset();
    v[V.PING_AT] = 0;
    const q = this.v_[V.SUBS_AT];
    for (let k = 0; k < this.subs_.length; k += 4) v[q + k / 4] = 0; // a SUBACK that never came
    if (retry && this.opt_.reconnect !== false) {
      const wait = Math.min(this.opt_.reconnect_max || 60000, (this.opt_.reconnect_min || 1000) * Math.pow(2, Math.min(v[V.ATTEMPTS], 16)));
      v[V.ATTEMPTS]++;
      v[V.SERVER]++;
      this.state_ = State.BACKOFF;
      v[V.RECONNECT_AT] = this.platform_.time() + (wait * (0.5 + this.platform_.random() / 2)) / 1000;
    } else {
      if (this.timer_) this.platform_.clearInterval(this.timer_);
      this.timer_ = null;
      this.state_ = State.IDLE;
    }
    if (wasConnected) this.emit("disconnected", errorText(reason), reason);
  }

  /** The periodic tick: reconnect after backoff, connect timeout, keepalive (MQTT 3.1.2.10). */
  tick_(): void {
    const v = this.v_;
    const now = this.platform_.time();
    const tick = TICK_MS / 1000;
    // What was sent or received since the last tick counts from that tick: never later than it happened,
    // so a PINGREQ is not late by a tick plus the timer's delay (MQTT-3.1.2-23).
    if (this.sent_ !== v[V.SENT_SEEN]) {
      v[V.SENT_SEEN] = this.sent_;
      v[V.LAST_SENT] = now - tick;
    }
    if (this.received_) {
      this.received_ = 0;
      v[V.LAST_RECEIVED] = now - tick;
    }
    const s = this.state_;
    const keepAlive = v[V.KEEPALIVE];
    if (s === State.BACKOFF) {
      if (now >= v[V.RECONNECT_AT]) this.open_();
    } else if (s === State.OPENING || s === State.CONNACK_WAIT) {
      if (now - v[V.SINCE] > (this.opt_.connect_timeout || 10000) / 1000) {
        this.emit("error", errorText(Err.TIMEOUT), Err.TIMEOUT);
        this.drop_(Err.TIMEOUT, true);
      }
    } else if (s === State.CONNECTED && keepAlive) {
      if (v[V.PING_AT]) {
        // Anything received since the PINGREQ shows the link alive: a PINGRESP queued behind a flood of
        // messages may come late.
        if (v[V.LAST_RECEIVED] >= v[V.PING_AT]) v[V.PING_AT] = 0;
        else if (now - v[V.PING_AT] > (this.opt_.ping_timeout || Math.min(keepAlive * 500, 10000)) / 1000) {
          this.emit("error", errorText(Err.TIMEOUT), Err.TIMEOUT);
          return this.drop_(Err.TIMEOUT, true);
        }
      }
      // PINGREQ within the keepalive of the last packet sent (MQTT-3.1.2-23), and of the last received:
      // a client that only publishes still hears from the broker, and finds a dead link in time.
      if (!v[V.PING_AT] && (now - v[V.LAST_SENT] >= keepAlive - 2 * tick || now - v[V.LAST_RECEIVED] >= keepAlive - 2 * tick)) {
        this.conn_!.write("\xc0\x00");
        this.sent_ += 2;
        v[V.PING_AT] = now;
      }
    }
  }

  // ---- receiving -------------------------------------------------------------------------------------

  /** FrameSink: one whole packet in the receive buffer. A PUBLISH goes to the matching handlers, then
   *  the `message` / `publish` listeners, then is acknowledged; other packets to onControl_. */
  onPacket(buf: Uint8Array, start: number, end: number): void {
    "ram";
    const m = this.msg_;
    const type = decodePacket(buf, start, end, m);
    if (type !== PacketType.PUBLISH || this.state_ !== State.CONNECTED || m.qos) return this.onControl_(type);
    const subs = this.subs_;
    for (let k = 0; k < subs.length; k += 4) if (subs[k + 2] && topicMatches(subs[k + 1], buf, m.topicStart, m.topicEnd)) subs[k + 2](m);
    if (this.listeners_.message || this.listeners_.publish) this.emitMessage_();
  }

  /** The `message` and `publish` events of Espruino's MQTT module (their strings allocate). */
  private emitMessage_(): void {
    const m = this.msg_;
    const topic = m.topic();
    const message = m.text();
    this.emit("message", topic, message);
    if (this.listeners_.publish) this.emit("publish", { topic: topic, message: message, qos: m.qos, retain: m.retain, dup: m.dup });
  }

  /** FrameSink: a packet too large to hold was skipped (a QoS 1/2 PUBLISH is acknowledged all the same,
   *  so the broker's window never fills), or the stream is lost. */
  onFrameError(err: number, header: number, id: number): void {
    this.emit("error", errorText(err), err);
    if (err !== Err.PACKET_TOO_LARGE) return this.drop_(err, true);
    if (id && this.state_ === State.CONNECTED) {
      if (header & 4 && !this.firstDelivery_(id)) return;
      this.send_(this.tx_, encodeAck(this.tx_, 0, header & 4 ? PacketType.PUBREC : PacketType.PUBACK, id));
    }
  }

  /** Every packet but a QoS 0 PUBLISH while connected. */
  private onControl_(type: number): void {
    const m = this.msg_;
    const v = this.v_;
    if (this.state_ !== State.CONNECTED && this.state_ !== State.CONNACK_WAIT) return; // a dropped connection's
    if (type < 0 || (this.state_ === State.CONNACK_WAIT) !== (type === PacketType.CONNACK)) {
      // Malformed, or out of order (MQTT-3.2.0-1: the first packet is CONNACK, and only once).
      const err = type < 0 ? type : Err.PROTOCOL;
      this.emit("error", errorText(err), err);
      return this.drop_(err, true);
    }
    const id = m.packetId;
    if (type === PacketType.PUBLISH) {
      // QoS 1 (MQTT 4.3.2) or QoS 2, delivered once per id until its PUBREL (MQTT 4.3.3).
      if (m.qos === 2 && !this.firstDelivery_(id)) return;
      const subs = this.subs_;
      for (let k = 0; k < subs.length; k += 4) if (subs[k + 2] && topicMatches(subs[k + 1], m.buf, m.topicStart, m.topicEnd)) subs[k + 2](m);
      if (this.listeners_.message || this.listeners_.publish) this.emitMessage_();
      // The handlers may have dropped the connection.
      if (this.conn_) this.send_(this.tx_, encodeAck(this.tx_, 0, m.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, id));
    } else if (type === PacketType.CONNACK) {
      // Refused, or connected (MQTT 3.2); then resend what was not acknowledged.
      const clean = this.opt_.clean_session !== false;
      if (m.returnCode || (clean && m.sessionPresent)) {
        // Refused (MQTT 3.2.2.3, words as literals here like errorText's), or a session kept against a
        // clean start (MQTT-3.2.2-1).
        this.emit("error", m.returnCode ? "connection refused: " + ["", "unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"][m.returnCode] : errorText(Err.PROTOCOL), m.returnCode ? Err.REFUSED : Err.PROTOCOL);
        return this.drop_(m.returnCode ? Err.REFUSED : Err.PROTOCOL, true);
      }
      this.state_ = State.CONNECTED;
      this.connected = true;
      v[V.ATTEMPTS] = 0;
      v[V.LAST_RECEIVED] = v[V.LAST_SENT] = this.platform_.time();
      const n = this.limits_.inflight;
      // Resend what the broker has not acknowledged, with DUP and the original ids (MQTT 4.4).
      for (let i = 0; i < n; i++) {
        const at = V.SLOTS + i * SLOT_SIZE + S.STATE;
        if (v[at] === Slot.SENT) {
          this.slots_[i][0] |= 8;
          v[at] = Slot.QUEUED;
        } else if (v[at] === Slot.RELEASED) v[at] = Slot.RELEASE_QUEUED;
      }
      if (!m.sessionPresent) {
        // A new session: no incoming QoS 2 state (MQTT-3.1.2-6), no subscriptions (MQTT 3.2.2.2).
        for (let i = 0; i < n; i++) v[V.SLOTS + n * SLOT_SIZE + i] = 0;
        for (let k = 0; k < this.subs_.length; k += 4) this.sendSubscribe_(k);
      }
      this.flush_();
      this.emit("connected", m.sessionPresent);
    } else if (type === PacketType.PUBACK || type === PacketType.PUBCOMP) {
      const s = this.findSlot_(id, type === PacketType.PUBACK ? Slot.SENT : Slot.RELEASED);
      if (s < 0) return;
      v[V.SLOTS + s * SLOT_SIZE + S.STATE] = Slot.FREE;
      this.emit("puback", id);
      this.flush_();
    } else if (type === PacketType.PUBREC) { // answer with PUBREL (MQTT-4.3.3-1), paced like the PUBLISH
      const s = this.findSlot_(id, Slot.SENT);
      if (s < 0) return this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBREL, id));
      v[V.SLOTS + s * SLOT_SIZE + S.STATE] = Slot.RELEASE_QUEUED;
      this.flush_();
    } else if (type === PacketType.PUBREL) {
      const ids = V.SLOTS + this.limits_.inflight * SLOT_SIZE;
      for (let i = 0; i < this.limits_.inflight; i++) if (v[ids + i] === id) v[ids + i] = 0;
      this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBCOMP, id));
    } else if (type === PacketType.SUBACK) {
      const q = this.v_[V.SUBS_AT];
      const code = m.buf[m.payloadStart];
      for (let k = 0; k < this.subs_.length; k += 4) {
        if (v[q + k / 4] !== id) continue;
        v[q + k / 4] = 0;
        if (code === 0x80) this.emit("subscribed_fail", this.subs_[k]);
        else this.emit("subscribed", this.subs_[k], code);
      }
    } else if (type === PacketType.UNSUBACK) this.emit("unsubscribed", id);
    else v[V.PING_AT] = 0; // PINGRESP
  }

  /** True for a QoS 2 packet id not delivered yet, which it then remembers until PUBREL (MQTT 4.3.3);
   *  a repeat is acknowledged again. With no room to remember it, it stays unacknowledged (the broker
   *  sends it again) and `error` says busy. */
  private firstDelivery_(id: number): boolean {
    const v = this.v_;
    const ids = V.SLOTS + this.limits_.inflight * SLOT_SIZE;
    let free = -1;
    for (let i = 0; i < this.limits_.inflight; i++) {
      if (v[ids + i] === id) {
        this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBREC, id));
        return false;
      }
      if (!v[ids + i] && free < 0) free = i;
    }
    if (free < 0) {
      this.fail_(Err.BUSY);
      return false;
    }
    v[ids + free] = id;
    return true;
  }

  // ---- sending ---------------------------------------------------------------------------------------

  send_(buf: Uint8Array, len: number): void {
    if (!this.conn_ || len < 0) return;
    this.conn_.write(E.toString(buf.subarray(0, len)));
    this.sent_ += len;
  }

  /** Sends queued PUBLISH and PUBREL packets, oldest first, while the send window has room. */
  flush_(): void {
    const v = this.v_;
    const n = this.limits_.inflight;
    for (;;) {
      let oldest = -1;
      for (let i = 0; i < n; i++) {
        const st = v[V.SLOTS + i * SLOT_SIZE + S.STATE];
        if ((st === Slot.QUEUED || st === Slot.RELEASE_QUEUED) && (oldest < 0 || v[V.SLOTS + i * SLOT_SIZE + S.SEQ] < v[V.SLOTS + oldest * SLOT_SIZE + S.SEQ])) oldest = i;
      }
      if (oldest < 0 || this.state_ !== State.CONNECTED) return;
      const at = V.SLOTS + oldest * SLOT_SIZE;
      const publish = v[at + S.STATE] === Slot.QUEUED;
      const len = publish ? v[at + S.LEN] : 4;
      if (this.sent_ - this.drained_ > this.window_) return;
      v[at + S.STATE] = publish ? Slot.SENT : Slot.RELEASED;
      if (publish) this.send_(this.slots_[oldest], len);
      else this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBREL, v[at + S.ID]));
    }
  }

  /** SUBSCRIBE for subscription `k`; its packet id waits for the SUBACK. */
  private sendSubscribe_(k: number): void {
    const id = this.nextId_();
    const len = encodeFilterList(this.tx_, 0, PacketType.SUBSCRIBE, id, [this.subs_[k]], [this.subs_[k + 3]]);
    if (len < 0) return void this.fail_(len);
    this.v_[this.v_[V.SUBS_AT] + k / 4] = id;
    this.send_(this.tx_, len);
  }

  // ---- slots and ids ---------------------------------------------------------------------------------

  /** The slot in state `s` holding packet id `id` (any id when negative), or -1. */
  private findSlot_(id: number, s: Slot): number {
    for (let i = 0; i < this.limits_.inflight; i++) if ((id < 0 || this.v_[V.SLOTS + i * SLOT_SIZE + S.ID] === id) && this.v_[V.SLOTS + i * SLOT_SIZE + S.STATE] === s) return i;
    return -1;
  }

  /** The next packet id: 1..65535, wrapping, never one still in use by a slot (MQTT 2.3.1). */
  private nextId_(): number {
    const v = this.v_;
    for (;;) {
      const id = (v[V.NEXT_ID] = (v[V.NEXT_ID] % 65535) + 1);
      let used = false;
      for (let i = 0; i < this.limits_.inflight; i++) if (v[V.SLOTS + i * SLOT_SIZE + S.STATE] && v[V.SLOTS + i * SLOT_SIZE + S.ID] === id) used = true;
      const q = this.v_[V.SUBS_AT];
      for (let k = 0; k < this.subs_.length; k += 4) if (v[q + k / 4] === id) used = true;
      if (!used) return id;
    }
  }

  private findSub_(filter: string): number {
    for (let k = 0; k < this.subs_.length; k += 4) if (this.subs_[k] === filter) return k;
    return -1;
  }
}
