// The built artifacts: inside the JavaScript subset Espruino runs, no Node modules, within their size
// budgets, and loadable (in a Node vm here; on the real interpreter when ESPRUINO_BIN is set); within
// their JsVar budgets on each interpreter heap whose variable is set (ESPRUINO_BIN, _1700, _1600).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import vm from "node:vm";
import { checkEspruinoSubset } from "./helpers/espruino-subset.mjs";
import { runOnEspruino, skipWithoutEspruino, HEAPS, espruinoClients, measureClient, bootFirmware, bootFirmwareAgainst, WISP_MODULES, modulePaths } from "./helpers/espruino.mjs";
import net from "node:net";
import http from "node:http";
import { startMosquitto, haveMosquitto } from "./helpers/brokers.mjs";
import { fakePlatform } from "./helpers/fake-platform.mjs";
import { loadWisp, moduleSources } from "../host-sim/node/load.mjs";
import { createBareEnv } from "../host-sim/espruino/env.mjs";

const budgets = JSON.parse(readFileSync(new URL("../bench/budgets.json", import.meta.url), "utf8"));
const artifacts = Object.keys(budgets).filter((k) => k.startsWith("dist/"));

for (const file of artifacts) {
  const code = readFileSync(file, "utf8");

  test(`${file} fits the Espruino subset`, () => {
    assert.deepEqual(checkEspruinoSubset(code), []);
  });

  test(`${file} is within its size budget`, () => {
    const size = Buffer.byteLength(code);
    console.log(`size ${file}: ${size} B minified, ${gzipSync(code).length} B gzipped (budget ${budgets[file]} B)`);
    assert.ok(size <= budgets[file], `${size} B > ${budgets[file]} B`);
  });
}

test("the subset check catches what Espruino cannot run", () => {
  const bad = {
    "const x = 1;": "not ES5",
    "var f = (a) => a;": "not ES5",
    "var o = {a: 1}; var {a} = o;": "not ES5",
    "function f(a) { return a ** 2; }": "not ES5",
    "var m = new Map();": "uses Map",
    "var a = Array.from([1]);": "uses Array.from",
    "var fs = require('fs');": "require('fs')",
    "f(); function f() {}": '"f" used',
    "function g() { a = h(); var a; function h() {} }": '"h" used',
    "function g(t) { switch (t) { case 1: var i = 0; break; case 2: i = 1; } }": "used outside it",
    "function g(t) { if (t) { var i = 0; } return i; }": "used outside it",
    "function g(t) { return function (x) { return x + 1; }(t); }": "created on every call",
    "var r = /[^/]#/;": "unescaped /",
    "var p = {}; var b = p.isPrototypeOf({});": "uses .isPrototypeOf",
  };
  for (const [code, problem] of Object.entries(bad)) {
    const problems = checkEspruinoSubset(code);
    assert.ok(problems.some((p) => p.includes(problem)), `${code} → ${JSON.stringify(problems)}`);
  }
  assert.deepEqual(checkEspruinoSubset("function f() {} f(); var x = require('net'); function g(t) { var i; for (var j = 0; j < 2; j++) i = j; if (t) { var k = 1; t = k; } } var C = function () { function C() {} C.prototype.m = function () { return 1; }; return C; }(); var r = /[^\\/]#|\\//;"), []);
});

test("dist/wisp.js loads as a CommonJS module in the Espruino stand-ins and encodes a PUBLISH", () => {
  const wisp = loadWisp();
  assert.equal(typeof wisp.create, "function");
  const fake = fakePlatform();
  const client = wisp.create("broker", { client_id: "b", platform: fake.platform });
  client.connect();
  fake.conn.handler.onOpen(fake.conn);
  fake.conn.handler.onData(fake.conn, new Uint8Array([0x20, 0x02, 0x00, 0x00])); // CONNACK accepted
  fake.sent();
  assert.equal(client.publish("a/b", "hi"), 0);
  assert.equal(client.publish("a/b", new wisp.Uint8Array([0, 255]), { qos: 1, retain: true }), 1);
  const hex = fake.sent().map((p) => Buffer.from(p.bytes).toString("hex"));
  assert.deepEqual(hex, [
    "3007" + "0003612f62" + "6869", // PUBLISH QoS 0, topic "a/b", payload "hi"
    "3309" + "0003612f62" + "0001" + "00ff", // PUBLISH QoS 1 RETAIN, packet id 1, payload 00 ff
  ]);
});

// Both modules make the interpreter store their functions pretokenised while they load (rollup.config.js,
// pretokenised), then give the flag back as they found it: a user's own functions are never affected.
test("dist/wisp.js and dist/wisp-esp32.js leave the pretokenise flag as they found it, in the stand-ins", () => {
  for (const file of ["wisp.js", "wisp-esp32.js"]) for (const flag of [0, 1]) {
    const env = createBareEnv({ modules: moduleSources(file) });
    try {
      env.context.E.setFlags({ pretokenise: flag });
      assert.equal(typeof env.eval('require("wisp")').create, "function");
      assert.equal(env.context.E.getFlags().pretokenise, flag, `${file}, flag ${flag}`);
    } finally { env.power.off(); }
  }
});

test("dist/wisp.js and dist/wisp-esp32.js leave the pretokenise flag as they found it, on the interpreter", { skip: skipWithoutEspruino }, async () => {
  for (const file of ["wisp.js", "wisp-esp32.js"]) {
    const out = await runOnEspruino(`var seen = [];
      for (var f = 0; f < 2; f++) { E.setFlags({ pretokenise: f }); if (f) Modules.removeCached("wisp"); seen.push(typeof require("wisp").create, E.getFlags().pretokenise); }
      print("SEEN " + JSON.stringify(seen)); quit();`, { modules: modulePaths(file) });
    assert.match(out, /SEEN \["function",0,"function",1\]/, `${file}: ${out.slice(-300)}`);
  }
});

test("dist/wisp.js loads on the Espruino interpreter with no error", { skip: skipWithoutEspruino }, async () => {
  const out = await runOnEspruino(`var w = require("wisp"); print("LOADED " + typeof w.create); quit();`, { modules: WISP_MODULES });
  assert.match(out, /LOADED function/);
  assert.doesNotMatch(out, /Uncaught|Error/);
});

// JsVar budgets per interpreter heap (bench/budgets.json "jsvars"), each checked when its variable names an
// interpreter; measured as the bench measures them (test/helpers/espruino.mjs).
for (const h of HEAPS) {
  const budget = budgets.jsvars[h.heap];
  if (!budget) continue;
  const skip = !h.bin ? `${h.variable} is not set: the ${h.heap} heap's JsVar budget was skipped` : !haveMosquitto ? "mosquitto is not installed: skipped" : false;

  for (const [fromStorage, where, max] of [[true, "from Storage", budget.library_max], [false, "as text in RAM", budget.ram_max]]) {
    test(`dist/wisp.js ${where} on the ${h.heap} heap: at most ${max} JsVars after require + create + connect + subscribe, and a 200-byte round trip`, { skip }, async () => {
      const broker = await startMosquitto();
      try {
        const wisp = espruinoClients(broker.port, "").find((c) => c.key === "wisp");
        const r = await measureClient(wisp, { bin: h.bin, port: broker.port, fromStorage });
        console.log(`jsvars dist/wisp.js ${where}, ${h.heap} heap: ${JSON.stringify(r)} (budget ${max})`);
        assert.ok(r.subscribed !== null, `never subscribed: ${r.failure || ""} ${r.interpreter || ""}`);
        assert.ok(r.subscribed <= max, `${r.subscribed} JsVars > ${max}`);
        assert.ok(r.round_trip, `the 200-byte message did not come back: ${r.failure || ""} ${r.interpreter || ""}`);
        assert.equal(r.interpreter, undefined);
      } finally {
        await broker.stop();
      }
    });
  }

  test(`dist/firmware-linux.js booted from Storage on the ${h.heap} heap: connected, publishing, at least ${budget.firmware_min_free} JsVars free`, { skip }, async () => {
    const broker = await startMosquitto();
    try {
      const r = await bootFirmware("dist/firmware-linux.js", { app: "sensor", device: `budget-${h.heap}`, period_s: 1 }, { bin: h.bin, port: broker.port });
      console.log(`jsvars dist/firmware-linux.js, ${h.heap} heap: ${JSON.stringify(r)} (budget: ${budget.firmware_min_free} free)`);
      assert.ok(r.connected, `not connected: ${r.failure || ""} ${r.interpreter || ""}`);
      assert.ok(r.messages_at_broker > 0, "no message from the firmware reached the broker");
      assert.equal(r.interpreter, undefined, "the interpreter reported trouble");
      assert.ok(r.min_free >= budget.firmware_min_free, `${r.min_free} JsVars free < ${budget.firmware_min_free}`);
    } finally {
      await broker.stop();
    }
  });
}

test("dist/wisp.js on the Espruino interpreter: connect, subscribe, QoS 0/1 round trip through Mosquitto", { skip: skipWithoutEspruino || (!haveMosquitto && "no mosquitto") }, async () => {
  const broker = await startMosquitto();
  try {
    const out = await runOnEspruino(`
      var c = require("wisp").create("127.0.0.1:${broker.port}", { client_id: "espruino-e2e", keep_alive: 10 });
      var got = [];
      c.on("error", function (e) { print("ERROR " + e); });
      var acked = false;
      var finished = false;
      function done() { if (finished) return; finished = true; print("GOT " + JSON.stringify(got)); c.disconnect(); setTimeout(quit, 100); }
      function check() { if (acked && got.length >= 2) done(); }
      c.on("connected", function () { c.subscribe("e2e/#", { qos: 1 }, function (m) { got.push(m.topic() + "=" + m.text() + "@" + m.qos); check(); }); });
      c.on("subscribed", function () { c.publish("e2e/a", "one", { qos: 1 }); c.publish("e2e/b", "zero"); });
      c.on("puback", function (id) { print("PUBACK " + id); acked = true; check(); });
      c.connect();
      setTimeout(done, 10000); // gives up: the output then says what arrived
    `, { modules: WISP_MODULES });
    assert.match(out, /PUBACK 2/);
    assert.match(out, /GOT \["e2e\/a=one@1","e2e\/b=zero@0"\]/);
    assert.doesNotMatch(out, /ERROR|Uncaught/);
  } finally {
    await broker.stop();
  }
});

// Issue 10: pointed at something that is no MQTT broker, the ESP8266-limits firmware reports each failure
// in words and keeps reconnecting, at the edge of the smallest heap: no OUT OF MEMORY, no ASSERT.
for (const { heap, variable, bin } of HEAPS.filter((h) => h.heap !== "default")) {
  for (const kind of ["an HTTP server", "a server sending random bytes"]) {
    test(`dist/firmware-linux.js on the ${heap} heap pointed at ${kind}: errors in words, reconnects, the interpreter survives`, { skip: bin ? false : `${variable} is not set: skipped` }, async () => {
      let connections = 0;
      const server = kind === "an HTTP server"
        ? http.createServer((q, r) => r.end("hello"))
        : net.createServer((c) => { c.on("error", () => {}); c.end(Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 37 + 11) & 255))); });
      server.on("connection", (c) => { connections++; c.on("error", () => {}); });
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      try {
        const r = await bootFirmwareAgainst(server.address().port, { bin });
        console.log(`firmware-linux, ${heap} heap, ${kind}: ${connections} connections, lowest free ${r.min_free}, ${r.lines.length} error lines, e.g. ${JSON.stringify(r.lines[0])}`);
        assert.equal(r.trouble, null, `the interpreter: ${r.trouble}`);
        assert.ok(r.done, "the interpreter did not finish its watch");
        assert.ok(connections >= 2, `${connections} connection attempts in 6 s: no reconnect`);
        assert.ok(r.lines.length >= 1, "no error said on the console");
      } finally {
        server.close();
      }
    });
  }
}
