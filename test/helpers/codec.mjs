// Test-side glue: the codec build (test/entries/codec.ts) on both of its branches, its Err table, and
// converters between mqtt-packet's object shape and Wisp's encode calls / decoded views.
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { createBareEnv } from "../../host-sim/espruino/env.mjs";
import * as codec from "../../dist/test/codec.mjs";

export { codec };
const defaultCodec = codec;

/** Err name → number, as the build has them (the enum's reverse entries, number → name, left out). */
export const Err = Object.fromEntries(Object.entries(codec.Err).filter(([, v]) => typeof v === "number"));
/** Err number → name. */
export const errName = (n) => Object.keys(Err).find((k) => Err[k] === n) ?? String(n);

export const TYPES = { connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7, subscribe: 8, suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14 };
const CMD = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));

const asBytes = (p) => (p == null ? "" : typeof p === "string" ? p : new Uint8Array(p));

/** Encodes a packet given in mqtt-packet's shape with Wisp's encoders (of `codec`, by default the Node
 *  build); returns the end offset or an Err. */
export function encodeFromPacket(buf, off, p, codec = defaultCodec) {
  switch (p.cmd) {
    case "connect":
      return codec.encodeConnect(buf, off, p.clientId, p.keepalive, {
        clean_session: p.clean, username: p.username, password: p.password == null ? undefined : asBytes(p.password),
        will: p.will ? { topic: p.will.topic, message: asBytes(p.will.payload), qos: p.will.qos, retain: !!p.will.retain } : undefined,
      });
    case "publish":
      return codec.encodePublish(buf, off, p.topic, asBytes(p.payload), p.qos || 0, !!p.retain, !!p.dup, p.messageId || 0);
    case "puback": case "pubrec": case "pubrel": case "pubcomp":
      return codec.encodeAck(buf, off, TYPES[p.cmd], p.messageId);
    case "subscribe":
      return codec.encodeSubscribe(buf, off, p.messageId, p.subscriptions.map((s) => s.topic), p.subscriptions.map((s) => s.qos));
    case "unsubscribe":
      return codec.encodeUnsubscribe(buf, off, p.messageId, p.unsubscriptions);
    case "pingreq":
      return codec.encodePingreq(buf, off);
    case "disconnect":
      return codec.encodeDisconnect(buf, off);
  }
  throw new Error(`no encoder for ${p.cmd}`);
}

/** A decoded view as an object in mqtt-packet's shape (payload as a Buffer). */
export function packetFromView(buf, v) {
  const cmd = CMD[v.type];
  const text = (a, b) => Buffer.from(buf.subarray(a, b)).toString("utf8");
  switch (cmd) {
    case "connack": return { cmd, sessionPresent: buf[v.payloadStart] === 1, returnCode: buf[v.payloadStart + 1] };
    case "publish": {
      const p = { cmd, topic: text(v.topicStart, v.topicEnd), payload: Buffer.from(buf.subarray(v.payloadStart, v.payloadEnd)), qos: v.qos, retain: v.retain, dup: v.dup };
      if (v.qos) p.messageId = v.packetId;
      return p;
    }
    case "suback": return { cmd, messageId: v.packetId, granted: [...buf.subarray(v.payloadStart, v.payloadEnd)] };
    case "pingresp": return { cmd };
    default: return { cmd, messageId: v.packetId };
  }
}

/** Fields of `expected` (mqtt-packet shape), compared with payloads as bytes. */
export function normalize(p) {
  const out = { ...p };
  if ("payload" in out) out.payload = Buffer.from(out.payload ?? "");
  if (out.will) out.will = { ...out.will, payload: Buffer.from(out.will.payload) };
  if (out.password != null) out.password = Buffer.from(out.password);
  return out;
}

/** Keeps only the keys of `shape` from `obj` (mqtt-packet adds length, dup, … to every packet). */
export function pick(obj, shape) {
  return Object.fromEntries(Object.keys(shape).map((k) => [k, obj[k]]));
}

const ES5_BUILD = "dist/test/codec.es5.js";

/** The codec built in ES5 (dist/test/codec.es5.js) running inside the Espruino stand-ins, where
 *  `Uint8Array#set(string)`, `E.isUTF8` and `E.toString` exist, so it takes its native-string branch
 *  (NATIVE_STRING_SET). Called from Node like the Node build: a Node Uint8Array argument is copied into
 *  one of the stand-ins' arrays for the call and copied back after it (encoders write into it); arrays
 *  and objects the codec hands out (Framer, PacketView, onPacket's buffer) are the stand-ins' own. */
export function espruinoCodec() {
  const env = createBareEnv({ modules: { [ES5_BUILD]: readFileSync(new URL(`../../${ES5_BUILD}`, import.meta.url), "utf8") } });
  const inner = env.context.require(ES5_BUILD);
  const U8 = vm.runInContext("Uint8Array", env.context);
  // Node Uint8Arrays become the context's, in plain objects too (encodeConnect's fields).
  const toContext = (a) => (a instanceof Uint8Array ? new U8(a) : a && a.__innerTarget ? a.__innerTarget
    : a && Object.getPrototypeOf(a) === Object.prototype ? Object.fromEntries(Object.entries(a).map(([k, v]) => [k, toContext(v)])) : a);
  const toInner = (args) => args.map(toContext);
  const copyBack = (args, inArgs) => args.forEach((a, i) => { if (a instanceof Uint8Array) a.set(inArgs[i]); });
  const wrap = (v) => {
    if (typeof v === "function") {
      return new Proxy(v, {
        apply(fn, self, args) {
          const inArgs = toInner(args);
          try { return wrap(Reflect.apply(fn, self && self.__innerTarget ? self.__innerTarget : self, inArgs)); } finally { copyBack(args, inArgs); }
        },
        construct(fn, args) { return wrap(Reflect.construct(fn, toInner(args))); },
        get(fn, k) { return k === "__innerTarget" ? fn : wrap(fn[k]); },
      });
    }
    if (v && typeof v === "object" && !(v instanceof U8)) {
      return new Proxy(v, { get: (o, k) => (k === "__innerTarget" ? o : wrap(o[k])) });
    }
    return v;
  };
  return { codec: wrap(inner), ESPRUINO: inner.ESPRUINO };
}

/** The codec's two branches, for suites that run on both: the Node build (JavaScript strings encoded by
 *  hand) and the ES5 build inside the Espruino stand-ins (native string copies). `label` prefixes test
 *  names; `todo(what)` gives node:test options marking a known failure of that branch (none on Node). */
export function codecBranches() {
  const esp = espruinoCodec();
  if (!esp.ESPRUINO) throw new Error(`${ES5_BUILD} is not the Espruino build of the codec`);
  return [
    { name: "node", label: "", codec, todo: () => ({}) },
    { name: "espruino", label: "Espruino branch: ", codec: esp.codec, todo: (what) => (what ? { todo: `codec Espruino branch: ${what}` } : {}) },
  ];
}
