// Test-side glue: the codec build, the Err names from firmware/errors.ts, and converters between
// mqtt-packet's object shape and Wisp's encode calls / decoded views.
import { readFileSync } from "node:fs";
import * as codec from "../../dist/test/codec.mjs";

export { codec };

/** Err name → number, read from the one error enum. */
export const Err = Object.fromEntries(
  [...readFileSync(new URL("../../firmware/errors.ts", import.meta.url), "utf8").matchAll(/^\s*(\w+) = (-\d+),/gm)].map((m) => [m[1], Number(m[2])]),
);
/** Err number → name. */
export const errName = (n) => Object.keys(Err).find((k) => Err[k] === n) ?? String(n);

export const TYPES = { connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7, subscribe: 8, suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14 };
const CMD = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));

const asBytes = (p) => (p == null ? "" : typeof p === "string" ? p : new Uint8Array(p));

/** Encodes a packet given in mqtt-packet's shape with Wisp's encoders; returns the end offset or an Err. */
export function encodeFromPacket(buf, off, p) {
  switch (p.cmd) {
    case "connect":
      return codec.encodeConnect(buf, off, p.clientId, p.keepalive, p.clean, p.will ? p.will.topic : "",
        p.will ? asBytes(p.will.payload) : "", p.will ? p.will.qos : 0, p.will ? !!p.will.retain : false,
        p.username || "", p.password == null ? "" : asBytes(p.password));
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
    case "connack": return { cmd, sessionPresent: v.sessionPresent, returnCode: v.returnCode };
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
