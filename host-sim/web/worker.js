// The page's MQTT side, in a Web Worker so that hundreds of messages a second never take the page's
// frames: the npm mqtt client's browser build over WebSockets, subscribed to
// wisp/+/{telemetry,status,event}; every payload is checked here and what is good goes to the page
// in batches (at most 20 a second) as {kind: "telemetry"|"status"|"event"|"bad"|"broker"|"sent", …}.
// The page sends {type: "connect", wsUrl} once, then {type: "publish", topic, text, ref}.
"use strict";
importScripts("/vendor/mqtt.min.js");

const BATCH_MS = 50;
const decoder = new TextDecoder();
let client = null;
let batch = [];
let flushTimer = 0;

function post(item) {
  batch.push(item);
  if (!flushTimer) flushTimer = setTimeout(flush, BATCH_MS);
}

function flush() {
  flushTimer = 0;
  const items = batch;
  batch = [];
  postMessage(items);
}

const isNum = (v) => typeof v === "number" && isFinite(v);
const numbers = (a, n) => Array.isArray(a) && a.length === n && a.every(isNum);
const str = (v) => (typeof v === "string" ? v.trim() : null);

/** A telemetry payload checked: quadruped {app, n, gait, speed, heading, safe, j, imu, bat} or
 *  sensor {app, n, t, h, p, bat}; throws an Error saying what is wrong. Strings are trimmed (the
 *  firmware pads its fixed-layout JSON with spaces). */
function parseTelemetry(text) {
  const o = parseObject(text);
  if ("j" in o || "gait" in o) {
    if (!isNum(o.n)) throw new Error('"n" is not a number');
    if (typeof o.gait !== "string" || !o.gait.trim() || o.gait.length > 32) throw new Error('"gait" is not a gait name');
    if (!isNum(o.speed) || !isNum(o.heading)) throw new Error('"speed" or "heading" is not a number');
    if (!numbers(o.j, 12)) throw new Error('"j" is not 12 joint angles');
    if (!numbers(o.imu, 6)) throw new Error('"imu" is not 6 numbers');
    if (!isNum(o.bat)) throw new Error('"bat" is not a number');
    return { app: "quadruped", n: o.n, gait: o.gait.trim(), speed: o.speed, heading: o.heading, safe: !!o.safe, j: o.j, imu: o.imu, bat: o.bat };
  }
  if (isNum(o.n) && isNum(o.t) && isNum(o.h) && isNum(o.p) && isNum(o.bat)) return { app: "sensor", n: o.n, t: o.t, h: o.h, p: o.p, bat: o.bat };
  throw new Error("neither quadruped nor sensor telemetry");
}

/** wisp/<device>/event checked: {ack, speed?, heading?}, {error} or {event, detail}. */
function parseEvent(text) {
  const e = parseObject(text);
  if (str(e.ack) !== null) return { ack: str(e.ack), speed: isNum(e.speed) ? e.speed : null, heading: isNum(e.heading) ? e.heading : null };
  if (str(e.error) !== null) return { error: str(e.error) };
  if (str(e.event) !== null) {
    const detail = Object.keys(e).filter((k) => k !== "event").map((k) => `${k} ${clip(JSON.stringify(e[k]), 40)}`).join(", ");
    return { event: str(e.event), detail };
  }
  throw new Error("event has no ack, error or event");
}

function parseObject(text) {
  let o;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error("not JSON");
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new Error("not a JSON object");
  return o;
}

const clip = (s, n) => (s.length > n ? s.slice(0, n) + "…" : s);
const printable = (s) => s.replace(/[\x00-\x1f\x7f-\x9f\ufffd]/g, "·");

function bad(topic, why, text) {
  post({ kind: "bad", text: `bad data on ${clip(printable(topic), 80)}: ${why} — ${JSON.stringify(clip(printable(text), 60))}` });
}

function onMessage(topic, payload) {
  const at = Date.now();
  const parts = topic.split("/");
  const text = decoder.decode(payload);
  if (parts.length !== 3 || parts[0] !== "wisp" || !parts[1]) return bad(topic, "unexpected topic", text);
  const id = parts[1];
  const kind = parts[2];
  try {
    if (kind === "telemetry") post({ kind, id, at, t: parseTelemetry(text) });
    else if (kind === "event") post({ kind, id, at, e: parseEvent(text) });
    else if (kind === "status") {
      const s = text.trim();
      if (s !== "online" && s !== "offline") throw new Error("status is neither online nor offline");
      post({ kind, id, at, status: s });
    } else throw new Error("unknown topic kind");
  } catch (e) {
    bad(topic, e.message, text);
  }
}

function connect(wsUrl) {
  client = mqtt.connect(wsUrl, { clientId: "wisp-page-" + Math.random().toString(16).slice(2, 10), reconnectPeriod: 1000, connectTimeout: 5000, clean: true });
  const state = (s, cls) => post({ kind: "broker", state: s, cls });
  state("connecting", "warn");
  client.on("connect", () => {
    state("connected", "ok");
    client.subscribe(["wisp/+/telemetry", "wisp/+/status", "wisp/+/event"], { qos: 0 }, (err) => {
      if (err) post({ kind: "bad", text: `subscribe failed: ${err.message}` });
    });
  });
  client.on("reconnect", () => state("reconnecting", "warn"));
  client.on("offline", () => state("offline", "bad"));
  client.on("close", () => { if (!client.connected) state("disconnected", "bad"); });
  client.on("error", (e) => post({ kind: "bad", text: `broker: ${e.message}` }));
  client.on("message", (topic, payload) => {
    try {
      onMessage(topic, payload);
    } catch (e) {
      post({ kind: "bad", text: `could not handle ${clip(printable(topic), 80)}: ${e.message}` });
    }
  });
}

onmessage = (m) => {
  const msg = m.data;
  if (msg.type === "connect" && !client) connect(msg.wsUrl);
  else if (msg.type === "publish" && client) {
    client.publish(msg.topic, msg.text, { qos: 1 }, (err) => post({ kind: "sent", ref: msg.ref, error: err ? err.message : null }));
  }
};
