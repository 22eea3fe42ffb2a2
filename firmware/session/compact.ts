// The compact MQTT 3.1.1 session (dist/wisp.js, the ESP8266 and Linux firmware): the same API, wire
// format and session rules as the layered client (client.ts over codec/), written for a 1,600-JsVar
// heap. On Espruino every function object costs about 7 JsVars and every parameter about 1, and every
// byte of a function's text is read on each call, past a return too (README, "What things cost"):
// so this session is few functions, and what runs per message is short. The client's methods live on
// the module's `exports` (a client is Object.create(exports): no constructor, no prototype object);
// onSocketEvent takes every socket event but data, and the tick; onData frames received bytes and
// delivers PUBLISHes in place; emit and publish's hot path are short; everything rare is one op().
// Packets are written as the one byte string each socket write needs; a QoS 1 packet is also copied
// into its slot of the one buffer (receive buffer, slots, then the numbers), which decoding reads in
// place. Left out, each answering a clear Err: QoS 2 (publish or subscribe at QoS 2: BAD_QOS; an
// incoming QoS 2 PUBLISH is acknowledged with PUBREC and delivered at least once) and TLS
// (BAD_ARGUMENT). The layered client's `limits.txBuffer` has no use here (no transmit buffer).
import { Err, errorText } from "../errors";
import { MODULE } from "wisp-target";
import { topicMatches } from "../codec/topic";
import { UNICODE, toByteString } from "../codec/bytes";
import type { Platform } from "../platform";
import type { Limits, Options } from "./types";

export { errorText };

/** The module object (dist/wisp.js), which a client inherits its methods from; firmware has none. */
declare const exports: any;

const enum State { IDLE = 0, OPENING = 1, CONNACK_WAIT = 2, CONNECTED = 3, BACKOFF = 4 }
/** In-flight slot states (MQTT 4.3.2): a PUBLISH to send, sent and awaiting PUBACK. */
const enum Slot { FREE = 0, QUEUED = 1, SENT = 2 }
/** Indexes into the client's other numbers (v_): times, settings from the options; slot i's four
 *  numbers (S) start at SLOTS + 4 i, then one SUBACK-awaited packet id per subscription. */
const enum V {
  LAST_SENT = 0, LAST_RECEIVED = 1, PING_AT = 2, SENT_SEEN = 3, KEEPALIVE = 4, ATTEMPTS = 5, SERVER = 6,
  SINCE = 7, RECONNECT_AT = 8, NEXT_ID = 9, SEQ = 10, INFLIGHT = 11, SLOT_BYTES = 12, MAX_SUBS = 13,
  PORT = 14, CLEAN = 15, SUBS_AT = 16, CONNECT_TIMEOUT = 17, PING_TIMEOUT = 18, RECONNECT = 19,
  RECONNECT_MIN = 20, RECONNECT_MAX = 21, TLS = 22, SLOTS = 23,
}
/** A slot's numbers: packet length, id, Slot state, sequence (oldest first). */
const enum S { LEN = 0, ID = 1, STATE = 2, SEQ = 3, SIZE = 4 }
/** op's cold operations. */
const enum Op {
  TICK = 1, OPEN = 2, OPENED = 3, CLOSED = 4, DROP = 5, FAIL = 6, CONTROL = 7, CONNACK = 8, FLUSH = 9,
  NEXT_ID = 10, SEND_SUBSCRIBE = 11, FIELD = 12, HEADER = 13, TOTAL = 14, OVERSIZE = 15, ACK = 16,
  PUBLISH = 17, TOPIC = 18, PUBLISH_EVENT = 19,
}
/** FIELD's kinds: any bytes (payloads, password), a UTF-8 string, a topic name. */
const enum Kind { BYTES = 0, TEXT = 1, TOPIC = 2 }
/** Milliseconds between ticks of the one periodic timer: keepalive, timeouts, reconnect. */
const enum Tick { MS = 250 }
/** Entries per subscription in s_: filter as UTF-8 bytes, handler, QoS (the filters are its only
 *  strings: indexOf finds a subscription). */
const enum Sub { SIZE = 3 }

/** Built-ins looked up once: finding one by name costs the interpreter about as much as the call, and each
 *  name written out costs the module's text (held in RAM when it is uploaded as text). */
const isUTF8 = E.isUTF8;
const fromCharCode = String.fromCharCode;

/** What every received-message view inherits: its two methods (session/message.ts Message). */
const MESSAGE = {
  /** The topic as a string (UTF-8 flagged where the build has Unicode). */
  topic: function (this: any): string { return UNICODE ? E.asUTF8!(this.t_) : this.t_; },
  /** The payload as a byte string. */
  text: function (this: any): string { return toByteString(this.buf.subarray(this.payloadStart, this.payloadEnd)); },
};

/** Every socket event but data, and the tick: `this` is the socket (its client rides on it as `h`: no
 *  closure per client or connection), and the argument a boolean (close), an object (error), or the
 *  socket / nothing (open, drain); or the client, which setInterval passes to the tick. Every byte of a
 *  function's text is read on each call: the rest is op's. */
function onSocketEvent(this: any, k: any): any {
  // The tick first: the client (sockets have no such property).
  if (k && k.v_) return op(Op.TICK, k);
  const c = this.h;
  if (c.c_ !== this) return; // an event of a socket the client has let go
  if (typeof k === "boolean" || (k && k !== this)) return op(Op.CLOSED, c, k);
  if (c.state_ === State.OPENING) return op(Op.OPENED, c);
  c.drained_ = c.sent_;
  if (c.pending) op(Op.FLUSH, c);
  c.emit("drain");
}

/** Received bytes (`this` is the socket), framed into packets in the receive buffer: its own function,
 *  with the locals framing needs, so that the other socket events do not make them. */
function onData(this: any, k: string): any {
  let c: any, z: Uint8Array, i: number, j: number, n: number, x: number, q: number, t: any, l: any, u: any;
  const s = this;
  // Received bytes, framed into packets in the receive buffer (MQTT 2.2): a piece of the chunk as
  // large as the room left is copied in at once, then every whole packet in the buffer is handled
  // in place; a QoS 0/1 PUBLISH here (the packets that come by the thousand), the rest by CONTROL.
  c = s.h;
  if (!c || c.c_ !== s) return;
  z = c.z_;
  c.received_ = 1;
  for (i = 0, n = 0; i < k.length; i += n) {
    if (c.skip_) {
      // The rest of a packet too large to hold.
      n = Math.min(c.skip_, k.length - i);
      c.skip_ -= n;
      continue;
    }
    let h = c.held_;
    n = Math.min(k.length - i, c.rxSize_ - h);
    const piece = n === k.length ? k : k.substring(i, i + n);
    const at = h;
    z.set(piece as any, h);
    h += n;
    let st = 0;
    while (h - st > 1) {
      // Total length: header, Remaining Length (MQTT 2.2.3), body.
      let total = z[st + 1] < 128 ? z[st + 1] + 2 : op(Op.TOTAL, c, st, h);
      if (total < 0) return op(Op.FAIL, c, total, true);
      if (!total) break;
      if (total > c.max_) {
        total = op(Op.OVERSIZE, c, st, h, total);
        if (c.c_ !== s) return;
        if (total < 0) break;
        st = total;
        continue;
      }
      if (h - st < total) break;
      x = z[st];
      q = (x >> 1) & 3;
      const e = st + total;
      let b0 = st + 2;
      while (z[b0 - 1] & 128) b0++;
      const te = b0 + 2 + ((z[b0] << 8) | z[b0 + 1]);
      const ps = te + (q ? 2 : 0);
      const id = q ? (z[te] << 8) | z[te + 1] : 0;
      if (x >> 4 !== 3 || c.state_ !== State.CONNECTED || q === 3 || ps > e || te === b0 + 2 || (q ? !id : x & 8)) op(Op.CONTROL, c, st, e);
      else {
        // PUBLISH (MQTT 3.3): the topic and payload from the piece when the packet is in it (a
        // substring costs a third of a string made from the buffer).
        t = st >= at ? piece.substr(b0 + 2 - at, te - b0 - 2) : toByteString(z.subarray(b0 + 2, te));
        // A new topic is checked once (MQTT-3.3.2-2, MQTT 1.5.3): a bad one drops the connection.
        if (t !== c.rt_ && op(Op.TOPIC, c, t)) return;
        u = c.s_;
        l = 0;
        for (j = 0; j < u.length; j += Sub.SIZE) {
          if (!u[j + 1] || (u[j] !== t && !topicMatches(u[j], t))) continue;
          if (!l) {
            // The reused view (session/message.ts Message), filled for the first matching handler.
            l = c.m_;
            l.t_ = t;
            l.topicStart = b0 + 2;
            l.topicEnd = te;
            l.payloadStart = ps;
            l.payloadEnd = e;
            l.qos = q;
            l.retain = (x & 1) === 1;
            l.dup = (x & 8) === 8;
            l.packetId = id;
          }
          u[j + 1](l);
        }
        l = c["#onmessage"];
        u = c["#onpublish"];
        if (l || u) {
          t = st >= at ? piece.substr(ps - at, e - ps) : toByteString(z.subarray(ps, e));
          // emit("message", topic, payload), inlined: one call fewer per message.
          if (typeof l === "function") l.call(c, c.ru_, t);
          else if (l) for (j = 0; j < l.length; j++) l[j].call(c, c.ru_, t);
          if (u) op(Op.PUBLISH_EVENT, c, t, x);
        }
        // PUBACK (MQTT 4.3.2), or PUBREC for QoS 2 (delivered at least once in this edition); the
        // handlers may have dropped the connection.
        if (q && c.c_ === s) {
          s.write(fromCharCode(q === 1 ? 0x40 : 0x50, 2, id >> 8, id & 255));
          c.sent_ += 4;
        }
      }
      if (c.c_ !== s) return;
      st = e;
    }
    // What is left of a packet moves to the front.
    if (st) {
      if (st < h) z.set(z.subarray(st, h), 0);
      h -= st;
    }
    c.held_ = h;
  }
}

/** The cold operations: k an Op, with its arguments a, b and d. Espruino reads all of a function's text
 *  on every call (past a return too): only what is rare is here. */
function op(k: number, c: any, a?: any, b?: any, d?: any): any {
  // In dist/wisp.js op and what it alone needs are their own module, wisp-cold (rollup.config.js,
  // splitCold): uploaded as text each module's text is held only while it loads.
  "cold";
  let v: Float64Array, z: Uint8Array, i: number, j: number, n: number, x: number, q: number, t: any, l: any, s: any;
  v = c.v_;
  z = c.z_;
  const p: Platform = c.p_;
  n = v[V.INFLIGHT];
  const slots = c.rxSize_;
  switch (k) {
    case Op.ACK:
      // An acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP): first byte a, packet id b.
      c.c_.write(fromCharCode(a, 2, b >> 8, b & 255));
      c.sent_ += 4;
      return;
    case Op.FLUSH:
      // Sends queued PUBLISH packets, oldest first, while connected and the send window has room.
      for (;;) {
        j = -1;
        for (i = 0; i < n; i++) if (v[V.SLOTS + i * S.SIZE + S.STATE] === Slot.QUEUED && (j < 0 || v[V.SLOTS + i * S.SIZE + S.SEQ] < v[V.SLOTS + j * S.SIZE + S.SEQ])) j = i;
        if (j < 0 || c.state_ !== State.CONNECTED || c.sent_ - c.drained_ > c.window_) return;
        v[V.SLOTS + j * S.SIZE + S.STATE] = Slot.SENT;
        i = slots + j * v[V.SLOT_BYTES];
        c.c_.write(toByteString(z.subarray(i, i + v[V.SLOTS + j * S.SIZE + S.LEN])));
        c.sent_ += v[V.SLOTS + j * S.SIZE + S.LEN];
      }
    case Op.NEXT_ID:
      // The next packet id: 1..65535, wrapping, never one still in use by a slot or an awaited SUBACK.
      for (;;) {
        x = v[V.NEXT_ID] = (v[V.NEXT_ID] % 65535) + 1;
        t = 0;
        for (i = 0; i < n; i++) if (v[V.SLOTS + i * S.SIZE + S.STATE] && v[V.SLOTS + i * S.SIZE + S.ID] === x) t = 1;
        for (i = 0; i < v[V.MAX_SUBS]; i++) if (v[v[V.SUBS_AT] + i] === x) t = 1;
        if (!t) return x;
      }
    case Op.HEADER: {
      // A fixed header (MQTT 2.2): first byte a, Remaining Length b (MQTT 2.2.3), as a byte string.
      t = fromCharCode(a);
      // The test on b before the shift: the Web IDE's own minifier (esmangle) takes a compound
      // assignment's value for true, and makes `(b >>= 7) && …` always run.
      do {
        x = b & 127;
        if (b > 127) x |= 128;
        b >>= 7;
        t += fromCharCode(x);
      } while (b);
      return t;
    }
    case Op.FIELD: {
      // a as the bytes of a packet field (MQTT 1.5.3), after their length if d, or an Err: for Kind.BYTES a byte string or a
      // Uint8Array; for TEXT and TOPIC a string (its UTF-8 bytes where flagged UTF-8) that is
      // well-formed UTF-8 without U+0000, at most 65,535 bytes; a TOPIC name is not empty and has no
      // wildcards (MQTT-4.7.3-1, MQTT-3.3.2-2).
      if (b === Kind.BYTES && a instanceof Uint8Array) a = toByteString(a);
      else if (typeof a !== "string") return b === Kind.TOPIC ? Err.BAD_TOPIC : Err.BAD_ARGUMENT;
      if (isUTF8 && isUTF8(a)) a = E.fromUTF8!(a);
      if (a.length > 65535) return Err.BAD_STRING;
      if (b === Kind.TOPIC && (!a.length || a.indexOf("#") >= 0 || a.indexOf("+") >= 0)) return Err.BAD_TOPIC;
      if (b && /[^ -~]/.test(a)) {
        for (i = 0; i < a.length; i++) {
          x = a.charCodeAt(i);
          if (!x) return b === Kind.TOPIC ? Err.BAD_TOPIC : Err.BAD_STRING;
          if (x < 0x80) continue;
          // A lead byte and its j continuation bytes: no overlong form, surrogate or code point past U+10FFFF.
          j = x < 0xc2 ? 0 : x < 0xe0 ? 1 : x < 0xf0 ? 2 : x < 0xf5 ? 3 : 0;
          if (!j || i + j >= a.length) return Err.BAD_STRING;
          t = x & (63 >> j);
          for (n = j; n--; t = (t << 6) | (x & 63)) if (((x = a.charCodeAt(++i)) & 0xc0) !== 0x80) return Err.BAD_STRING;
          if (t < (j > 2 ? 0x10000 : 8 << (4 * j)) || t > 0x10ffff || t >> 11 === 27) return Err.BAD_STRING;
        }
      }
      return d ? fromCharCode(a.length >> 8, a.length & 255) + a : a;
    }
    case Op.TOPIC:
      // A received topic a unlike the last: kept with its text form (a listener's topic); or an error
      // that drops the connection (returns true).
      l = op(Op.FIELD, c, a, Kind.TOPIC);
      if (typeof l !== "string") return op(Op.FAIL, c, l, true) || true;
      c.rt_ = a;
      c.ru_ = UNICODE ? E.asUTF8!(a) : a;
      return false;
    case Op.PUBLISH_EVENT:
      // The `publish` event of Espruino's MQTT module (its object allocates): payload a, first byte b.
      return c.emit("publish", { topic: c.ru_, message: a, qos: (b >> 1) & 3, retain: (b & 1) === 1, dup: (b & 8) === 8 });
    case Op.PUBLISH: {
      // Every publish but the hot path's (a: topic, b: message, d: options): checked, then QoS 0 written
      // like the hot path, QoS 1 into a free slot, kept until PUBACK.
      q = d ? d.qos || 0 : 0;
      t = c.pf_;
      if (a !== c.pt_ || !t) {
        t = op(Op.FIELD, c, a, Kind.TOPIC, 1);
        if (typeof t !== "string") return op(Op.FAIL, c, t);
        c.pt_ = a;
        c.pf_ = t;
      }
      if (q !== 0 && q !== 1) return op(Op.FAIL, c, Err.BAD_QOS);
      // Every op call reads all of op's text: a byte string and a short packet need none.
      if (typeof b !== "string" || (isUTF8 && isUTF8(b))) b = op(Op.FIELD, c, typeof b === "number" ? "" + b : b, Kind.BYTES);
      if (typeof b !== "string") return op(Op.FAIL, c, b);
      l = t.length + b.length + q * 2;
      if (l > 268435455) return op(Op.FAIL, c, Err.PACKET_TOO_LARGE);
      x = 48 | (q << 1) | (d && d.retain ? 1 : 0);
      t = (l < 128 ? fromCharCode(x, l) : op(Op.HEADER, c, x, l)) + t;
      if (q) {
        if (t.length + b.length > v[V.SLOT_BYTES]) return op(Op.FAIL, c, Err.PACKET_TOO_LARGE);
        for (i = n - 1, j = -1; i >= 0; i--) if (!v[V.SLOTS + i * S.SIZE + S.STATE]) j = i;
        if (j < 0) {
          c.emit("busy", a);
          return Err.BUSY;
        }
        x = op(Op.NEXT_ID, c);
        t += fromCharCode(x >> 8, x & 255) + b;
        z.set(t as any, slots + j * v[V.SLOT_BYTES]);
        j = V.SLOTS + j * S.SIZE;
        v[j + S.LEN] = t.length;
        v[j + S.ID] = x;
        v[j + S.STATE] = Slot.QUEUED;
        v[j + S.SEQ] = ++v[V.SEQ];
        c.pending++;
        op(Op.FLUSH, c);
        return x;
      }
      if (!c.connected) return Err.NOT_CONNECTED;
      if (c.sent_ - c.drained_ > c.window_) {
        c.emit("busy", a);
        return Err.BUSY;
      }
      c.c_.write(t + b);
      c.sent_ += t.length + b.length;
      return 0;
    }
    case Op.CONTROL: {
      // Every packet but a well-formed PUBLISH while connected, whole in z[a, b): checked as the codec
      // checks it (MQTT 2, 3.2–3.13, client side; the first failing check as decodePacket reports it),
      // then handled; anything malformed or out of order is an error that drops the connection.
      x = c.state_;
      if (x !== State.CONNECTED && x !== State.CONNACK_WAIT) return; // a dropped connection's
      t = z[a] >> 4;
      q = z[a] & 15;
      j = a + 2;
      while (z[j - 1] & 128) j++;
      l = b - j;
      const id = (z[j] << 8) | z[j + 1];
      i = j + 2 + id; // a PUBLISH's topic end
      let err =
        t === 3 ? ((q & 6) === 6 ? Err.BAD_QOS : !(q & 6) && q & 8 ? Err.BAD_FLAGS : l < 2 || i + (q & 6 ? 2 : 0) > b ? Err.MALFORMED : !id ? Err.BAD_TOPIC : q & 6 && !((z[i] << 8) | z[i + 1]) ? Err.BAD_PACKET_ID : 0)
        // The types a client receives: CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP.
        : !((0x2af4 >> t) & 1) ? Err.UNEXPECTED_PACKET
        : q !== (t === 6 ? 2 : 0) ? Err.BAD_FLAGS
        : t === 13 ? l && Err.MALFORMED
        : l < 2 || (t !== 9 && l > 2) || (t === 2 && z[j] > 1) ? Err.MALFORMED
        : t === 2 ? z[j + 1] > 5 && Err.BAD_RETURN_CODE
        : !id && Err.BAD_PACKET_ID;
      if (t === 9) for (i = j + 2; i < b && !err; i++) if (z[i] > 2 && z[i] !== 0x80) err = Err.BAD_RETURN_CODE; // MQTT 3.9.3 (l < 3: MALFORMED)
      // Out of order: the first packet is CONNACK, and only once (MQTT-3.2.0-1).
      if (!err && (x === State.CONNACK_WAIT) !== (t === 2)) err = Err.PROTOCOL;
      if (err) return op(Op.FAIL, c, err, true);
      if (t === 2) return op(Op.CONNACK, c, z[j], z[j + 1]);
      if (t === 4) {
        // PUBACK: frees the slot awaiting it.
        for (i = 0; i < n; i++) {
          s = V.SLOTS + i * S.SIZE;
          if (v[s + S.ID] === id && v[s + S.STATE] === Slot.SENT) {
            v[s + S.STATE] = Slot.FREE;
            c.pending--;
            c.emit("puback", id);
            return op(Op.FLUSH, c);
          }
        }
      } else if (t === 5 || t === 6) {
        // PUBREC (for no QoS 2 of ours: PUBREL all the same, MQTT-4.3.3-1) or PUBREL: answered at once.
        op(Op.ACK, c, t === 5 ? 0x62 : 0x70, id);
      } else if (t === 9) {
        for (i = 0; i < c.s_.length; i += Sub.SIZE) {
          if (v[v[V.SUBS_AT] + i / Sub.SIZE] !== id) continue;
          v[v[V.SUBS_AT] + i / Sub.SIZE] = 0;
          if (z[j + 2] === 0x80) c.emit("subscribed_fail", c.s_[i]);
          else c.emit("subscribed", c.s_[i], z[j + 2]);
        }
      } else if (t === 11) c.emit("unsubscribed", id);
      else if (t === 13) v[V.PING_AT] = 0;
      return;
    }
    case Op.FAIL:
      // An error event for Err a, in words d or errorText's; with b given, the connection is dropped
      // for it too, to be retried if b is true.
      c.emit("error", d || errorText(a), a);
      if (b !== undefined) op(Op.DROP, c, a, b);
      return a;
    case Op.TOTAL: {
      // The total length of the packet at a whose Remaining Length takes more than one byte (MQTT
      // 2.2.3), 0 while its bytes up to b are not all there, or Err.BAD_LENGTH past four bytes.
      t = 0;
      for (i = 1, j = 1; i < 5; i++, j *= 128) {
        if (a + i >= b) return 0;
        x = z[a + i];
        t += (x & 127) * j;
        if (x < 128) return t + i + 1;
      }
      return Err.BAD_LENGTH;
    }
    case Op.OVERSIZE: {
      // The packet at a (total length d, b bytes held) is larger than the receive buffer: skipped, and
      // reported; a QoS 1/2 PUBLISH is still acknowledged, so that the broker's window never fills with
      // messages never acknowledged: its bytes up to the packet id are awaited when they fit. Returns
      // the position framing goes on from, or -1 to wait for more bytes.
      x = z[a];
      let id = 0;
      if (x >> 4 === 3 && x & 6) {
        i = a + 2;
        while (z[i - 1] & 128) i++;
        if (b < i + 2) return -1;
        i += 2 + ((z[i] << 8) | z[i + 1]);
        if (i + 2 - a <= c.max_) {
          if (b < i + 2) return -1;
          id = (z[i] << 8) | z[i + 1];
        }
      }
      if (b - a >= d) t = a + d;
      else {
        c.skip_ = d - (b - a);
        t = b;
      }
      op(Op.FAIL, c, Err.PACKET_TOO_LARGE);
      if (id && c.connected) op(Op.ACK, c, x & 4 ? 0x50 : 0x40, id);
      return t;
    }
    case Op.CONNACK: {
      // Refused, or connected (MQTT 3.2); a: flags (session present), b: return code.
      if (b || (v[V.CLEAN] && a)) {
        // Refused (MQTT 3.2.2.3), or a session kept against a clean start (MQTT-3.2.2-1).
        return op(Op.FAIL, c, b ? Err.REFUSED : Err.PROTOCOL, true, b && "connection refused: " + "|unacceptable protocol version|identifier rejected|server unavailable|bad user name or password|not authorized".split("|")[b]);
      }
      c.state_ = State.CONNECTED;
      c.connected = true;
      v[V.ATTEMPTS] = 0;
      v[V.LAST_RECEIVED] = v[V.LAST_SENT] = p ? p.time() : getTime();
      // Resend what the broker has not acknowledged, with DUP and the original ids (MQTT 4.4).
      for (i = 0; i < n; i++) {
        if (v[V.SLOTS + i * S.SIZE + S.STATE] !== Slot.SENT) continue;
        z[slots + i * v[V.SLOT_BYTES]] |= 8;
        v[V.SLOTS + i * S.SIZE + S.STATE] = Slot.QUEUED;
      }
      // A new session has no subscriptions (MQTT 3.2.2.2).
      if (!a) for (i = 0; i < c.s_.length; i += Sub.SIZE) op(Op.SEND_SUBSCRIBE, c, i);
      op(Op.FLUSH, c);
      c.emit("connected", a === 1);
      return;
    }
    case Op.TICK: {
      // Reconnect after backoff, connect timeout, keepalive (MQTT 3.1.2.10). What was sent or received
      // since the last tick counts from that tick: never later than it happened (MQTT-3.1.2-23).
      const now = p ? p.time() : getTime();
      const tick = Tick.MS / 1000;
      if (c.sent_ !== v[V.SENT_SEEN]) {
        v[V.SENT_SEEN] = c.sent_;
        v[V.LAST_SENT] = now - tick;
      }
      if (c.received_) {
        c.received_ = 0;
        v[V.LAST_RECEIVED] = now - tick;
      }
      x = c.state_;
      t = v[V.KEEPALIVE];
      if (x === State.BACKOFF) {
        if (now >= v[V.RECONNECT_AT]) op(Op.OPEN, c);
      } else if (x === State.OPENING || x === State.CONNACK_WAIT) {
        if (now - v[V.SINCE] > v[V.CONNECT_TIMEOUT]) {
          op(Op.FAIL, c, Err.TIMEOUT, true);
        }
      } else if (x === State.CONNECTED && t) {
        if (v[V.PING_AT]) {
          // Anything received since the PINGREQ shows the link alive.
          if (v[V.LAST_RECEIVED] >= v[V.PING_AT]) v[V.PING_AT] = 0;
          else if (now - v[V.PING_AT] > v[V.PING_TIMEOUT]) {
            return op(Op.FAIL, c, Err.TIMEOUT, true);
          }
        }
        // PINGREQ within the keepalive of the last packet sent (MQTT-3.1.2-23), and of the last received.
        if (!v[V.PING_AT] && (now - v[V.LAST_SENT] >= t - 2 * tick || now - v[V.LAST_RECEIVED] >= t - 2 * tick)) {
          c.c_.write("\xc0\x00");
          c.sent_ += 2;
          v[V.PING_AT] = now;
        }
      }
      return;
    }
    case Op.OPEN: {
      // Opens a connection to the next broker; a refusal may throw at once (Espruino's Linux build).
      t = c.h_;
      t = typeof t === "string" ? t : t[v[V.SERVER] % t.length];
      if (v[V.TLS] || t.indexOf("mqtts:") === 0) {
        return op(Op.FAIL, c, Err.BAD_ARGUMENT, false, "TLS is not available on this board");
      }
      t = t.split("//").pop();
      i = t.lastIndexOf(":");
      c.state_ = State.OPENING;
      v[V.SINCE] = p ? p.time() : getTime();
      t = { host: i > 0 ? t.slice(0, i) : t, port: i > 0 ? +t.slice(i + 1) : v[V.PORT] };
      try {
        // The socket's listeners come from the client's methods (op names nothing of the module's).
        l = c.onSocket_;
        s = p ? p.connect(t, l) : require("net").connect(t, l);
      } catch (e) {
        return op(Op.FAIL, c, Err.CONNECTION_LOST, true, "connection refused");
      }
      s.h = c;
      s.on("data", c.onData_);
      s.on("drain", l);
      // No "error" listener: Espruino follows every socket error with "close".
      s.on("close", l);
      c.c_ = s;
      return;
    }
    case Op.OPENED:
      // The TCP connection is up: CONNECT (MQTT 3.1), made at create.
      c.state_ = State.CONNACK_WAIT;
      v[V.SINCE] = p ? p.time() : getTime();
      c.c_.write(c.k_);
      c.sent_ += c.k_.length;
      return;
    case Op.CLOSED:
      // `close` gives a boolean, `error` an object with a message.
      c.c_ = null;
      if (c.held_ || c.skip_) c.emit("error", "truncated packet", Err.MALFORMED);
      else if (c.state_ !== State.CONNECTED) c.emit("error", "connection closed before CONNACK", Err.CONNECTION_LOST);
      return op(Op.DROP, c, Err.CONNECTION_LOST, true);
    case Op.DROP: {
      // Ends the connection (nothing more of it is handled) and, with b and reconnect on, waits to
      // reconnect with exponential backoff and jitter, on the next broker; a is the reason.
      x = c.connected;
      c.connected = false;
      s = c.c_;
      c.c_ = null;
      if (s) s.end();
      c.held_ = c.skip_ = v[V.PING_AT] = 0;
      v.fill(0, v[V.SUBS_AT]); // a SUBACK that never came
      if (b && v[V.RECONNECT]) {
        t = Math.min(v[V.RECONNECT_MAX], v[V.RECONNECT_MIN] * Math.pow(2, Math.min(v[V.ATTEMPTS], 16)));
        v[V.ATTEMPTS]++;
        v[V.SERVER]++;
        c.state_ = State.BACKOFF;
        v[V.RECONNECT_AT] = (p ? p.time() : getTime()) + (t * (0.5 + (p ? p.random() : Math.random()) / 2)) / 1000;
      } else {
        if (c.i_) (p || global).clearInterval(c.i_);
        c.i_ = null;
        c.state_ = State.IDLE;
      }
      if (x) c.emit("disconnected", errorText(a), a);
      return;
    }
    case Op.SEND_SUBSCRIBE: {
      // SUBSCRIBE for subscription a (then awaiting its SUBACK), or with a < 0 UNSUBSCRIBE for filter
      // bytes b (MQTT 3.8, 3.10).
      x = op(Op.NEXT_ID, c);
      l = a < 0 ? b : c.s_[a];
      t = fromCharCode(x >> 8, x & 255, l.length >> 8, l.length & 255) + l + (a < 0 ? "" : fromCharCode(c.s_[a + 2]));
      t = op(Op.HEADER, c, a < 0 ? 0xa2 : 0x82, t.length) + t;
      if (a >= 0) v[v[V.SUBS_AT] + a / Sub.SIZE] = x;
      c.c_.write(t);
      c.sent_ += t.length;
      return;
    }
  }
}


/** Creates a client for `server` ("host", "host:port", or a list to fail over between); see Options.
 *  Limits the options do not give are an ESP8266's. Throws on options it cannot send (a bad client id,
 *  will or user name): a mistake in the program, not in the network. */
export function create(server: string | string[], options?: Options, limits?: Partial<Limits>): any {
  const o: any = options || {};
  // A string, or a list whose first entry is one.
  if (!server || typeof (server[0] || server) !== "string") throw new Error("MQTT: no server");
  const c = Object.create(CLIENT);
  const l: Partial<Limits> = limits || o.limits || {};
  // The numbers the per-message paths read are properties (an integer property costs one JsVar, and is
  // read without making a number, as a Float64Array element is), the first ones on the object: the
  // interpreter finds a property by walking the list in order. Receiving: the connection, the state,
  // the bytes held and still to skip; publishing: the last topic and its field, the bytes sent and
  // drained, the send window.
  // The two listener lists every message looks up (Espruino's `on` fills them): present from the start,
  // first, as a name the object lacks is sought through its prototypes and Espruino's built-ins.
  c["#onmessage"] = c["#onpublish"] = undefined;
  c.c_ = null;
  c.state_ = State.IDLE;
  c.held_ = c.skip_ = c.received_ = 0;
  // No topic yet: no string equals the client.
  c.pt_ = c;
  c.pf_ = "";
  c.connected = false;
  c.sent_ = c.drained_ = 0;
  const n = l.inflight || 2;
  const subs = l.maxSubscriptions || 4;
  const rx = (l.maxPacket || 256) + (l.maxChunk || 128);
  // The platform when one is given; else Espruino's natives are called by name (no object for them).
  const p = o.platform;
  if (p) c.p_ = p;
  // The options read later are numbers here, so that the caller's object can go.
  // One buffer: the receive buffer, the QoS 1 slots, then these numbers (a typed array costs the heap
  // about 14 JsVars besides its bytes; a view of another's buffer, a few).
  const slotBytes = l.inflightBytes || 128;
  const at = (rx + n * slotBytes + 7) & ~7;
  const z = (c.z_ = new Uint8Array(at + (V.SLOTS + n * S.SIZE + subs) * 8));
  const v = (c.v_ = new Float64Array(z.buffer, at, V.SLOTS + n * S.SIZE + subs));
  v[V.CONNECT_TIMEOUT] = (o.connect_timeout || 10000) / 1000;
  v[V.RECONNECT] = (o.reconnect !== false) as any;
  v[V.RECONNECT_MIN] = o.reconnect_min || 1000;
  v[V.RECONNECT_MAX] = o.reconnect_max || 60000;
  v[V.TLS] = (!!o.tls) as any;
  const keepAlive = (v[V.KEEPALIVE] = o.keep_alive === undefined ? 60 : o.keep_alive);
  v[V.PING_TIMEOUT] = o.ping_timeout / 1000 || Math.min(keepAlive / 2, 10);
  v[V.INFLIGHT] = n;
  v[V.SLOT_BYTES] = slotBytes;
  v[V.MAX_SUBS] = subs;
  v[V.SUBS_AT] = V.SLOTS + n * S.SIZE;
  c.window_ = l.txWindow || 1024;
  c.max_ = l.maxPacket || 256;
  c.rxSize_ = rx;
  v[V.PORT] = o.port || 1883;
  v[V.CLEAN] = (o.clean_session !== false) as any;
  c.h_ = server;
  c.s_ = [];
  c.pending = 0;
  // The message view reads the received packets in place.
  const m = (c.m_ = Object.create(MESSAGE));
  m.buf = z;
  // CONNECT (MQTT 3.1), made once: its fields are the options', checked here.
  const w = o.will;
  const id = o.client_id === undefined ? "wisp" + (((p ? p.time() : getTime()) * 1e6) % 1e9 | 0).toString(36) + (((p ? p.random() : Math.random()) * 1e6) | 0) : o.client_id;
  const wq = w ? w.qos || 0 : 0;
  // Value, kind and name of each field CONNECT may carry (MQTT 3.1.3): undefined ones are left out.
  const fields = [id, Kind.TEXT, "client_id", w && (w.topic || ""), Kind.TOPIC, "will.topic", w && (w.message || ""), Kind.BYTES, "will.message", o.username, Kind.TEXT, "username", o.password, Kind.BYTES, "password"];
  if (!(wq >= 0 && wq < 3 && (wq | 0) === wq && keepAlive >= 0 && keepAlive < 65536 && (keepAlive | 0) === keepAlive)) throw new Error("MQTT: bad option: will.qos or keep_alive");
  let body = "";
  for (let i = 0; i < fields.length; i += 3) {
    if (fields[i] === undefined) continue;
    const f = op(Op.FIELD, c, fields[i], fields[i + 1], 1);
    if (typeof f !== "string") throw new Error("MQTT: bad option: " + errorText(f) + " (" + fields[i + 2] + ")");
    body += f;
  }
  const flags = (v[V.CLEAN] ? 2 : 0) | (w ? 4 | (wq << 3) | (w.retain ? 32 : 0) : 0) | (o.username !== undefined ? 128 : 0) | (o.password !== undefined ? 64 : 0);
  body = "\x00\x04MQTT\x04" + fromCharCode(flags, keepAlive >> 8, keepAlive & 255) + body;
  c.k_ = op(Op.HEADER, c, 0x10, body.length) + body;
  return c;
}

/** Calls the listeners of `event` (added with Espruino's own `on`, kept in "#on<event>") with up to
 *  two arguments, at once, with `this` = the client. */
export function emit(this: any, event: string, a?: any, b?: any): void {
  const l = this["#on" + event];
  if (typeof l === "function") l.call(this, a, b);
  else if (l) for (let i = 0; i < l.length; i++) l[i].call(this, a, b);
}

/** On a client: connects, and keeps reconnecting (if enabled) until disconnect(); while connecting or
 *  waiting to reconnect, calling it again changes nothing. On the module (Espruino's MQTT shortcut):
 *  create(options.host, options), then connect(). */
export function connect(this: any, options?: Options & { host: string }): any {
  if (!this.v_) {
    const client = create(options!.host, options);
    client.connect();
    return client;
  }
  if (this.state_ !== State.IDLE) return;
  this.i_ = (this.p_ || global).setInterval(onSocketEvent, Tick.MS, this);
  this.v_[V.ATTEMPTS] = 0;
  op(Op.OPEN, this);
}

/** Sends DISCONNECT (MQTT 3.14), closes, stops reconnecting; queued QoS 1 messages stay for the next
 *  connect(). */
export function disconnect(this: any): void {
  if (!this.state_) return;
  if (this.connected) this.c_.write("\xe0\x00");
  op(Op.DROP, this, Err.CONNECTION_LOST, false);
}

/** Publishes (MQTT 3.3): returns the packet id (QoS 1) or 0, or a negative Err, also reported as an
 *  `error` event (bad arguments; QoS 2 is BAD_QOS in this edition) or a `busy` event (BUSY: no free
 *  slot, or txWindow bytes written and not yet drained; retry on `puback` / `drain`). QoS 0 while
 *  offline is NOT_CONNECTED; QoS 1 is queued. */
export function publish(this: any, topic: string, message: any, options?: { qos?: number; retain?: boolean }): number {
  // The hot path, all its text: QoS 0, a byte string, the last topic, a one-byte Remaining Length.
  if (options || typeof message !== "string" || topic !== this.pt_ || !this.connected) return op(Op.PUBLISH, this, topic, message, options);
  const f = this.pf_;
  const rem = f.length + message.length;
  if (rem > 127 || (isUTF8 && isUTF8(message))) return op(Op.PUBLISH, this, topic, message, options);
  if (this.sent_ - this.drained_ > this.window_) {
    this.emit("busy", topic);
    return Err.BUSY;
  }
  this.c_.write(fromCharCode(48, rem) + f + message);
  this.sent_ += rem + 2;
  return 0;
}

/** Subscribes to a filter or a list (MQTT 3.8) at QoS 0 or 1; `handler` gets each matching message as
 *  the reused Message view (session/message.ts). `subscribed` / `subscribed_fail` follow the SUBACK.
 *  Returns 0 or an Err. */
export function subscribe(this: any, filters: string | string[], options?: { qos?: number }, handler?: (m: any) => void): number {
  const c = this;
  const qos = (options && options.qos) || 0;
  const list = typeof filters === "string" ? [filters] : filters;
  const subs = c.s_;
  if (!list || !list.length) return op(Op.FAIL, c, Err.BAD_ARGUMENT);
  if (qos !== 0 && qos !== 1) return op(Op.FAIL, c, Err.BAD_QOS);
  const bytes: string[] = [];
  let added = subs.length / Sub.SIZE;
  for (let i = 0; i < list.length; i++) {
    const b = op(Op.FIELD, c, list[i], Kind.TEXT);
    // A filter: not empty, '#' only as the last level, '+' only as a whole level (MQTT 4.7.1). The '/'
    // in the classes is escaped: Espruino's lexer ends a regex at the first '/' even inside a class.
    if (typeof b !== "string" || !b.length || /[^\/]#|#.|[^\/]\+|\+[^\/]/.test(b)) return op(Op.FAIL, c, typeof b === "string" || b === Err.BAD_STRING ? Err.BAD_FILTER : b);
    if (subs.indexOf(b) < 0 && bytes.indexOf(b) < 0) added++;
    bytes.push(b);
  }
  if (added > c.v_[V.MAX_SUBS]) return op(Op.FAIL, c, Err.BUSY);
  for (let i = 0; i < bytes.length; i++) {
    let k = subs.indexOf(bytes[i]);
    if (k < 0) {
      k = subs.length;
      subs.push(bytes[i], undefined, -1);
      c.v_[c.v_[V.SUBS_AT] + k / Sub.SIZE] = 0;
    }
    if (handler) subs[k + 1] = handler;
    // Sent when new or at another QoS.
    if (subs[k + 2] !== qos) {
      subs[k + 2] = qos;
      if (c.connected) op(Op.SEND_SUBSCRIBE, c, k);
    }
  }
  return 0;
}

/** Unsubscribes (MQTT 3.10): matching stops at once; `unsubscribed` follows the UNSUBACK. */
export function unsubscribe(this: any, filters: string | string[]): number {
  const c = this;
  const list = typeof filters === "string" ? [filters] : filters;
  if (!list || !(list.length >= 0)) return op(Op.FAIL, c, Err.BAD_ARGUMENT);
  const v = c.v_;
  for (let i = 0; i < list.length; i++) {
    const b = op(Op.FIELD, c, list[i], Kind.TEXT);
    const k = c.s_.indexOf(b);
    if (k < 0) continue;
    c.s_.splice(k, Sub.SIZE);
    const q = v[V.SUBS_AT] + k / Sub.SIZE;
    v.set(v.subarray(q + 1), q); // the SUBACK-awaited ids are last in v
    if (c.connected) op(Op.SEND_SUBSCRIBE, c, -1, b);
  }
  return 0;
}

/** What a client inherits: the module's own exports where the build is the module (dist/wisp.js: no
 *  second object), else an object of the methods (firmware). */
const CLIENT: any = MODULE ? exports : { connect: connect, disconnect: disconnect, publish: publish, subscribe: subscribe, unsubscribe: unsubscribe, emit: emit, onSocket_: onSocketEvent, onData_: onData };

// The socket listeners, which op (in wisp-cold) reaches through a client.
export { onSocketEvent as onSocket_, onData as onData_ };
