// What the Espruino Web IDE sends for a program that requires Wisp, made by the `espruino` package's CLI
// (the IDE's own upload code, EspruinoTools) offline with -o: each module file it finds in a folder as one
// Modules.addCached line, the required module first. dist/modules/*.min.js go as they are; a module's .js
// file goes through the IDE's minifier (esmangle) first, and must still speak MQTT byte for byte as
// dist/wisp.js does (esmangle once turned the Remaining Length loop into one that sets the continuation
// bit on every byte, so that no broker could read a CONNECT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBareEnv } from "../host-sim/espruino/env.mjs";
import { moduleSources } from "../host-sim/node/load.mjs";
import { espruinoCli } from "../host-sim/upload/flash.mjs";
import { fakePlatform } from "./helpers/fake-platform.mjs";

/** The modules the CLI sends for `require("wisp")` with `files` ({name in the folder: file}) in its
 *  module folder: {module name: the code of its addCached function}, in the order sent. */
function sentModules(files) {
  const dir = mkdtempSync(join(tmpdir(), "wisp-ide-"));
  try {
    mkdirSync(join(dir, "modules"));
    for (const [name, file] of Object.entries(files)) copyFileSync(file, join(dir, "modules", name));
    writeFileSync(join(dir, "board.json"), JSON.stringify({ BOARD: "ESP8266_BOARD", VERSION: "2v29", info: { builtin_modules: ["Storage", "net", "Wifi", "ESP8266"] } }));
    writeFileSync(join(dir, "prog.js"), 'var w = require("wisp");\n');
    const r = spawnSync(process.execPath, [espruinoCli(), "--no-ble", "--board", join(dir, "board.json"), "--config", `MODULE_URL=${join(dir, "modules")}`, join(dir, "prog.js"), "-o", join(dir, "out.js")], { cwd: dir, encoding: "utf8", timeout: 60000 });
    const out = readFileSync(join(dir, "out.js"), "latin1"); // the bytes the CLI sends, one a char
    const sent = {};
    // (a "\n" before the closing brace where the code holds "//", which the CLI adds)
    for (const m of out.matchAll(/^Modules\.addCached\("([^"]+)",function\(\)\{([\s\S]*?)\n?\}\);$/gm)) sent[m[1]] = m[2];
    assert.ok(Object.keys(sent).length, `the CLI sent no module: ${r.stdout}${r.stderr}`);
    return sent;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes a client of module sources `modules` writes through one session: CONNECT with a will and
 *  a long client id (a two-byte Remaining Length), SUBSCRIBE, QoS 0 and QoS 1 PUBLISHes of 300 bytes,
 *  the PUBACK of a received QoS 1 message, DISCONNECT; and the messages it delivered. */
function session(modules) {
  const env = createBareEnv({ modules });
  try {
    const wisp = env.context.require("wisp");
    const fake = fakePlatform();
    const got = [];
    const c = wisp.create("broker", { platform: fake.platform, client_id: "c".repeat(120), will: { topic: "w/t", message: "gone", qos: 1, retain: true },
      limits: { maxPacket: 512, inflightBytes: 512 } });
    c.on("message", (t, m) => got.push(`${t}=${m.length}`));
    c.connect();
    fake.conn.handler.onOpen(fake.conn);
    fake.conn.handler.onData(fake.conn, "\x20\x02\x00\x00");
    c.subscribe("a/#", { qos: 1 });
    const big = "x".repeat(300);
    c.publish("a/b", big);
    c.publish("a/b", big, { qos: 1 });
    const incoming = "\x32" + String.fromCharCode(0x80 | ((2 + 3 + 2 + 300) & 127), (2 + 3 + 2 + 300) >> 7) + "\x00\x03a/b\x00\x07" + big;
    fake.conn.handler.onData(fake.conn, incoming);
    c.disconnect();
    return { bytes: fake.sent().map((p) => Buffer.from(p.bytes).toString("hex")), got };
  } finally {
    env.power.off();
  }
}

test("the Web IDE sends dist/modules/*.min.js as they are, wisp-cold before wisp", () => {
  const sent = sentModules({ "wisp.min.js": "dist/modules/wisp.min.js", "wisp-cold.min.js": "dist/modules/wisp-cold.min.js" });
  assert.deepEqual(Object.keys(sent), ["wisp-cold", "wisp"]);
  assert.equal(sent.wisp, readFileSync("dist/wisp.js", "utf8").trim());
  assert.equal(sent["wisp-cold"], readFileSync("dist/wisp-cold.js", "utf8").trim());
  assert.deepEqual(session(sent), session(moduleSources()));
});

test("dist/wisp.js and dist/wisp-cold.js as .js files, minified again by the Web IDE, write the same bytes", () => {
  const sent = sentModules({ "wisp.js": "dist/wisp.js", "wisp-cold.js": "dist/wisp-cold.js" });
  assert.notEqual(sent.wisp, readFileSync("dist/wisp.js", "utf8").trim(), "the CLI minified nothing: the test would prove nothing");
  const reference = session(moduleSources());
  assert.equal(reference.got.length, 1);
  assert.ok(reference.bytes[0].startsWith("10"), "the first packet is CONNECT");
  assert.deepEqual(session(sent), reference);
});
