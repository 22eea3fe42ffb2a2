// The compact MQTT 3.1.1 session (dist/wisp.js, the ESP8266 firmware): the same API, wire format and
// session rules as the layered client (client.ts over codec/), written for a 1,600-JsVar heap. On
// Espruino every function object costs about 7 JsVars and every parameter about 1 (README, "What
// things cost"), so this edition is ten functions: the client's methods live on the module's `exports`
// (a client is Object.create(exports): no constructor, no prototype object) and everything else —
// every socket event, the tick, framing, control packets, connection life, encoding of the rare
// packets, `emit` — is one function, onEvent, told apart by its arguments. Encoding writes each
// packet as the one byte string the socket write needs; a QoS 1 packet is also copied into its slot of
// the one receive/slot buffer; decoding reads that buffer in place. Numbers live in one Float64Array.
// Left out, each answering a clear Err: QoS 2 (publish or subscribe at QoS 2: BAD_QOS; an incoming
// QoS 2 PUBLISH is acknowledged with PUBREC and delivered at least once) and TLS (BAD_ARGUMENT). The
// `limits.txBuffer` of the layered client has no use here (no transmit buffer).
import { Err, errorText } from "../errors";
import { MODULE } from "wisp-target";
import { topicMatches } from "../codec/topic";
import type { Platform } from "../platform";
import type { Limits, Options } from "./types";

export { errorText };

/** The module object (dist/wisp.js), which a client inherits its methods from; firmware has none. */
declare const exports: any;

const enum State { IDLE = 0, OPENING = 1, CONNACK_WAIT = 2, CONNECTED = 3, BACKOFF = 4 }
/** In-flight slot states (MQTT 4.3.2): a PUBLISH to send, sent and awaiting PUBACK. */
const enum Slot { FREE = 0, QUEUED = 1, SENT = 2 }
/** Indexes into the client's numbers (v_): settings from the options, then state; slot i's four
 *  numbers (S) start at SLOTS + 4 i, then one SUBACK-awaited packet id per subscription. */
const enum V {
  STATE = 0, HELD = 1, SKIP = 2, SENT = 3, DRAINED = 4, WINDOW = 5, MAX_PACKET = 6, RX_SIZE = 7,
  RECEIVED = 8, LAST_SENT = 9, LAST_RECEIVED = 10, PING_AT = 11, SENT_SEEN = 12, KEEPALIVE = 13,
  ATTEMPTS = 14, SERVER = 15, SINCE = 16, RECONNECT_AT = 17, NEXT_ID = 18, SEQ = 19, INFLIGHT = 20,
  SLOT_BYTES = 21, MAX_SUBS = 22, PORT = 23, CLEAN = 24, SUBS_AT = 25, CONNECT_TIMEOUT = 26,
  PING_TIMEOUT = 27, RECONNECT = 28, RECONNECT_MIN = 29, RECONNECT_MAX = 30, TLS = 31, SLOTS = 32,
}
/** A slot's numbers: packet length, id, Slot state, sequence (oldest first). */
const enum S { LEN = 0, ID = 1, STATE = 2, SEQ = 3, SIZE = 4 }
/** onEvent's cold operations (a string first argument is an event to emit instead). */
const enum Op {
  TICK = 1, OPEN = 2, OPENED = 3, CLOSED = 4, DROP = 5, FAIL = 6, CONTROL = 7, CONNACK = 8, FLUSH = 9,
  NEXT_ID = 10, SEND_SUBSCRIBE = 11, FIELD = 12, HEADER = 13, TOTAL = 14, OVERSIZE = 15, FIND_SUB = 16,
  DRAIN = 17,
}
/** FIELD's kinds: any bytes (payloads, password), a UTF-8 string, a topic name. */
const enum Kind { BYTES = 0, TEXT = 1, TOPIC = 2 }
/** Milliseconds between ticks of the one periodic timer: keepalive, timeouts, reconnect. */
const enum Tick { MS = 250 }
/** Entries per subscription in s_: filter as UTF-8 bytes, handler, QoS. */
const enum Sub { SIZE = 3 }

/** E.isUTF8, looked up once (finding a built-in by name costs the interpreter about as much as the call). */
const isUTF8 = E.isUTF8;
/** The Espruino platform: its natives, made when the first client needs them (Platform). */
let natives: Platform | undefined;
/** What every received-message view inherits: its two methods (session/message.ts Message). */
const MESSAGE = {
  /** The topic as a string (UTF-8 flagged where the build has Unicode). */
  topic: function (this: any): string { return E.asUTF8 ? E.asUTF8(this.t_) : this.t_; },
  /** The payload as a byte string. */
  text: function (this: any): string { return E.toString(this.buf.subarray(this.payloadStart, this.payloadEnd)); },
};

/** Every socket event, the tick, the cold operations and `emit`, told apart by the arguments:
 *  - a socket listener (`this` = the socket, c undefined): k a byte string of received data, a
 *    boolean (close), an object (error), or the socket / nothing (open, drain);
 *  - the tick: k is the client (setInterval passes it);
 *  - an event: k its name, c the client, a and b its arguments;
 *  - a cold operation: k an Op, c the client, a, b and d its arguments. */
function onEvent(this: any, k: any, c?: any, a?: any, b?: any, d?: any): any {
  let v: Float64Array, z: Uint8Array, i: number, j: number, n: number, x: number, q: number, t: any, l: any, s: any, u: any;
  if (c === undefined) {
    s = this;
    if (typeof k === "string") {
      // Received bytes, framed into packets in the receive buffer (MQTT 2.2): a piece of the chunk as
      // large as the room left is copied in at once, then every whole packet in the buffer is handled
      // in place; a QoS 0/1 PUBLISH here (the packets that come by the thousand), the rest by CONTROL.
      c = s.h;
      if (!c || c.c_ !== s) return;
      v = c.v_;
      z = c.z_;
      v[V.RECEIVED] = 1;
      for (i = 0, n = 0; i < k.length; i += n) {
        if (v[V.SKIP]) {
          // The rest of a packet too large to hold.
          n = Math.min(v[V.SKIP], k.length - i);
          v[V.SKIP] -= n;
          continue;
        }
        let h = v[V.HELD];
        n = Math.min(k.length - i, v[V.RX_SIZE] - h);
        const piece = n === k.length ? k : k.substring(i, i + n);
        const at = h;
        z.set(piece as any, h);
        h += n;
        let st = 0;
        while (h - st > 1) {
          // Total length: header, Remaining Length (MQTT 2.2.3), body.
          let total = z[st + 1] < 128 ? z[st + 1] + 2 : onEvent(Op.TOTAL, c, st, h);
          if (total < 0) {
            onEvent(Op.FAIL, c, total);
            return onEvent(Op.DROP, c, total, true);
          }
          if (!total) break;
          if (total > v[V.MAX_PACKET]) {
            total = onEvent(Op.OVERSIZE, c, st, h, total);
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
          if (x >> 4 !== 3 || v[V.STATE] !== State.CONNECTED || q === 3 || ps > e || te === b0 + 2 || (q ? !id : x & 8)) onEvent(Op.CONTROL, c, st, e);
          else {
            // PUBLISH (MQTT 3.3): the topic and payload from the piece when the packet is in it (a
            // substring costs a third of a string made from the buffer).
            t = st >= at ? piece.substr(b0 + 2 - at, te - b0 - 2) : E.toString(z.subarray(b0 + 2, te));
            if (t !== c.rt_) {
              // A new topic: checked once (MQTT-3.3.2-2, MQTT 1.5.3), then kept with its text form.
              l = onEvent(Op.FIELD, c, t, Kind.TOPIC);
              if (typeof l !== "string") {
                onEvent(Op.FAIL, c, l);
                return onEvent(Op.DROP, c, l, true);
              }
              c.rt_ = t;
              c.ru_ = E.asUTF8 && E.isUTF8 && /[\x80-\xff]/.test(t) ? E.asUTF8(t) : t;
            }
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
              // emit("message", topic, payload), inlined: one call fewer per message.
              t = st >= at ? piece.substr(ps - at, e - ps) : E.toString(z.subarray(ps, e));
              if (typeof l === "function") l.call(c, c.ru_, t);
              else if (l) for (j = 0; j < l.length; j++) l[j].call(c, c.ru_, t);
              // The `publish` event of Espruino's MQTT module (its object allocates).
              if (u) onEvent("publish", c, { topic: c.ru_, message: t, qos: q, retain: (x & 1) === 1, dup: (x & 8) === 8 });
            }
            // PUBACK (MQTT 4.3.2), or PUBREC for QoS 2 (delivered at least once in this edition); the
            // handlers may have dropped the connection.
            if (q && c.c_ === s) {
              s.write(String.fromCharCode(q === 1 ? 0x40 : 0x50, 2, id >> 8, id & 255));
              v[V.SENT] += 4;
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
        v[V.HELD] = h;
      }
      return;
    }
    if (k && k.v_) return onEvent(Op.TICK, k); // the client: sockets have no such property
    c = s.h;
    if (c.c_ !== s) return; // an event of a socket the client has let go
    if (typeof k === "boolean" || (k && k !== s)) return onEvent(Op.CLOSED, c, k);
    return onEvent(c.v_[V.STATE] === State.OPENING ? Op.OPENED : Op.DRAIN, c);
  }
  if (typeof k === "string") {
    // emit(k, a, b): the listeners Espruino's own `on` keeps in "#on<event>", with `this` = the client.
    l = c["#on" + k];
    if (typeof l === "function") l.call(c, a, b);
    else if (l) for (i = 0; i < l.length; i++) l[i].call(c, a, b);
    return;
  }
  v = c.v_;
  z = c.z_;
  const p: Platform = c.p_;
  n = v[V.INFLIGHT];
  const slots = v[V.RX_SIZE];
  switch (k) {
    case Op.TICK: {
      // Reconnect after backoff, connect timeout, keepalive (MQTT 3.1.2.10). What was sent or received
      // since the last tick counts from that tick: never later than it happened (MQTT-3.1.2-23).
      const now = p.time();
      const tick = Tick.MS / 1000;
      if (v[V.SENT] !== v[V.SENT_SEEN]) {
        v[V.SENT_SEEN] = v[V.SENT];
        v[V.LAST_SENT] = now - tick;
      }
      if (v[V.RECEIVED]) {
        v[V.RECEIVED] = 0;
        v[V.LAST_RECEIVED] = now - tick;
      }
      x = v[V.STATE];
      t = v[V.KEEPALIVE];
      if (x === State.BACKOFF) {
        if (now >= v[V.RECONNECT_AT]) onEvent(Op.OPEN, c);
      } else if (x === State.OPENING || x === State.CONNACK_WAIT) {
        if (now - v[V.SINCE] > v[V.CONNECT_TIMEOUT] / 1000) {
          onEvent(Op.FAIL, c, Err.TIMEOUT);
          onEvent(Op.DROP, c, Err.TIMEOUT, true);
        }
      } else if (x === State.CONNECTED && t) {
        if (v[V.PING_AT]) {
          // Anything received since the PINGREQ shows the link alive.
          if (v[V.LAST_RECEIVED] >= v[V.PING_AT]) v[V.PING_AT] = 0;
          else if (now - v[V.PING_AT] > (v[V.PING_TIMEOUT] || Math.min(t * 500, 10000)) / 1000) {
            onEvent(Op.FAIL, c, Err.TIMEOUT);
            return onEvent(Op.DROP, c, Err.TIMEOUT, true);
          }
        }
        // PINGREQ within the keepalive of the last packet sent (MQTT-3.1.2-23), and of the last received.
        if (!v[V.PING_AT] && (now - v[V.LAST_SENT] >= t - 2 * tick || now - v[V.LAST_RECEIVED] >= t - 2 * tick)) {
          c.c_.write("\xc0\x00");
          v[V.SENT] += 2;
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
        onEvent("error", c, "TLS is not in this build (dist/wisp-esp32.js has it)", Err.BAD_ARGUMENT);
        return onEvent(Op.DROP, c, Err.BAD_ARGUMENT, false);
      }
      t = t.split("//").pop();
      i = t.lastIndexOf(":");
      v[V.STATE] = State.OPENING;
      v[V.SINCE] = p.time();
      try {
        s = p.connect({ host: i > 0 ? t.slice(0, i) : t, port: i > 0 ? +t.slice(i + 1) : v[V.PORT] }, onEvent as any);
      } catch (e) {
        onEvent("error", c, "connection refused", Err.CONNECTION_LOST);
        return onEvent(Op.DROP, c, Err.CONNECTION_LOST, true);
      }
      s.h = c;
      s.on("data", onEvent);
      s.on("drain", onEvent);
      s.on("close", onEvent);
      s.on("error", onEvent);
      c.c_ = s;
      return;
    }
    case Op.OPENED:
      // The TCP connection is up: CONNECT (MQTT 3.1), made at create.
      v[V.STATE] = State.CONNACK_WAIT;
      v[V.SINCE] = p.time();
      c.c_.write(c.k_);
      v[V.SENT] += c.k_.length;
      return;
    case Op.CLOSED:
      // `close` gives a boolean, `error` an object with a message.
      c.c_ = null;
      if (v[V.HELD] || v[V.SKIP]) onEvent("error", c, "truncated packet", Err.MALFORMED);
      else if (v[V.STATE] !== State.CONNECTED) onEvent("error", c, "connection closed before CONNACK" + (a && a.message ? ": " + a.message : ""), Err.CONNECTION_LOST);
      return onEvent(Op.DROP, c, Err.CONNECTION_LOST, true);
    case Op.DROP: {
      // Ends the connection (nothing more of it is handled) and, with b and reconnect on, waits to
      // reconnect with exponential backoff and jitter, on the next broker; a is the reason.
      x = c.connected;
      c.connected = false;
      s = c.c_;
      c.c_ = null;
      if (s) s.end();
      v[V.HELD] = v[V.SKIP] = v[V.PING_AT] = 0;
      for (j = 0; j < v[V.MAX_SUBS]; j++) v[v[V.SUBS_AT] + j] = 0; // a SUBACK that never came
      if (b && v[V.RECONNECT]) {
        t = Math.min(v[V.RECONNECT_MAX], v[V.RECONNECT_MIN] * Math.pow(2, Math.min(v[V.ATTEMPTS], 16)));
        v[V.ATTEMPTS]++;
        v[V.SERVER]++;
        v[V.STATE] = State.BACKOFF;
        v[V.RECONNECT_AT] = p.time() + (t * (0.5 + p.random() / 2)) / 1000;
      } else {
        if (c.i_) p.clearInterval(c.i_);
        c.i_ = null;
        v[V.STATE] = State.IDLE;
      }
      if (x) onEvent("disconnected", c, errorText(a), a);
      return;
    }
    case Op.FAIL:
      onEvent("error", c, errorText(a), a);
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
        if (i + 2 - a <= v[V.MAX_PACKET]) {
          if (b < i + 2) return -1;
          id = (z[i] << 8) | z[i + 1];
        }
      }
      if (b - a >= d) t = a + d;
      else {
        v[V.SKIP] = d - (b - a);
        t = b;
      }
      onEvent(Op.FAIL, c, Err.PACKET_TOO_LARGE);
      if (id && c.connected) {
        c.c_.write(String.fromCharCode(x & 4 ? 0x50 : 0x40, 2, id >> 8, id & 255));
        v[V.SENT] += 4;
      }
      return t;
    }
    case Op.CONTROL: {
      // Every packet but a well-formed PUBLISH while connected, whole in z[a, b): checked as the codec
      // checks it (MQTT 2, 3.2–3.13, client side), then handled; anything malformed or out of order
      // is an error that drops the connection.
      x = v[V.STATE];
      if (x !== State.CONNECTED && x !== State.CONNACK_WAIT) return; // a dropped connection's
      t = z[a] >> 4;
      q = z[a] & 15;
      j = a + 2;
      while (z[j - 1] & 128) j++;
      l = b - j;
      const id = (z[j] << 8) | z[j + 1];
      let err = 0;
      if (t === 3) {
        // PUBLISH: the first failing check, as decodePacket reports it.
        i = j + 2 + ((z[j] << 8) | z[j + 1]);
        err = (q & 6) === 6 ? Err.BAD_QOS : !(q & 6) && q & 8 ? Err.BAD_FLAGS : l < 2 || i + (q & 6 ? 2 : 0) > b ? Err.MALFORMED : i === j + 2 ? Err.BAD_TOPIC : q & 6 && !((z[i] << 8) | z[i + 1]) ? Err.BAD_PACKET_ID : 0;
        if (!err && x === State.CONNACK_WAIT) err = Err.PROTOCOL;
      } else if (t === 2 || t === 4 || t === 5 || t === 6 || t === 7 || t === 11) err = q !== (t === 6 ? 2 : 0) ? Err.BAD_FLAGS : l !== 2 ? Err.MALFORMED : t === 2 ? (z[j] & 0xfe ? Err.MALFORMED : z[j + 1] > 5 ? Err.BAD_RETURN_CODE : 0) : id ? 0 : Err.BAD_PACKET_ID;
      else if (t === 9) {
        err = q ? Err.BAD_FLAGS : l < 3 ? Err.MALFORMED : !id ? Err.BAD_PACKET_ID : 0;
        for (i = j + 2; i < b && !err; i++) if (z[i] > 2 && z[i] !== 0x80) err = Err.BAD_RETURN_CODE; // MQTT 3.9.3
      } else if (t === 13) err = q ? Err.BAD_FLAGS : l ? Err.MALFORMED : 0;
      else err = Err.UNEXPECTED_PACKET;
      // Out of order: the first packet is CONNACK, and only once (MQTT-3.2.0-1).
      if (!err && (x === State.CONNACK_WAIT) !== (t === 2)) err = Err.PROTOCOL;
      if (err) {
        onEvent(Op.FAIL, c, err);
        return onEvent(Op.DROP, c, err, true);
      }
      if (t === 2) return onEvent(Op.CONNACK, c, z[j], z[j + 1]);
      if (t === 4) {
        // PUBACK: frees the slot awaiting it.
        for (i = 0; i < n; i++) {
          s = V.SLOTS + i * S.SIZE;
          if (v[s + S.ID] === id && v[s + S.STATE] === Slot.SENT) {
            v[s + S.STATE] = Slot.FREE;
            c.pending--;
            onEvent("puback", c, id);
            return onEvent(Op.FLUSH, c);
          }
        }
      } else if (t === 5 || t === 6) {
        // PUBREC (for no QoS 2 of ours: PUBREL all the same, MQTT-4.3.3-1) or PUBREL: answered at once.
        c.c_.write(String.fromCharCode(t === 5 ? 0x62 : 0x70, 2, id >> 8, id & 255));
        v[V.SENT] += 4;
      } else if (t === 9) {
        for (i = 0; i < c.s_.length; i += Sub.SIZE) {
          if (v[v[V.SUBS_AT] + i / Sub.SIZE] !== id) continue;
          v[v[V.SUBS_AT] + i / Sub.SIZE] = 0;
          if (z[j + 2] === 0x80) onEvent("subscribed_fail", c, c.s_[i]);
          else onEvent("subscribed", c, c.s_[i], z[j + 2]);
        }
      } else if (t === 11) onEvent("unsubscribed", c, id);
      else if (t === 13) v[V.PING_AT] = 0;
      return;
    }
    case Op.CONNACK: {
      // Refused, or connected (MQTT 3.2); a: flags (session present), b: return code.
      if (b || (v[V.CLEAN] && a)) {
        // Refused (MQTT 3.2.2.3), or a session kept against a clean start (MQTT-3.2.2-1).
        onEvent("error", c, b ? "connection refused: " + ["", "unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"][b] : errorText(Err.PROTOCOL), b ? Err.REFUSED : Err.PROTOCOL);
        return onEvent(Op.DROP, c, b ? Err.REFUSED : Err.PROTOCOL, true);
      }
      v[V.STATE] = State.CONNECTED;
      c.connected = true;
      v[V.ATTEMPTS] = 0;
      v[V.LAST_RECEIVED] = v[V.LAST_SENT] = p.time();
      // Resend what the broker has not acknowledged, with DUP and the original ids (MQTT 4.4).
      for (i = 0; i < n; i++) {
        if (v[V.SLOTS + i * S.SIZE + S.STATE] !== Slot.SENT) continue;
        z[slots + i * v[V.SLOT_BYTES]] |= 8;
        v[V.SLOTS + i * S.SIZE + S.STATE] = Slot.QUEUED;
      }
      // A new session has no subscriptions (MQTT 3.2.2.2).
      if (!a) for (i = 0; i < c.s_.length; i += Sub.SIZE) onEvent(Op.SEND_SUBSCRIBE, c, i);
      onEvent(Op.FLUSH, c);
      onEvent("connected", c, a === 1);
      return;
    }
    case Op.DRAIN:
      v[V.DRAINED] = v[V.SENT];
      if (c.pending) onEvent(Op.FLUSH, c);
      return onEvent("drain", c);
    case Op.FLUSH:
      // Sends queued PUBLISH packets, oldest first, while connected and the send window has room.
      for (;;) {
        j = -1;
        for (i = 0; i < n; i++) if (v[V.SLOTS + i * S.SIZE + S.STATE] === Slot.QUEUED && (j < 0 || v[V.SLOTS + i * S.SIZE + S.SEQ] < v[V.SLOTS + j * S.SIZE + S.SEQ])) j = i;
        if (j < 0 || v[V.STATE] !== State.CONNECTED || v[V.SENT] - v[V.DRAINED] > v[V.WINDOW]) return;
        v[V.SLOTS + j * S.SIZE + S.STATE] = Slot.SENT;
        i = slots + j * v[V.SLOT_BYTES];
        c.c_.write(E.toString(z.subarray(i, i + v[V.SLOTS + j * S.SIZE + S.LEN])));
        v[V.SENT] += v[V.SLOTS + j * S.SIZE + S.LEN];
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
    case Op.SEND_SUBSCRIBE: {
      // SUBSCRIBE for subscription a (then awaiting its SUBACK), or with a < 0 UNSUBSCRIBE for filter
      // bytes b (MQTT 3.8, 3.10).
      x = onEvent(Op.NEXT_ID, c);
      t = String.fromCharCode(x >> 8, x & 255, 0, 0);
      l = a < 0 ? b : c.s_[a];
      t = onEvent(Op.HEADER, c, a < 0 ? 0xa2 : 0x82, l.length + (a < 0 ? 4 : 5)) + t.substr(0, 2) + String.fromCharCode(l.length >> 8, l.length & 255) + l + (a < 0 ? "" : String.fromCharCode(c.s_[a + 2]));
      if (a >= 0) v[v[V.SUBS_AT] + a / Sub.SIZE] = x;
      c.c_.write(t);
      v[V.SENT] += t.length;
      return;
    }
    case Op.FIELD: {
      // a as the bytes of a packet field (MQTT 1.5.3), or an Err: for Kind.BYTES a byte string or a
      // Uint8Array; for TEXT and TOPIC a string (its UTF-8 bytes where flagged UTF-8) that is
      // well-formed UTF-8 without U+0000, at most 65,535 bytes; a TOPIC name is not empty and has no
      // wildcards (MQTT-4.7.3-1, MQTT-3.3.2-2).
      if (b === Kind.BYTES && a instanceof Uint8Array) return E.toString(a);
      if (typeof a !== "string") return b === Kind.TOPIC ? Err.BAD_TOPIC : Err.BAD_ARGUMENT;
      if (E.isUTF8 && E.isUTF8(a)) a = E.fromUTF8!(a);
      if (a.length > 65535) return Err.BAD_STRING;
      if (b === Kind.BYTES) return a;
      if (b === Kind.TOPIC && (!a.length || a.indexOf("#") >= 0 || a.indexOf("+") >= 0)) return Err.BAD_TOPIC;
      if (/[^ -~]/.test(a)) {
        for (i = 0; i < a.length; i++) {
          x = a.charCodeAt(i);
          if (!x) return b === Kind.TOPIC ? Err.BAD_TOPIC : Err.BAD_STRING;
          if (x < 0x80) continue;
          // A lead byte, its continuation bytes, the smallest code point it may carry (no overlong form).
          j = x >= 0xc2 && x <= 0xdf ? 1 : x >= 0xe0 && x <= 0xef ? 2 : x >= 0xf0 && x <= 0xf4 ? 3 : 0;
          if (!j || i + j >= a.length) return Err.BAD_STRING;
          t = x & (0x3f >> j);
          const min = j === 1 ? 0x80 : j === 2 ? 0x800 : 0x10000;
          while (j--) {
            x = a.charCodeAt(++i);
            if ((x & 0xc0) !== 0x80) return Err.BAD_STRING;
            t = (t << 6) | (x & 63);
          }
          if (t < min || t > 0x10ffff || (t >= 0xd800 && t <= 0xdfff)) return Err.BAD_STRING;
        }
      }
      return a;
    }
    case Op.HEADER: {
      // A fixed header (MQTT 2.2): first byte a, Remaining Length b (MQTT 2.2.3), as a byte string.
      t = String.fromCharCode(a);
      do {
        x = b & 127;
        b = Math.floor(b / 128);
        t += String.fromCharCode(b ? x | 128 : x);
      } while (b);
      return t;
    }
    case Op.FIND_SUB:
      // The index in s_ of the subscription to filter bytes a, or -1 (only entries 0 mod Sub.SIZE are filters).
      for (i = 0; i < c.s_.length; i += Sub.SIZE) if (c.s_[i] === a) return i;
      return -1;
  }
}

/** Creates a client for `server` ("host", "host:port", or a list to fail over between); see Options.
 *  Limits the options do not give are an ESP8266's. Throws on options it cannot send (a bad client id,
 *  will or user name): a mistake in the program, not in the network. */
export function create(server: string | string[], options?: Options, limits?: Partial<Limits>): any {
  const o: any = options || {};
  if (typeof server !== "string" && (!server || !server.length || typeof server[0] !== "string")) throw new Error("MQTT: no server");
  const c = Object.create(CLIENT);
  const l: Partial<Limits> = limits || o.limits || {};
  const n = l.inflight || 2;
  const subs = l.maxSubscriptions || 4;
  const rx = (l.maxPacket || 256) + (l.maxChunk || 128);
  const p = (c.p_ = o.platform || natives || (natives = { connect: require("net").connect, time: getTime, setInterval: setInterval, clearInterval: clearInterval, random: Math.random }));
  // The options read later are numbers here, so that the caller's object can go.
  const v = (c.v_ = new Float64Array(V.SLOTS + n * S.SIZE + subs));
  v[V.CONNECT_TIMEOUT] = o.connect_timeout || 10000;
  v[V.PING_TIMEOUT] = o.ping_timeout || 0;
  v[V.RECONNECT] = o.reconnect === false ? 0 : 1;
  v[V.RECONNECT_MIN] = o.reconnect_min || 1000;
  v[V.RECONNECT_MAX] = o.reconnect_max || 60000;
  v[V.TLS] = o.tls ? 1 : 0;
  const keepAlive = (v[V.KEEPALIVE] = o.keep_alive === undefined ? 60 : o.keep_alive);
  v[V.INFLIGHT] = n;
  v[V.SLOT_BYTES] = l.inflightBytes || 128;
  v[V.MAX_SUBS] = subs;
  v[V.SUBS_AT] = V.SLOTS + n * S.SIZE;
  v[V.MAX_PACKET] = l.maxPacket || 256;
  v[V.RX_SIZE] = rx;
  v[V.WINDOW] = l.txWindow || 1024;
  v[V.PORT] = o.port || 1883;
  v[V.CLEAN] = o.clean_session === false ? 0 : 1;
  c.h_ = server;
  c.s_ = [];
  c.connected = false;
  c.pending = 0;
  c.i_ = null;
  c.c_ = null;
  // The receive buffer, then the QoS 1 slots; the message view reads the received packets in place.
  const z = (c.z_ = new Uint8Array(rx + n * v[V.SLOT_BYTES]));
  const m = (c.m_ = Object.create(MESSAGE));
  m.buf = z;
  // CONNECT (MQTT 3.1), made once: its fields are the options', checked here.
  const w = o.will;
  const id = o.client_id === undefined ? "wisp" + ((p.time() * 1e6) % 1e9 | 0).toString(36) + ((p.random() * 1e6) | 0) : o.client_id;
  const wq = w ? w.qos || 0 : 0;
  const fields = [id, Kind.TEXT, w && w.topic, Kind.TOPIC, w && (w.message === undefined ? "" : w.message), Kind.BYTES, o.username, Kind.TEXT, o.password, Kind.BYTES];
  if (wq !== 0 && wq !== 1 && wq !== 2) throw new Error("MQTT: bad option: bad QoS (will.qos)");
  if (!(keepAlive >= 0 && keepAlive <= 65535 && keepAlive % 1 === 0)) throw new Error("MQTT: bad option: bad argument (keep_alive)");
  let body = "";
  for (let i = 0; i < fields.length; i += 2) {
    if ((i === 2 || i === 4) && !w) continue;
    if (i > 4 && fields[i] === undefined) continue;
    const f = onEvent(Op.FIELD, c, fields[i], fields[i + 1]);
    if (typeof f !== "string") throw new Error("MQTT: bad option: " + errorText(f) + " (" + ["client_id", "will.topic", "will.message", "username", "password"][i / 2] + ")");
    body += String.fromCharCode(f.length >> 8, f.length & 255) + f;
  }
  const flags = (v[V.CLEAN] ? 2 : 0) | (w ? 4 | (wq << 3) | (w.retain ? 32 : 0) : 0) | (o.username !== undefined ? 128 : 0) | (o.password !== undefined ? 64 : 0);
  body = "\x00\x04MQTT\x04" + String.fromCharCode(flags, keepAlive >> 8, keepAlive & 255) + body;
  c.k_ = onEvent(Op.HEADER, c, 0x10, body.length) + body;
  return c;
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
  if (this.v_[V.STATE] !== State.IDLE) return;
  this.i_ = this.p_.setInterval(onEvent, Tick.MS, this);
  this.v_[V.ATTEMPTS] = 0;
  onEvent(Op.OPEN, this);
}

/** Sends DISCONNECT (MQTT 3.14), closes, stops reconnecting; queued QoS 1 messages stay for the next
 *  connect(). */
export function disconnect(this: any): void {
  if (!this.v_[V.STATE]) return;
  if (this.connected) this.c_.write("\xe0\x00");
  onEvent(Op.DROP, this, Err.CONNECTION_LOST, false);
}

/** Publishes (MQTT 3.3): returns the packet id (QoS 1) or 0, or a negative Err, also reported as an
 *  `error` event (bad arguments; QoS 2 is BAD_QOS in this edition) or a `busy` event (BUSY: no free
 *  slot, or txWindow bytes written and not yet drained; retry on `puback` / `drain`). QoS 0 while
 *  offline is NOT_CONNECTED; QoS 1 is queued. */
export function publish(this: any, topic: string, message: any, options?: { qos?: number; retain?: boolean }): number {
  const v = this.v_;
  let f = this.pf_;
  // The hot path: QoS 0, a byte string, the last topic, a one-byte Remaining Length.
  if (!options && typeof message === "string" && topic === this.pt_ && this.connected && f.length + message.length < 128 && !(isUTF8 && isUTF8(message))) {
    if (v[V.SENT] - v[V.DRAINED] > v[V.WINDOW]) {
      onEvent("busy", this, topic);
      return Err.BUSY;
    }
    this.c_.write(String.fromCharCode(48, f.length + message.length) + f + message);
    v[V.SENT] += f.length + message.length + 2;
    return 0;
  }
  const qos = options ? options.qos || 0 : 0;
  if (topic !== this.pt_ || !f) {
    f = onEvent(Op.FIELD, this, topic, Kind.TOPIC);
    if (typeof f !== "string") return onEvent(Op.FAIL, this, f);
    this.pt_ = topic;
    this.pf_ = f = String.fromCharCode(f.length >> 8, f.length & 255) + f;
  }
  if (qos !== 0 && qos !== 1) return onEvent(Op.FAIL, this, Err.BAD_QOS);
  let m = onEvent(Op.FIELD, this, typeof message === "number" ? String(message) : message, Kind.BYTES);
  if (typeof m !== "string") return onEvent(Op.FAIL, this, m);
  const rem = f.length + m.length + qos * 2;
  if (rem > 268435455) return onEvent(Op.FAIL, this, Err.PACKET_TOO_LARGE);
  const h = onEvent(Op.HEADER, this, 48 | (qos << 1) | (options && options.retain ? 1 : 0), rem);
  if (!qos) {
    if (!this.connected) return Err.NOT_CONNECTED;
    if (v[V.SENT] - v[V.DRAINED] > v[V.WINDOW]) {
      onEvent("busy", this, topic);
      return Err.BUSY;
    }
    this.c_.write(h + f + m);
    v[V.SENT] += h.length + rem;
    return 0;
  }
  // QoS 1: into a free slot, kept until PUBACK.
  const len = h.length + rem;
  if (len > v[V.SLOT_BYTES]) return onEvent(Op.FAIL, this, Err.PACKET_TOO_LARGE);
  let s = -1;
  for (let i = v[V.INFLIGHT] - 1; i >= 0; i--) if (!v[V.SLOTS + i * S.SIZE + S.STATE]) s = i;
  if (s < 0) {
    onEvent("busy", this, topic);
    return Err.BUSY;
  }
  const id = onEvent(Op.NEXT_ID, this);
  const at = v[V.RX_SIZE] + s * v[V.SLOT_BYTES];
  this.z_.set(h + f + String.fromCharCode(id >> 8, id & 255), at);
  this.z_.set(m, at + len - m.length);
  s = V.SLOTS + s * S.SIZE;
  v[s + S.LEN] = len;
  v[s + S.ID] = id;
  v[s + S.STATE] = Slot.QUEUED;
  v[s + S.SEQ] = ++v[V.SEQ];
  this.pending++;
  onEvent(Op.FLUSH, this);
  return id;
}

/** Subscribes to a filter or a list (MQTT 3.8) at QoS 0 or 1; `handler` gets each matching message as
 *  the reused Message view (session/message.ts). `subscribed` / `subscribed_fail` follow the SUBACK.
 *  Returns 0 or an Err. */
export function subscribe(this: any, filters: string | string[], options?: { qos?: number }, handler?: (m: any) => void): number {
  const qos = (options && options.qos) || 0;
  const list = typeof filters === "string" ? [filters] : filters;
  const subs = this.s_;
  if (!list || typeof list.length !== "number" || !list.length) return onEvent(Op.FAIL, this, Err.BAD_ARGUMENT);
  if (qos !== 0 && qos !== 1) return onEvent(Op.FAIL, this, Err.BAD_QOS);
  const bytes: string[] = [];
  let added = subs.length / Sub.SIZE;
  for (let i = 0; i < list.length; i++) {
    const b = onEvent(Op.FIELD, this, list[i], Kind.TEXT);
    // A filter: not empty, '#' only as the last level, '+' only as a whole level (MQTT 4.7.1). The '/'
    // in the classes is escaped: Espruino's lexer ends a regex at the first '/' even inside a class.
    if (typeof b !== "string" || !b.length || /[^\/]#|#.|[^\/]\+|\+[^\/]/.test(b)) return onEvent(Op.FAIL, this, typeof b === "string" || b === Err.BAD_STRING ? Err.BAD_FILTER : b);
    if (onEvent(Op.FIND_SUB, this, b) < 0 && bytes.indexOf(b) < 0) added++;
    bytes.push(b);
  }
  if (added > this.v_[V.MAX_SUBS]) return onEvent(Op.FAIL, this, Err.BUSY);
  for (let i = 0; i < bytes.length; i++) {
    let k = onEvent(Op.FIND_SUB, this, bytes[i]);
    if (k < 0) {
      k = subs.length;
      subs.push(bytes[i], undefined, -1);
      this.v_[this.v_[V.SUBS_AT] + k / Sub.SIZE] = 0;
    }
    if (handler) subs[k + 1] = handler;
    // Sent when new or at another QoS.
    if (subs[k + 2] !== qos) {
      subs[k + 2] = qos;
      if (this.connected) onEvent(Op.SEND_SUBSCRIBE, this, k);
    }
  }
  return 0;
}

/** Unsubscribes (MQTT 3.10): matching stops at once; `unsubscribed` follows the UNSUBACK. */
export function unsubscribe(this: any, filters: string | string[]): number {
  const list = typeof filters === "string" ? [filters] : filters;
  if (!list || typeof list.length !== "number") return onEvent(Op.FAIL, this, Err.BAD_ARGUMENT);
  const v = this.v_;
  for (let i = 0; i < list.length; i++) {
    const b = onEvent(Op.FIELD, this, list[i], Kind.TEXT);
    const k = typeof b === "string" ? onEvent(Op.FIND_SUB, this, b) : -1;
    if (k < 0) continue;
    this.s_.splice(k, Sub.SIZE);
    const q = v[V.SUBS_AT] + k / Sub.SIZE;
    v.set(v.subarray(q + 1, v[V.SUBS_AT] + v[V.MAX_SUBS]), q);
    if (this.connected) onEvent(Op.SEND_SUBSCRIBE, this, -1, b);
  }
  return 0;
}

/** What a client inherits: the module's own exports where the build is the module (dist/wisp.js: no
 *  second object), else an object of the methods (firmware). */
const CLIENT: any = MODULE ? exports : { connect: connect, disconnect: disconnect, publish: publish, subscribe: subscribe, unsubscribe: unsubscribe };
