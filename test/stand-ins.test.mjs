// The interpreter's quirks that the Espruino stand-ins (host-sim/espruino/) model, each as a probe: a
// small ES5 program that reports one value. Every probe runs in the stand-ins and must give the value
// measured on Espruino 2v29's Linux builds; with ESPRUINO_BIN set it also runs on that interpreter and
// must give the same, so a stand-in or an interpreter that drifts is caught.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createBareEnv } from "../host-sim/espruino/env.mjs";
import { freePort } from "./helpers/brokers.mjs";
import { ESPRUINO_BIN, runOnEspruino } from "./helpers/espruino.mjs";

const CODES = "function codes(s) { var a = []; for (var i = 0; i < s.length; i++) a.push(s.charCodeAt(i)); return a; }\n";
const WATCH = `function watch(s, ev) {
  s.on("drain", function () { ev.push("drain"); });
  s.on("end", function () { ev.push("end"); });
  s.on("close", function (e) { ev.push("close:" + e); });
  s.on("error", function (e) { ev.push("error:" + e.type); });
}
`;

/** What a probe's server does with each connection: nothing but record, send 2,000 bytes and close, or close at once. */
const SERVERS = {
  sink: () => {},
  send2000: (s) => s.end(Buffer.alloc(2000, 0xc3)),
  closeAtOnce: (s) => s.destroy(),
};

/** Each probe: its program (`port` is its server's, or a refused one), and what the interpreter gave. */
const PROBES = [
  {
    name: "net.connect to a refused port throws at once",
    server: "refused",
    code: (port) => `try { require("net").connect({ host: "127.0.0.1", port: ${port} }); done("no throw"); } catch (e) { done(String(e)); }`,
    measured: "InternalError: Unable to create socket",
  },
  {
    name: "E.isUTF8 of binary and UTF-8 strings",
    code: () => `done([E.isUTF8("abc"), E.isUTF8("\\xc3\\xa9"), E.isUTF8("\\xff"), E.isUTF8("\\u20ac"), E.isUTF8("a\\u20acb")]);`,
    measured: [false, false, false, true, true],
  },
  {
    name: "E.getFlags and E.setFlags: flags as 0 or 1, undefined ignored",
    code: () => `var a = E.getFlags(); E.setFlags({ pretokenise: true }); var b = E.getFlags().pretokenise;
E.setFlags({ pretokenise: undefined }); var c = E.getFlags().pretokenise; E.setFlags({ pretokenise: 0 });
done([a, b, c, E.getFlags().pretokenise]);`,
    measured: [{ deepSleep: 0, unsafeFlash: 0, unsyncFiles: 0, pretokenise: 0, jitDebug: 0, onErrorSave: 0, onErrorFlash: 0 }, 1, 1, 0],
  },
  {
    name: "E.toString with one argument",
    code: () => `${CODES}done([codes(E.toString("abc")), codes(E.toString("a\\u20acb")), codes(E.toString(new Uint8Array([1, 255]))), codes(E.toString([65, 300]))]);`,
    measured: [[97, 98, 99], [97, 8364, 98], [1, 255], [65, 44]],
  },
  {
    name: "E.toString with several arguments takes each string's bytes",
    code: () => `${CODES}done([codes(E.toString("a", 66, [67, 68], "\\u20ac")), codes(E.toString("\\u20ac", "x")), codes(E.toString(new Uint8Array([1]), "\\xff"))]);`,
    measured: [[97, 66, 67, 68, 226, 130, 172], [226, 130, 172, 120], [1, 255]],
  },
  {
    name: "Uint8Array#set(string) copies the string's bytes and truncates",
    code: () => `var u = new Uint8Array(4); u.set("A\\u00ff\\u20ac", 0);
var v = new Uint8Array(8); v.set("A\\u00ff\\u20ac", 1);
var w = new Uint8Array(3); w.set("abcdef", 0);
var x = new Uint8Array(3); x.set("\\xc3\\xa9\\xff", 0);
done([[].slice.call(u), [].slice.call(v), [].slice.call(w), [].slice.call(x)]);`,
    measured: [[65, 195, 191, 226], [0, 65, 195, 191, 226, 130, 172, 0], [97, 98, 99], [195, 169, 255]],
  },
  {
    name: "E.asUTF8 decodes UTF-8 bytes and leaves other bytes",
    code: () => `${CODES}done([codes(E.asUTF8("\\xc3\\xa9")), codes(E.asUTF8("abc")), codes(E.asUTF8("\\xff")), codes(E.asUTF8("a\\xe2\\x82\\xacb"))]);`,
    measured: [[233], [97, 98, 99], [255], [97, 8364, 98]],
  },
  {
    name: "socket write/drain/close order: writes in the connect callback, end() on the first drain",
    server: "sink",
    code: (port) => `${WATCH}var ev = [];
var s = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () {
  ev.push("connect"); ev.push("w1=" + s.write("hello")); ev.push("w2=" + s.write(new Uint8Array([48, 2, 65])));
  var first = true; s.on("drain", function () { if (first) { first = false; s.end(); } });
});
watch(s, ev); ev.push("returned");
setTimeout(function () { done(ev); }, 500);`,
    measured: { value: ["returned", "connect", "w1=false", "w2=false", "drain", "drain", "end", "close:false"], received: "hello48,2,65" },
  },
  {
    name: "socket end() right after writes sends them all, then closes",
    server: "sink",
    code: (port) => `${WATCH}var ev = [];
var s = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { ev.push("connect"); s.write("x"); s.write("yz"); s.end(); ev.push("ended"); });
watch(s, ev);
setTimeout(function () { done(ev); }, 500);`,
    measured: { value: ["connect", "ended", "drain", "end", "close:false"], received: "xyz" },
  },
  {
    name: "socket whose peer closes at once: connect, drain, end, close",
    server: "closeAtOnce",
    code: (port) => `${WATCH}var ev = [];
var s = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { ev.push("connect"); });
watch(s, ev);
setTimeout(function () { done(ev); }, 500);`,
    measured: { value: ["connect", "drain", "end", "close:false"], received: "" },
  },
  {
    name: "incoming data arrive as binary strings of at most 536 bytes, then end and close",
    server: "send2000",
    code: (port) => `${WATCH}var ev = [];
var s = require("net").connect({ host: "127.0.0.1", port: ${port} }, function () { ev.push("connect"); });
watch(s, ev);
s.on("data", function (d) { ev.push(typeof d + " " + d.length + " " + d.charCodeAt(0)); });
setTimeout(function () { done(ev.filter(function (e) { return e !== "drain"; })); }, 500);`,
    measured: { value: ["connect", "string 536 195", "string 536 195", "string 536 195", "string 392 195", "end", "close:false"], received: "" },
  },
  {
    name: "socket listeners' argument: the socket on connect and drain, a boolean on close",
    server: "closeAtOnce",
    code: (port) => `var ev = [];
function arg(name) { return function (a) { ev.push(name + ":" + (a === s ? "socket" : typeof a + " " + a)); }; }
var s = require("net").connect({ host: "127.0.0.1", port: ${port} }, arg("connect"));
s.on("drain", arg("drain")); s.on("close", arg("close"));
setTimeout(function () { done(ev); }, 500);`,
    measured: { value: ["connect:socket", "drain:socket", "close:boolean false"], received: "" },
  },
  {
    name: "any object's events: on() keeps an array in #on<event>, emit() calls the listeners later",
    code: () => `var o = {}, ev = [];
o.on("x", function (a, b) { ev.push("x " + a + " " + b + " " + (this === o)); });
var kept = o["#onx"];
o.emit("x", 1, 2); ev.push("emitted");
o.on("y", function () {}); o.removeAllListeners("y");
setTimeout(function () { done([Array.isArray(kept), kept.length, ev, o["#ony"] === undefined]); }, 50);`,
    measured: [true, 1, ["emitted", "x 1 2 true"], true],
  },
  {
    name: "on() puts a new array in #on<event>: a list held while calling listeners keeps its length",
    code: () => `var o = {};
o.on("x", function () {}); var held = o["#onx"]; o.on("x", function () {});
var p = {}; p["#onx"] = undefined; p.on("x", function () {});
done([held.length, o["#onx"].length, held === o["#onx"], Array.isArray(p["#onx"]), p["#onx"].length]);`,
    measured: [1, 2, false, true, 1],
  },
  {
    name: "process.memory() fields",
    code: () => `var m = process.memory();
done([Object.keys(m).sort(), Object.keys(m.rx).sort(), Object.keys(m.tx).sort(), typeof m.free, typeof m.usage, typeof m.total, typeof m.blocksize]);`,
    measured: [["blocksize", "free", "gc", "gctime", "history", "rx", "total", "tx", "usage"], ["total", "used"], ["total", "used"], "number", "number", "number", "number"],
  },
  {
    name: "no Buffer",
    code: () => `done(typeof Buffer);`,
    measured: "undefined",
  },
];

/** Starts the probe's server (or finds a refused port); resolves with {port, received(), close()}. */
async function serverFor(kind) {
  if (!kind) return { port: 0, received: () => "", close: () => {} };
  if (kind === "refused") return { port: await freePort(), received: () => "", close: () => {} };
  let received = "";
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", (d) => { received += d.toString("latin1"); });
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    SERVERS[kind](s);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: server.address().port,
    received: () => received,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

/** Runs a probe with `run(program)` → its reported value; adds what the server received where it has one. */
async function probe(p, run) {
  const server = await serverFor(p.server);
  try {
    const value = await run(p.code(server.port));
    return p.server && p.server !== "refused" ? { value, received: server.received() } : value;
  } finally {
    server.close();
  }
}

/** Runs a program in the stand-ins; resolves with what it passes to done(). */
function inStandIns(program) {
  const env = createBareEnv();
  return new Promise((resolve, reject) => {
    env.context.done = (v) => resolve(JSON.parse(JSON.stringify(v)));
    try { env.eval(program); } catch (e) { reject(e); }
    setTimeout(() => reject(new Error("the probe never called done()")), 5000).unref();
  }).finally(() => env.power.off());
}

/** Runs a program on the real interpreter (ESPRUINO_BIN); resolves with what it passes to done(). */
async function onInterpreter(program) {
  const out = await runOnEspruino(`function done(v) { console.log("PROBE " + JSON.stringify(v)); setTimeout(quit, 10); }\n${program}`);
  const line = out.split("\n").find((l) => l.includes("PROBE "));
  assert.ok(line, `the probe printed nothing; output:\n${out}`);
  return JSON.parse(line.slice(line.indexOf("PROBE ") + 6));
}

describe("the stand-ins give what the interpreter gave", () => {
  for (const p of PROBES) {
    test(p.name, async () => {
      assert.deepEqual(await probe(p, inStandIns), p.measured);
    });
  }
});

describe("the interpreter still gives what was measured (ESPRUINO_BIN)", () => {
  for (const p of PROBES) {
    test(p.name, async (t) => {
      if (!ESPRUINO_BIN) return t.skip("ESPRUINO_BIN is not set: the real-interpreter probe was skipped");
      assert.deepEqual(await probe(p, onInterpreter), p.measured);
    });
  }
});

