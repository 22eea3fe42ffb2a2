// The MQTT 3.1.1 client session: connection life cycle, keepalive, QoS 1/2 in-flight slots in static
// storage, resend after reconnect, subscriptions with per-filter handlers, reconnect with backoff.
// All buffers are allocated in the constructor; the receive path and QoS 0/1 publishing of Uint8Array
// or byte-string payloads allocate nothing beyond what the platform's socket write needs.
import { Err } from "../errors";
import {
  PacketType, PacketView, Bytes, decodePacket, encodeConnect, encodePublish, encodeAck, encodeSubscribe,
  encodeUnsubscribe, encodePingreq, encodeDisconnect, filterLength,
} from "../codec/codec";
import { Framer } from "../codec/framer";
import { toText, toBinaryString, utf8Length, writeUtf8 } from "../codec/bytes";
import type { Platform, NetHandler } from "../platform";

/** Buffer sizes and counts, fixed at start-up (per board: boards/<name>.json). */
export interface Limits {
  /** Largest incoming packet kept (bigger ones are skipped with an error). */
  maxPacket: number;
  /** Largest chunk the socket delivers at once (536 on Espruino). */
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
 *  during the handler call. Reading fields allocates nothing; topic() and text() allocate strings. */
export interface Message {
  buf: Uint8Array;
  topicStart: number;
  topicEnd: number;
  payloadStart: number;
  payloadEnd: number;
  qos: number;
  retain: boolean;
  dup: boolean;
  /** The topic as a string. */
  topic(): string;
  /** The payload as a binary string, one char per byte, as Espruino's MQTT module gives it. */
  text(): string;
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

/** The client's public face: Espruino's MQTT module API plus handlers, `pending` and `connected`. */
export interface Client {
  /** Adds a listener: connected, disconnected, message, publish, error, subscribed, subscribed_fail,
   *  unsubscribed, puback, drain. */
  on(event: string, fn: (a?: any, b?: any) => void): Client;
  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: string): Client;
  /** Calls the listeners of `event` with up to two arguments; false when there are none. */
  emit(event: string, a?: any, b?: any): boolean;
  /** Connects, and keeps reconnecting (if enabled) until disconnect(); while connecting or waiting to
   *  reconnect, calling it again changes nothing, so backoff holds. */
  connect(): void;
  /** Sends DISCONNECT, closes, stops reconnecting; queued QoS 1/2 messages stay for the next connect(). */
  disconnect(): void;
  /** Publishes (MQTT 3.3): returns the packet id (QoS 1/2) or 0, or a negative Err: BUSY when no slot or
   *  send window is free (retry on `puback` / `drain`), NOT_CONNECTED for QoS 0 while offline. QoS 1/2
   *  messages published offline are queued and sent on connect. */
  publish(topic: string, message: Bytes, options?: { qos?: number; retain?: boolean }): number;
  /** Subscribes to a filter or a list (MQTT 3.8); `handler` gets each matching message as the reused
   *  Message view. `subscribed` / `subscribed_fail` follow the SUBACK. Returns 0 or an Err. */
  subscribe(filters: string | string[], options?: { qos?: number }, handler?: MessageHandler): number;
  /** Unsubscribes (MQTT 3.10): matching stops at once; `unsubscribed` follows the UNSUBACK. */
  unsubscribe(filters: string | string[]): number;
  /** True after CONNACK 0 until the connection is lost. */
  connected: boolean;
  /** QoS 1/2 messages held in slots, queued or awaiting acknowledgement. */
  pending: number;
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
const REFUSALS = ["", "unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"];
const REASONS = ["", "buffer too small", "bad remaining length", "bad header flags", "bad QoS", "bad packet id", "bad topic",
  "bad topic filter", "bad UTF-8 string", "malformed packet", "unexpected packet", "packet too large", "bad return code",
  "bad argument", "busy", "not connected", "connection refused", "timeout", "connection lost", "protocol violation"];

/** Words for an Err code, as carried by `error` and `disconnected` events. */
export function errorText(code: number): string {
  return REASONS[-code] || "error " + code;
}

/** True when a topic in buf[start, end) matches the filter's UTF-8 bytes (MQTT 4.7; MQTT-4.7.2-1: a
 *  wildcard first level does not match topics starting with '$'). */
export function topicMatches(f: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  const fl = f.length;
  let i = 0;
  let t = start;
  if ((f[0] === 35 || f[0] === 43) && buf[start] === 36) return false;
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

/** Creates an MQTT 3.1.1 client session. `server`: a host, "host:port", or a list to fail over between.
 *  Every buffer is allocated here, once. */
export function createClient(server: string | string[], options: Options | undefined, limits: Limits, platform: Platform): Client {
  const opt: Options = options || {};
  const servers = typeof server === "string" ? [server] : server;
  if (!servers || !servers.length) throw new Error("MQTT: no server");
  const clientId = opt.client_id === undefined ? platform.deviceId() : opt.client_id;
  const keepAliveS = opt.keep_alive === undefined ? 60 : opt.keep_alive;
  const keepAlive = keepAliveS * 1000;
  const clean = opt.clean_session !== false;
  const view = new PacketView();
  const tx = new Uint8Array(limits.txBuffer);
  const n = limits.inflight;
  const slotBuf = new Uint8Array(n * limits.inflightBytes);
  const slots: Uint8Array[] = [];
  for (let i = 0; i < n; i++) slots.push(slotBuf.subarray(i * limits.inflightBytes, (i + 1) * limits.inflightBytes));
  const slotLen = new Uint16Array(n);
  const slotId = new Uint16Array(n);
  const slotState = new Uint8Array(n);
  const slotSeq = new Float64Array(n);
  /** Incoming QoS 2 packet ids delivered but not yet released (MQTT 4.3.3). */
  const qos2Ids = new Uint16Array(n);
  const subs: Subscription[] = [];
  const listeners: { [event: string]: any } = {};

  let state = State.IDLE;
  let conn: any = null;
  let timer: any = null;
  let serverIndex = 0;
  let attempts = 0;
  let stateSince = 0;
  let reconnectAt = 0;
  let lastSent = 0;
  let lastReceived = 0;
  let pingSentAt = 0;
  let unsent = 0;
  let nextId = 0;
  let seq = 0;

  const msg: Message = {
    buf: tx, topicStart: 0, topicEnd: 0, payloadStart: 0, payloadEnd: 0, qos: 0, retain: false, dup: false,
    topic: function () { return toText(msg.buf, msg.topicStart, msg.topicEnd); },
    text: function () { return toBinaryString(msg.buf, msg.payloadStart, msg.payloadEnd); },
  };

  function emit(event: string, a?: any, b?: any): boolean {
    const l = listeners[event];
    if (!l) return false;
    if (typeof l === "function") l.call(client, a, b);
    else for (let i = 0; i < l.length; i++) l[i].call(client, a, b);
    return true;
  }

  function fail(code: number): number {
    emit("error", errorText(code), code);
    return code;
  }

  // ---- connection life ------------------------------------------------------------------------------

  function setState(s: State): void {
    state = s;
    stateSince = platform.now();
  }

  function open(): void {
    const address = servers[serverIndex % servers.length];
    const colon = address.lastIndexOf(":");
    setState(State.OPENING);
    framer.reset();
    conn = platform.open(colon > 0 ? address.slice(0, colon) : address, colon > 0 ? +address.slice(colon + 1) : opt.port || 1883, handler);
  }

  /** Ends the current connection; reconnects later unless `next` is IDLE or reconnect is off. */
  function drop(reason: number, next: State): void {
    const wasConnected = state === State.CONNECTED;
    if (conn) platform.close(conn);
    conn = null;
    unsent = 0;
    pingSentAt = 0;
    for (let i = 0; i < subs.length; i++) subs[i].pending = 0;
    if (opt.reconnect === false) next = State.IDLE;
    if (next === State.IDLE) {
      if (timer) platform.cancel(timer);
      timer = null;
      setState(State.IDLE);
    } else {
      // Exponential backoff with jitter; every failure also moves on to the next broker.
      const min = opt.reconnect_min || 1000;
      const wait = Math.min(opt.reconnect_max || 60000, min * Math.pow(2, Math.min(attempts, 16)));
      attempts++;
      serverIndex++;
      setState(State.BACKOFF);
      reconnectAt = stateSince + wait * (0.5 + platform.random() / 2);
    }
    if (wasConnected) emit("disconnected", errorText(reason), reason);
  }

  function lost(reason: number): void {
    if (state !== State.CONNECTED) emit("error", errorText(reason), reason);
    drop(reason, State.BACKOFF);
  }

  function tick(): void {
    const now = platform.now();
    if (state === State.BACKOFF) {
      if (now >= reconnectAt) open();
    } else if (state === State.OPENING || state === State.CONNACK_WAIT) {
      if (now - stateSince > (opt.connect_timeout || 10000)) lost(Err.TIMEOUT);
    } else if (state === State.CONNECTED && keepAlive) {
      if (pingSentAt) {
        if (now - pingSentAt > (opt.ping_timeout || Math.min(keepAlive / 2, 10000))) lost(Err.TIMEOUT);
      } else if (now - lastReceived > keepAlive * 1.5) lost(Err.TIMEOUT);
      else if (now - lastSent >= keepAlive) {
        write(encodePingreq(tx, 0));
        pingSentAt = now;
      }
    }
  }

  const handler: NetHandler = {
    onOpen: function (c) {
      if (c !== conn) return;
      const w = opt.will;
      const len = encodeConnect(tx, 0, clientId, keepAliveS, clean,
        w ? w.topic : "", w && w.message !== undefined ? w.message : "", w ? w.qos || 0 : 0, w ? !!w.retain : false,
        opt.username || "", opt.password || "");
      if (len < 0) {
        fail(len);
        drop(len, State.IDLE);
        return;
      }
      setState(State.CONNACK_WAIT);
      lastReceived = stateSince;
      write(len);
    },
    onData: function (c, chunk) {
      if (c !== conn) return;
      lastReceived = platform.now();
      framer.push(chunk);
    },
    onDrain: function (c) {
      if (c !== conn) return;
      unsent = 0;
      flush();
      emit("drain");
    },
    onClose: function (c) {
      if (c !== conn) return;
      conn = null;
      if (framer.partial) emit("error", "truncated packet", Err.MALFORMED);
      lost(Err.CONNECTION_LOST);
    },
  };

  // ---- receiving -------------------------------------------------------------------------------------

  function onPacket(buf: Uint8Array, start: number, end: number): void {
    const v = view;
    const type = decodePacket(buf, start, end, v);
    if (type < 0 || (state === State.CONNACK_WAIT) !== (type === PacketType.CONNACK)) {
      // Malformed, or out of order (MQTT-3.2.0-1: the first packet is CONNACK, and only once).
      const err = type < 0 ? type : Err.PROTOCOL;
      emit("error", errorText(err), err);
      drop(err, State.BACKOFF);
      return;
    }
    const id = v.packetId;
    if (type === PacketType.CONNACK) onConnack(v.returnCode, v.sessionPresent);
    else if (type === PacketType.PUBLISH) onPublish(buf, v);
    else if (type === PacketType.PUBACK) acknowledged(id, Slot.SENT);
    else if (type === PacketType.PUBCOMP) acknowledged(id, Slot.RELEASED);
    else if (type === PacketType.PUBREC) { // answer with PUBREL (MQTT-4.3.3-1), paced like the PUBLISH
      const s = findSlot(id, Slot.SENT);
      if (s >= 0) {
        slotState[s] = Slot.RELEASE_QUEUED;
        flush();
      } else write(encodeAck(tx, 0, PacketType.PUBREL, id));
    } else if (type === PacketType.PUBREL) {
      for (let i = 0; i < n; i++) if (qos2Ids[i] === id) qos2Ids[i] = 0;
      write(encodeAck(tx, 0, PacketType.PUBCOMP, id));
    } else if (type === PacketType.SUBACK) {
      const code = buf[v.payloadStart];
      for (let i = 0; i < subs.length; i++) {
        if (subs[i].pending !== id) continue;
        subs[i].pending = 0;
        if (code === 0x80) emit("subscribed_fail", subs[i].filter);
        else emit("subscribed", subs[i].filter, code);
      }
    } else if (type === PacketType.UNSUBACK) emit("unsubscribed", id);
    else pingSentAt = 0; // PINGRESP
  }

  function onConnack(rc: number, sessionPresent: boolean): void {
    if (rc) {
      emit("error", "connection refused: " + REFUSALS[rc], Err.REFUSED);
      drop(Err.REFUSED, State.BACKOFF);
      return;
    }
    setState(State.CONNECTED);
    attempts = 0;
    // Resend what the broker has not acknowledged, with DUP and the original ids (MQTT 4.4).
    for (let i = 0; i < n; i++) {
      if (slotState[i] === Slot.SENT) {
        slots[i][0] |= 8;
        slotState[i] = Slot.QUEUED;
      } else if (slotState[i] === Slot.RELEASED) slotState[i] = Slot.RELEASE_QUEUED;
    }
    // Without a stored session the broker has forgotten our subscriptions (MQTT 3.2.2.2).
    if (!sessionPresent) for (let i = 0; i < subs.length; i++) sendSubscribe(subs[i]);
    flush();
    emit("connected", sessionPresent);
  }

  function onPublish(buf: Uint8Array, v: PacketView): void {
    const id = v.packetId;
    if (v.qos === 2) {
      let free = -1;
      for (let i = 0; i < n; i++) {
        if (qos2Ids[i] === id) { // delivered once already: acknowledge only (MQTT 4.3.3)
          write(encodeAck(tx, 0, PacketType.PUBREC, id));
          return;
        }
        if (!qos2Ids[i] && free < 0) free = i;
      }
      if (free < 0) { // no room to remember it: leave it unacknowledged; the broker sends it again
        fail(Err.BUSY);
        return;
      }
      qos2Ids[free] = id;
    }
    const m = msg;
    m.buf = buf;
    m.topicStart = v.topicStart;
    m.topicEnd = v.topicEnd;
    m.payloadStart = v.payloadStart;
    m.payloadEnd = v.payloadEnd;
    m.qos = v.qos;
    m.retain = v.retain;
    m.dup = v.dup;
    for (let i = 0; i < subs.length; i++) {
      const h = subs[i].handler;
      if (h && topicMatches(subs[i].bytes, buf, v.topicStart, v.topicEnd)) h(m);
    }
    if (listeners.message || listeners.publish) {
      const topic = m.topic();
      const message = m.text();
      emit("message", topic, message);
      if (listeners.publish) emit("publish", { topic: topic, message: message, qos: v.qos, retain: v.retain, dup: v.dup });
    }
    if (v.qos) write(encodeAck(tx, 0, v.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC, id));
  }

  function acknowledged(id: number, expected: Slot): void {
    const s = findSlot(id, expected);
    if (s < 0) return;
    slotState[s] = Slot.FREE;
    emit("puback", id);
    flush();
  }

  // ---- sending ---------------------------------------------------------------------------------------

  function writable(len: number): boolean {
    return state === State.CONNECTED && unsent + len <= tx.length;
  }

  function write(len: number): void {
    send(tx, len);
  }

  function send(buf: Uint8Array, len: number): void {
    if (!conn || len < 0) return;
    platform.send(conn, buf, 0, len);
    unsent += len;
    lastSent = platform.now();
  }

  /** Sends queued PUBLISH and PUBREL packets, oldest first, while the send window has room. */
  function flush(): void {
    for (;;) {
      let oldest = -1;
      for (let i = 0; i < n; i++) {
        if ((slotState[i] === Slot.QUEUED || slotState[i] === Slot.RELEASE_QUEUED) && (oldest < 0 || slotSeq[i] < slotSeq[oldest])) oldest = i;
      }
      if (oldest < 0) return;
      const publish = slotState[oldest] === Slot.QUEUED;
      if (!writable(publish ? slotLen[oldest] : 4)) return;
      slotState[oldest] = publish ? Slot.SENT : Slot.RELEASED;
      if (publish) send(slots[oldest], slotLen[oldest]);
      else write(encodeAck(tx, 0, PacketType.PUBREL, slotId[oldest]));
    }
  }

  function sendSubscribe(sub: Subscription): void {
    sub.pending = nextPacketId();
    write(encodeSubscribe(tx, 0, sub.pending, [sub.filter], [sub.qos]));
  }

  // ---- slots and ids ---------------------------------------------------------------------------------

  function freeSlot(): number {
    for (let i = 0; i < n; i++) if (slotState[i] === Slot.FREE) return i;
    return -1;
  }

  function findSlot(id: number, s: Slot): number {
    for (let i = 0; i < n; i++) if (slotId[i] === id && slotState[i] === s) return i;
    return -1;
  }

  /** The next packet id: 1..65535, wrapping, never one still in use (MQTT 2.3.1). */
  function nextPacketId(): number {
    for (;;) {
      nextId = (nextId % 65535) + 1;
      let used = false;
      for (let i = 0; i < n; i++) if (slotState[i] && slotId[i] === nextId) used = true;
      for (let i = 0; i < subs.length; i++) if (subs[i].pending === nextId) used = true;
      if (!used) return nextId;
    }
  }

  function findSub(filter: string): Subscription | undefined {
    for (let i = 0; i < subs.length; i++) if (subs[i].filter === filter) return subs[i];
    return undefined;
  }

  // Objects that refer to the functions above come last: Espruino does not hoist declarations.
  const framer = new Framer(limits.maxPacket, limits.maxChunk, onPacket, function (err) {
    emit("error", errorText(err), err);
    if (err !== Err.PACKET_TOO_LARGE) drop(err, State.BACKOFF);
  });

  const client: Client = {
    on: function (event, fn) {
      const l = listeners[event];
      listeners[event] = !l ? fn : typeof l === "function" ? [l, fn] : l.concat([fn]);
      return client;
    },
    removeAllListeners: function (event) {
      if (event) delete listeners[event];
      else for (const k in listeners) delete listeners[k];
      return client;
    },
    emit: emit,
    connect: function () {
      if (state !== State.IDLE) return;
      timer = platform.every(tick, TICK_MS);
      attempts = 0;
      open();
    },
    disconnect: function () {
      if (state === State.IDLE) return;
      if (state === State.CONNECTED) write(encodeDisconnect(tx, 0));
      drop(Err.CONNECTION_LOST, State.IDLE);
    },
    publish: function (topic, message, options) {
      const qos = (options && options.qos) || 0;
      const retain = !!(options && options.retain);
      if (typeof message === "number") message = String(message);
      if (qos === 0) {
        if (state !== State.CONNECTED) return Err.NOT_CONNECTED;
        const end = encodePublish(tx, 0, topic, message, 0, retain, false, 0);
        if (end < 0) return fail(end);
        if (!writable(end)) return Err.BUSY;
        write(end);
        return 0;
      }
      const s = freeSlot();
      // With no free slot, check the arguments anyway so that a bad call reports its own error.
      const len = encodePublish(s < 0 ? tx : slots[s], 0, topic, message, qos, retain, false, s < 0 ? 1 : nextPacketId());
      if (len < 0) return fail(len);
      if (s < 0) return Err.BUSY;
      slotLen[s] = len;
      slotId[s] = nextId;
      slotState[s] = Slot.QUEUED;
      slotSeq[s] = ++seq;
      flush();
      return nextId;
    },
    subscribe: function (filters, options, handler) {
      const qos = (options && options.qos) || 0;
      const list = typeof filters === "string" ? [filters] : filters;
      if (!list || typeof list.length !== "number") return fail(Err.BAD_ARGUMENT);
      if (qos !== 0 && qos !== 1 && qos !== 2) return fail(Err.BAD_QOS);
      for (let i = 0; i < list.length; i++) {
        const valid = filterLength(list[i]);
        if (valid < 0) return fail(valid);
      }
      for (let i = 0; i < list.length; i++) {
        let sub = findSub(list[i]);
        if (!sub) {
          if (subs.length >= limits.maxSubscriptions) return fail(Err.BUSY);
          const len = utf8Length(list[i]);
          const bytes = new Uint8Array(len);
          writeUtf8(bytes, 0, list[i], len);
          sub = { filter: list[i], bytes: bytes, qos: -1, handler: undefined, pending: 0 };
          subs.push(sub);
        }
        if (handler) sub.handler = handler;
        if (sub.qos !== qos) {
          sub.qos = qos;
          if (state === State.CONNECTED) sendSubscribe(sub);
        }
      }
      return 0;
    },
    unsubscribe: function (filters) {
      const list = typeof filters === "string" ? [filters] : filters;
      for (let i = 0; i < list.length; i++) {
        const sub = findSub(list[i]);
        if (!sub) continue;
        subs.splice(subs.indexOf(sub), 1);
        if (state === State.CONNECTED) write(encodeUnsubscribe(tx, 0, nextPacketId(), [sub.filter]));
      }
      return 0;
    },
    connected: false,
    pending: 0,
  };
  Object.defineProperty(client, "connected", { get: function () { return state === State.CONNECTED; } });
  Object.defineProperty(client, "pending", {
    get: function () {
      let count = 0;
      for (let i = 0; i < n; i++) if (slotState[i]) count++;
      return count;
    },
  });

  return client;
}
