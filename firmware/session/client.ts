// The MQTT 3.1.1 client session: connection life cycle, keepalive, QoS 1/2 in-flight slots in static
// storage, resend after reconnect, subscriptions with per-filter handlers, reconnect with backoff.
// All buffers are allocated in the constructor; the receive path and QoS 0/1 publishing of Uint8Array
// or byte-string payloads allocate nothing beyond what the platform's socket write needs.
import { Err } from "../errors";
import {
  PacketType, PacketView, Bytes, decodePacket, encodeConnect, encodePublish, encodeAck, encodeFilterList,
  encodeHeaderOnly, filterLength,
} from "../codec/codec";
import { Framer } from "../codec/framer";
import { toText, toBinaryString, utf8Length, writeUtf8 } from "../codec/bytes";
import type { Platform, NetHandler } from "../platform";

/** Buffer sizes and counts, fixed at start-up (per board: boards/<name>.json). */
export interface Limits {
  /** Largest incoming packet kept (bigger ones are skipped with an error). */
  maxPacket: number;
  /** Largest chunk appended to the receive buffer whole; Espruino delivers up to 536 bytes at once, and a
   *  longer chunk is appended in pieces of this size (each a transient string): less buffer, more calls. */
  maxChunk: number;
  /** Size of the transmit buffer: the largest QoS 0 packet, and the pacing window before waiting for drain. */
  txBuffer: number;
  /** QoS 1/2 messages in flight or queued at once. */
  inflight: number;
  /** Largest QoS 1/2 PUBLISH packet a slot holds. */
  inflightBytes: number;
  /** Subscriptions held at once. */
  maxSubscriptions: number;
}

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
  topic(): string { return toText(this.buf, this.topicStart, this.topicEnd); }
  /** The payload as a binary string, one char per byte, as Espruino's MQTT module gives it. */
  text(): string { return toBinaryString(this.buf, this.payloadStart, this.payloadEnd); }
}

/** Called for each message matching a subscription's filter. */
export type MessageHandler = (m: Message) => void;

/** Options, named as Espruino's MQTT module names them, plus Wisp's own (MQTT 3.1). */
export interface Options {
  port?: number;
  client_id?: string;
  keep_alive?: number;
  clean_session?: boolean;
  username?: string;
  password?: Bytes;
  will?: { topic: string; message?: Bytes; qos?: number; retain?: boolean };
  /** Reconnect automatically (default true), waiting reconnect_min..reconnect_max ms with jitter. */
  reconnect?: boolean;
  reconnect_min?: number;
  reconnect_max?: number;
  /** Milliseconds to wait for the TCP connection plus CONNACK (default 10,000). */
  connect_timeout?: number;
  /** Milliseconds to wait for PINGRESP after PINGREQ (default keep_alive/2, at most 10,000). */
  ping_timeout?: number;
  /** Buffer sizes (default: module defaults; firmware bundles pass their board's). */
  limits?: Partial<Limits>;
  /** The platform to run on (default: Espruino's). */
  platform?: Platform;
}

interface Subscription {
  filter: string;
  bytes: Uint8Array;
  qos: number;
  handler: MessageHandler | undefined;
  /** Packet id of the SUBSCRIBE awaiting its SUBACK, else 0. */
  pending: number;
}

const enum State { IDLE = 0, OPENING = 1, CONNACK_WAIT = 2, CONNECTED = 3, BACKOFF = 4 }
/** In-flight slot states (MQTT 4.3.2, 4.3.3): a PUBLISH to send, sent; a PUBREL to send, sent. */
const enum Slot { FREE = 0, QUEUED = 1, SENT = 2, RELEASE_QUEUED = 3, RELEASED = 4 }

const TICK_MS = 250;

/** Words for an Err code, as carried by `error` and `disconnected` events. The words are literals in the
 *  function, not a module-level array: on Espruino they then cost heap only while an error is reported. */
export function errorText(code: number): string {
  return ("|buffer too small|bad remaining length|bad header flags|bad QoS|bad packet id|bad topic|bad topic filter" +
    "|bad UTF-8 string|malformed packet|unexpected packet|packet too large|bad return code|bad argument|busy" +
    "|not connected|connection refused|timeout|connection lost|protocol violation").split("|")[-code] || "error " + code;
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

// Private members end in "_": the build shortens those names (rollup.config.js), and methods live on
// the prototype, so Espruino keeps one copy of their code however many clients there are.

/** An MQTT 3.1.1 client: a drop-in for Espruino's MQTT module. Every buffer is allocated here, once. */
export class Client implements NetHandler {
  private readonly opt_: Options;
  private readonly servers_: string[];
  private readonly platform_: Platform;
  private readonly limits_: Limits;
  private readonly clientId_: string;
  private readonly keepAlive_: number;
  private readonly msg_: Message;
  private readonly tx_: Uint8Array;
  private readonly n_: number;
  private readonly slots_: Uint8Array[] = [];
  private readonly slotLen_: Uint16Array;
  private readonly slotId_: Uint16Array;
  private readonly slotState_: Uint8Array;
  private readonly slotSeq_: Float64Array;
  /** Incoming QoS 2 packet ids delivered but not yet released (MQTT 4.3.3). */
  private readonly qos2Ids_: Uint16Array;
  private readonly subs_: Subscription[] = [];
  private readonly listeners_: { [event: string]: any } = {};
  private readonly framer_: Framer;
  private state_ = State.IDLE;
  private conn_: any = null;
  private timer_: any = null;
  private serverIndex_ = 0;
  private attempts_ = 0;
  private stateSince_ = 0;
  private reconnectAt_ = 0;
  private lastSent_ = 0;
  /** Something was sent since the last tick (which then sets lastSent_: no clock read per packet). */
  private sentSinceTick_ = false;
  private lastReceived_ = 0;
  private pingSentAt_ = 0;
  private unsent_ = 0;
  private nextId_ = 0;
  private seq_ = 0;

  /** `server`: a host, "host:port", or a list to fail over between. */
  constructor(server: string | string[], options: Options | undefined, limits: Limits, platform: Platform) {
    const opt = (this.opt_ = options || {});
    const servers = (this.servers_ = typeof server === "string" ? [server] : server);
    if (!servers || !servers.length) throw new Error("MQTT: no server");
    this.platform_ = platform;
    this.limits_ = limits;
    this.clientId_ = opt.client_id === undefined ? platform.deviceId() : opt.client_id;
    this.keepAlive_ = opt.keep_alive === undefined ? 60 : opt.keep_alive;
    this.tx_ = new Uint8Array(limits.txBuffer);
    const n = (this.n_ = limits.inflight);
    const slotBuf = new Uint8Array(n * limits.inflightBytes);
    for (let i = 0; i < n; i++) this.slots_.push(slotBuf.subarray(i * limits.inflightBytes, (i + 1) * limits.inflightBytes));
    this.slotLen_ = new Uint16Array(n);
    this.slotId_ = new Uint16Array(n);
    this.slotState_ = new Uint8Array(n);
    this.slotSeq_ = new Float64Array(n);
    this.qos2Ids_ = new Uint16Array(n);
    this.framer_ = new Framer(limits.maxPacket, limits.maxChunk, this);
    this.msg_ = new Message(this.framer_.buf);
  }

  // ---- events -------------------------------------------------------------------------------------

  /** Adds a listener: connected, disconnected, message, publish, error, subscribed, subscribed_fail,
   *  unsubscribed, puback, drain. */
  on(event: string, fn: (a?: any, b?: any) => void): this {
    const l = this.listeners_[event];
    this.listeners_[event] = !l ? fn : typeof l === "function" ? [l, fn] : l.concat([fn]);
    return this;
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: string): this {
    if (event) delete this.listeners_[event];
    else for (const k in this.listeners_) delete this.listeners_[k];
    return this;
  }

  /** Calls the listeners of `event` with up to two arguments; false when there are none. */
  emit(event: string, a?: any, b?: any): boolean {
    "ram";
    const l = this.listeners_[event];
    if (!l) return false;
    if (typeof l === "function") l.call(this, a, b);
    else for (let i = 0; i < l.length; i++) l[i].call(this, a, b);
    return true;
  }

  private fail_(code: number): number {
    this.emit("error", errorText(code), code);
    return code;
  }

  // ---- public API ---------------------------------------------------------------------------------

  /** True after CONNACK 0 until the connection is lost. */
  get connected(): boolean { return this.state_ === State.CONNECTED; }

  /** QoS 1/2 messages held in slots, queued or awaiting acknowledgement. */
  get pending(): number {
    let count = 0;
    for (let i = 0; i < this.n_; i++) if (this.slotState_[i]) count++;
    return count;
  }

  /** Connects, and keeps reconnecting (if enabled) until disconnect(); while connecting or waiting to
   *  reconnect, calling it again changes nothing, so backoff holds. */
  connect(): void {
    if (this.state_ !== State.IDLE) return;
    const self = this;
    this.timer_ = this.platform_.every(function () { self.tick_(); }, TICK_MS);
    this.attempts_ = 0;
    this.open_();
  }

  /** Sends DISCONNECT, closes, stops reconnecting; queued QoS 1/2 messages stay for the next connect(). */
  disconnect(): void {
    if (this.state_ === State.IDLE) return;
    if (this.state_ === State.CONNECTED) this.send_(this.tx_, encodeHeaderOnly(this.tx_, 0, PacketType.DISCONNECT));
    this.drop_(Err.CONNECTION_LOST, State.IDLE);
  }

  /** Publishes (MQTT 3.3): returns the packet id (QoS 1/2) or 0, or a negative Err: BUSY when no slot or
   *  send window is free (retry on `puback` / `drain`), NOT_CONNECTED for QoS 0 while offline. QoS 1/2
   *  messages published offline are queued and sent on connect. */
  publish(topic: string, message: Bytes, options?: { qos?: number; retain?: boolean }): number {
    "ram";
    if (typeof message === "number") message = String(message);
    if (options && options.qos) return this.publishQueued_(topic, message, options.qos, !!options.retain);
    // QoS 0, the hot path: the send steps are inline.
    if (this.state_ !== State.CONNECTED) return Err.NOT_CONNECTED;
    const end = encodePublish(this.tx_, 0, topic, message, 0, !!(options && options.retain), false, 0);
    if (end < 0) return this.fail_(end);
    if (this.unsent_ + end > this.tx_.length) return Err.BUSY;
    this.platform_.send(this.conn_, this.tx_, 0, end);
    this.unsent_ += end;
    this.sentSinceTick_ = true;
    return 0;
  }

  /** QoS 1/2: into a free in-flight slot, sent as the window allows, kept until acknowledged. */
  private publishQueued_(topic: string, message: Bytes, qos: number, retain: boolean): number {
    const s = this.freeSlot_();
    // With no free slot, check the arguments anyway so that a bad call reports its own error.
    const len = encodePublish(s < 0 ? this.tx_ : this.slots_[s], 0, topic, message, qos, retain, false, s < 0 ? 1 : this.nextPacketId_());
    if (len < 0) return this.fail_(len);
    if (s < 0) return Err.BUSY;
    this.slotLen_[s] = len;
    this.slotId_[s] = this.nextId_;
    this.slotState_[s] = Slot.QUEUED;
    this.slotSeq_[s] = ++this.seq_;
    this.flush_();
    return this.nextId_;
  }

  /** Subscribes to a filter or a list (MQTT 3.8); `handler` gets each matching message as the reused
   *  Message view. `subscribed` / `subscribed_fail` follow the SUBACK. Returns 0 or an Err. */
  subscribe(filters: string | string[], options?: { qos?: number }, handler?: MessageHandler): number {
    const qos = (options && options.qos) || 0;
    const list = typeof filters === "string" ? [filters] : filters;
    if (!list || typeof list.length !== "number") return this.fail_(Err.BAD_ARGUMENT);
    if (qos !== 0 && qos !== 1 && qos !== 2) return this.fail_(Err.BAD_QOS);
    for (let i = 0; i < list.length; i++) {
      const valid = filterLength(list[i]);
      if (valid < 0) return this.fail_(valid);
    }
    for (let i = 0; i < list.length; i++) {
      let sub = this.findSub_(list[i]);
      if (!sub) {
        if (this.subs_.length >= this.limits_.maxSubscriptions) return this.fail_(Err.BUSY);
        const len = utf8Length(list[i]);
        const bytes = new Uint8Array(len);
        writeUtf8(bytes, 0, list[i], len);
        sub = { filter: list[i], bytes: bytes, qos: -1, handler: undefined, pending: 0 };
        this.subs_.push(sub);
      }
      if (handler) sub.handler = handler;
      if (sub.qos !== qos) {
        sub.qos = qos;
        if (this.state_ === State.CONNECTED) this.sendSubscribe_(sub);
      }
    }
    return 0;
  }

  /** Unsubscribes (MQTT 3.10): matching stops at once; `unsubscribed` follows the UNSUBACK. */
  unsubscribe(filters: string | string[]): number {
    const list = typeof filters === "string" ? [filters] : filters;
    for (let i = 0; i < list.length; i++) {
      const sub = this.findSub_(list[i]);
      if (!sub) continue;
      this.subs_.splice(this.subs_.indexOf(sub), 1);
      if (this.state_ === State.CONNECTED) this.send_(this.tx_, encodeFilterList(this.tx_, 0, PacketType.UNSUBSCRIBE, this.nextPacketId_(), [sub.filter], null));
    }
    return 0;
  }

  // ---- connection life ------------------------------------------------------------------------------

  private setState_(s: State): void {
    this.state_ = s;
    this.stateSince_ = this.platform_.now();
  }

  private open_(): void {
    const address = this.servers_[this.serverIndex_ % this.servers_.length];
    const colon = address.lastIndexOf(":");
    this.setState_(State.OPENING);
    this.framer_.reset();
    this.conn_ = this.platform_.open(colon > 0 ? address.slice(0, colon) : address,
      colon > 0 ? +address.slice(colon + 1) : this.opt_.port || 1883, this);
  }

  /** Ends the current connection; reconnects later unless `next` is IDLE or reconnect is off. */
  private drop_(reason: number, next: State): void {
    const wasConnected = this.state_ === State.CONNECTED;
    if (this.conn_) this.platform_.close(this.conn_);
    this.conn_ = null;
    this.unsent_ = 0;
    this.pingSentAt_ = 0;
    for (let i = 0; i < this.subs_.length; i++) this.subs_[i].pending = 0;
    if (this.opt_.reconnect === false) next = State.IDLE;
    if (next === State.IDLE) {
      if (this.timer_) this.platform_.cancel(this.timer_);
      this.timer_ = null;
      this.setState_(State.IDLE);
    } else {
      // Exponential backoff with jitter; every failure also moves on to the next broker.
      const min = this.opt_.reconnect_min || 1000;
      const wait = Math.min(this.opt_.reconnect_max || 60000, min * Math.pow(2, Math.min(this.attempts_, 16)));
      this.attempts_++;
      this.serverIndex_++;
      this.setState_(State.BACKOFF);
      this.reconnectAt_ = this.stateSince_ + wait * (0.5 + this.platform_.random() / 2);
    }
    if (wasConnected) this.emit("disconnected", errorText(reason), reason);
  }

  private lost_(reason: number): void {
    if (this.state_ !== State.CONNECTED) this.emit("error", errorText(reason), reason);
    this.drop_(reason, State.BACKOFF);
  }

  private tick_(): void {
    const now = this.platform_.now();
    if (this.sentSinceTick_) {
      this.lastSent_ = now;
      this.sentSinceTick_ = false;
    }
    const s = this.state_;
    const keepAlive = this.keepAlive_ * 1000;
    if (s === State.BACKOFF) {
      if (now >= this.reconnectAt_) this.open_();
    } else if (s === State.OPENING || s === State.CONNACK_WAIT) {
      if (now - this.stateSince_ > (this.opt_.connect_timeout || 10000)) this.lost_(Err.TIMEOUT);
    } else if (s === State.CONNECTED && keepAlive) {
      if (this.pingSentAt_) {
        if (now - this.pingSentAt_ > (this.opt_.ping_timeout || Math.min(keepAlive / 2, 10000))) this.lost_(Err.TIMEOUT);
      } else if (now - this.lastReceived_ > keepAlive * 1.5) this.lost_(Err.TIMEOUT);
      else if (now - this.lastSent_ >= keepAlive) {
        this.send_(this.tx_, encodeHeaderOnly(this.tx_, 0, PacketType.PINGREQ));
        this.pingSentAt_ = now;
      }
    }
  }

  /** NetHandler: TCP is up; send CONNECT (MQTT 3.1). */
  onOpen(c: any): void {
    if (c !== this.conn_) return;
    const o = this.opt_;
    const w = o.will;
    const len = encodeConnect(this.tx_, 0, this.clientId_, this.keepAlive_, o.clean_session !== false,
      w ? w.topic : "", w && w.message !== undefined ? w.message : "", w ? w.qos || 0 : 0, w ? !!w.retain : false,
      o.username || "", o.password || "");
    if (len < 0) {
      this.fail_(len);
      this.drop_(len, State.IDLE);
      return;
    }
    this.setState_(State.CONNACK_WAIT);
    this.lastReceived_ = this.stateSince_;
    this.send_(this.tx_, len);
  }

  /** NetHandler: bytes from the broker. */
  onData(c: any, chunk: string | Uint8Array): void {
    "ram";
    if (c !== this.conn_) return;
    this.lastReceived_ = this.platform_.now();
    this.framer_.push(chunk);
  }

  /** NetHandler: the send buffer is empty; send what waited, then tell the application. */
  onDrain(c: any): void {
    if (c !== this.conn_) return;
    this.unsent_ = 0;
    this.flush_();
    this.emit("drain");
  }

  /** NetHandler: the connection is gone. */
  onClose(c: any): void {
    if (c !== this.conn_) return;
    this.conn_ = null;
    if (this.framer_.partial) this.emit("error", "truncated packet", Err.MALFORMED);
    this.lost_(Err.CONNECTION_LOST);
  }

  // ---- receiving -------------------------------------------------------------------------------------

  // On the interpreter every byte of a function's text is read on each call, taken path or not: the
  // per-message methods below stay short and leave rare work to others.

  /** FrameSink: one whole packet in the receive buffer. */
  onPacket(buf: Uint8Array, start: number, end: number): void {
    "ram";
    const type = decodePacket(buf, start, end, this.msg_);
    if (type === PacketType.PUBLISH && this.state_ === State.CONNECTED) this.onPublish_(buf, this.msg_);
    else this.onControl_(buf, type);
  }

  /** FrameSink: a packet too large to hold was skipped, or the stream is lost. */
  onFrameError(err: number): void {
    this.emit("error", errorText(err), err);
    if (err !== Err.PACKET_TOO_LARGE) this.drop_(err, State.BACKOFF);
  }

  private onControl_(buf: Uint8Array, type: number): void {
    const v = this.msg_;
    if (type < 0 || (this.state_ === State.CONNACK_WAIT) !== (type === PacketType.CONNACK)) {
      // Malformed, or out of order (MQTT-3.2.0-1: the first packet is CONNACK, and only once).
      const err = type < 0 ? type : Err.PROTOCOL;
      this.emit("error", errorText(err), err);
      this.drop_(err, State.BACKOFF);
      return;
    }
    const id = v.packetId;
    if (type === PacketType.CONNACK) this.onConnack_(v.returnCode, v.sessionPresent);
    else if (type === PacketType.PUBLISH) this.onPublish_(buf, v);
    else if (type === PacketType.PUBACK) this.acknowledged_(id, Slot.SENT);
    else if (type === PacketType.PUBCOMP) this.acknowledged_(id, Slot.RELEASED);
    else if (type === PacketType.PUBREC) { // answer with PUBREL (MQTT-4.3.3-1), paced like the PUBLISH
      const s = this.findSlot_(id, Slot.SENT);
      if (s >= 0) {
        this.slotState_[s] = Slot.RELEASE_QUEUED;
        this.flush_();
      } else this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBREL, id));
    } else if (type === PacketType.PUBREL) {
      for (let i = 0; i < this.n_; i++) if (this.qos2Ids_[i] === id) this.qos2Ids_[i] = 0;
      this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBCOMP, id));
    } else if (type === PacketType.SUBACK) {
      const code = buf[v.payloadStart];
      for (let i = 0; i < this.subs_.length; i++) {
        const sub = this.subs_[i];
        if (sub.pending !== id) continue;
        sub.pending = 0;
        if (code === 0x80) this.emit("subscribed_fail", sub.filter);
        else this.emit("subscribed", sub.filter, code);
      }
    } else if (type === PacketType.UNSUBACK) this.emit("unsubscribed", id);
    else this.pingSentAt_ = 0; // PINGRESP
  }

  private onConnack_(rc: number, sessionPresent: boolean): void {
    if (rc) {
      // The words for the CONNACK return code (MQTT 3.2.2.3), a literal here like errorText's.
      this.emit("error", "connection refused: " + "|unacceptable protocol version|identifier rejected|server unavailable|bad user name or password|not authorized".split("|")[rc], Err.REFUSED);
      this.drop_(Err.REFUSED, State.BACKOFF);
      return;
    }
    this.setState_(State.CONNECTED);
    this.attempts_ = 0;
    // Resend what the broker has not acknowledged, with DUP and the original ids (MQTT 4.4).
    const st = this.slotState_;
    for (let i = 0; i < this.n_; i++) {
      if (st[i] === Slot.SENT) {
        this.slots_[i][0] |= 8;
        st[i] = Slot.QUEUED;
      } else if (st[i] === Slot.RELEASED) st[i] = Slot.RELEASE_QUEUED;
    }
    // Without a stored session the broker has forgotten our subscriptions (MQTT 3.2.2.2).
    if (!sessionPresent) for (let i = 0; i < this.subs_.length; i++) this.sendSubscribe_(this.subs_[i]);
    this.flush_();
    this.emit("connected", sessionPresent);
  }

  private onPublish_(buf: Uint8Array, v: Message): void {
    "ram";
    if (v.qos === 2 && !this.firstDelivery_(v.packetId)) return;
    const subs = this.subs_;
    for (let i = 0; i < subs.length; i++) {
      const h = subs[i].handler;
      if (h && topicMatches(subs[i].bytes, buf, v.topicStart, v.topicEnd)) h(v);
    }
    if (this.listeners_.message || this.listeners_.publish) this.emitMessage_(v);
    if (v.qos) this.send_(this.tx_, encodeAck(this.tx_, 0, v.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, v.packetId));
  }

  /** True for a QoS 2 packet id not delivered yet, which it then remembers until PUBREL (MQTT 4.3.3). */
  private firstDelivery_(id: number): boolean {
    const ids = this.qos2Ids_;
    let free = -1;
    for (let i = 0; i < this.n_; i++) {
      if (ids[i] === id) { // delivered once already: acknowledge only
        this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBREC, id));
        return false;
      }
      if (!ids[i] && free < 0) free = i;
    }
    if (free < 0) { // no room to remember it: leave it unacknowledged; the broker sends it again
      this.fail_(Err.BUSY);
      return false;
    }
    ids[free] = id;
    return true;
  }

  /** The Espruino MQTT module's events for a received message (these allocate its strings). */
  private emitMessage_(m: Message): void {
    const topic = m.topic();
    const message = m.text();
    this.emit("message", topic, message);
    if (this.listeners_.publish) this.emit("publish", { topic: topic, message: message, qos: m.qos, retain: m.retain, dup: m.dup });
  }

  private acknowledged_(id: number, expected: Slot): void {
    const s = this.findSlot_(id, expected);
    if (s < 0) return;
    this.slotState_[s] = Slot.FREE;
    this.emit("puback", id);
    this.flush_();
  }

  // ---- sending ---------------------------------------------------------------------------------------

  private send_(buf: Uint8Array, len: number): void {
    if (!this.conn_ || len < 0) return;
    this.platform_.send(this.conn_, buf, 0, len);
    this.unsent_ += len;
    this.sentSinceTick_ = true;
  }

  /** Sends queued PUBLISH and PUBREL packets, oldest first, while the send window has room. */
  private flush_(): void {
    const st = this.slotState_;
    for (;;) {
      let oldest = -1;
      for (let i = 0; i < this.n_; i++) {
        if ((st[i] === Slot.QUEUED || st[i] === Slot.RELEASE_QUEUED) && (oldest < 0 || this.slotSeq_[i] < this.slotSeq_[oldest])) oldest = i;
      }
      if (oldest < 0) return;
      const publish = st[oldest] === Slot.QUEUED;
      if (this.state_ !== State.CONNECTED || this.unsent_ + (publish ? this.slotLen_[oldest] : 4) > this.tx_.length) return;
      st[oldest] = publish ? Slot.SENT : Slot.RELEASED;
      if (publish) this.send_(this.slots_[oldest], this.slotLen_[oldest]);
      else this.send_(this.tx_, encodeAck(this.tx_, 0, PacketType.PUBREL, this.slotId_[oldest]));
    }
  }

  private sendSubscribe_(sub: Subscription): void {
    sub.pending = this.nextPacketId_();
    this.send_(this.tx_, encodeFilterList(this.tx_, 0, PacketType.SUBSCRIBE, sub.pending, [sub.filter], [sub.qos]));
  }

  // ---- slots and ids ---------------------------------------------------------------------------------

  private freeSlot_(): number {
    for (let i = 0; i < this.n_; i++) if (this.slotState_[i] === Slot.FREE) return i;
    return -1;
  }

  private findSlot_(id: number, s: Slot): number {
    for (let i = 0; i < this.n_; i++) if (this.slotId_[i] === id && this.slotState_[i] === s) return i;
    return -1;
  }

  /** The next packet id: 1..65535, wrapping, never one still in use (MQTT 2.3.1). */
  private nextPacketId_(): number {
    for (;;) {
      const id = (this.nextId_ = (this.nextId_ % 65535) + 1);
      let used = false;
      for (let i = 0; i < this.n_; i++) if (this.slotState_[i] && this.slotId_[i] === id) used = true;
      for (let i = 0; i < this.subs_.length; i++) if (this.subs_[i].pending === id) used = true;
      if (!used) return id;
    }
  }

  private findSub_(filter: string): Subscription | undefined {
    for (let i = 0; i < this.subs_.length; i++) if (this.subs_[i].filter === filter) return this.subs_[i];
    return undefined;
  }
}
