// Board files against their one schema (boards/schema.mjs): every board in boards/ fits it, and a bad
// file is rejected with one line naming the file, the key and the problem — by the schema, the build,
// the flash tool and the simulator.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, symlinkSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { validateBoard, readBoard, boardNames, BoardError } from "../boards/schema.mjs";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { flash, espruinoCli, FlashError } from "../host-sim/upload/flash.mjs";

const esp32 = () => JSON.parse(readFileSync("boards/esp32.json", "utf8"));

/** The one line validateBoard throws for `data` as boards/esp32.json. */
const rejection = (data) => {
  try {
    validateBoard(data, "boards/esp32.json");
  } catch (e) {
    assert.ok(e instanceof BoardError, `not a BoardError: ${e}`);
    assert.ok(!e.message.includes("\n"), `more than one line: ${e.message}`);
    return e.message;
  }
  assert.fail("accepted");
};

describe("board files and their schema", () => {
  test("every board in boards/ fits the schema", () => {
    assert.deepEqual(boardNames(), ["esp32", "esp8266", "linux"]);
    for (const name of boardNames()) assert.equal(readBoard(name).name, name);
  });

  test("an unknown key (a typo) is named, with the key it probably meant", () => {
    const data = esp32();
    data.maxchunk = data.maxChunk;
    delete data.maxChunk;
    assert.equal(rejection(data), "boards/esp32.json: maxchunk: unknown key (did you mean maxChunk?)");
    const nested = esp32();
    nested.defaults.ssid = "lab";
    assert.equal(rejection(nested), "boards/esp32.json: defaults.ssid: unknown key");
  });

  test("a missing key is named with what it should be", () => {
    const data = esp32();
    delete data.txBuffer;
    assert.equal(rejection(data), "boards/esp32.json: txBuffer: missing, expected an integer 64–65535 (buffer for the packets encoded before sending (CONNECT, SUBSCRIBE, acks, retained or UTF-8 QoS 0), bytes)");
    const pins = esp32();
    delete pins.pins.battery;
    assert.match(rejection(pins), /^boards\/esp32\.json: pins\.battery: missing/);
    const led = esp32();
    delete led.pins.led;
    assert.equal(rejection(led), "boards/esp32.json: pins.led: missing, the blink app needs it (a pin name such as D5)");
  });

  test("out-of-range numbers and wrong types are rejected", () => {
    const cases = [
      [(d) => { d.maxChunk = 600; }, "boards/esp32.json: maxChunk: 600 is out of range, expected an integer 16–536 (bytes of received data appended at a time (the interpreter delivers ≤ 536))"],
      [(d) => { d.inflight = 0; }, /^boards\/esp32\.json: inflight: 0 is out of range/],
      [(d) => { d.defaults.rate_hz = 2.5; }, /^boards\/esp32\.json: defaults\.rate_hz: 2\.5 is not an integer 1–100/],
      [(d) => { d.wifi = "yes"; }, /^boards\/esp32\.json: wifi: "yes" is not a boolean/],
      [(d) => { d.pins.servos.pop(); }, "boards/esp32.json: pins.servos: has 11 entries, expected 12"],
      [(d) => { d.defaults.brokers = ["host:port:x"]; }, /^boards\/esp32\.json: defaults\.brokers\[0\]: "host:port:x" is not "host", "host:port" or "mqtts:\/\/host:port"/],
      [(d) => { d.defaults.app = "walker"; }, 'boards/esp32.json: defaults.app: "walker" is not one of apps (quadruped, sensor, blink)'],
      [(d) => { d.name = "esp33"; }, 'boards/esp32.json: name: "esp33" differs from the file\'s name "esp32"'],
    ];
    for (const [change, expected] of cases) {
      const data = esp32();
      change(data);
      if (typeof expected === "string") assert.equal(rejection(data), expected);
      else assert.match(rejection(data), expected);
    }
  });

  test("the build stops on a bad board file with one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "wisp-boards-"));
    mkdirSync(join(dir, "boards"));
    for (const f of ["rollup.config.js", "tsconfig.json", "boards/schema.mjs", "boards/esp32.json"]) copyFileSync(f, join(dir, f));
    for (const d of ["firmware", "node_modules"]) symlinkSync(resolve(d), join(dir, d));
    const bad = esp32();
    bad.name = "bad";
    bad.maxchunk = 536;
    delete bad.maxChunk;
    writeFileSync(join(dir, "boards", "bad.json"), JSON.stringify(bad));
    const r = spawnSync(process.execPath, [resolve("node_modules/rollup/dist/bin/rollup"), "-c"], { cwd: dir, encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim(), "build stopped: boards/bad.json: maxchunk: unknown key (did you mean maxChunk?)");
  });

  test("the flash tool and the simulator reject an unknown board in one line", async () => {
    assert.throws(() => new SimBoard({ board: "esp3" }), (e) => e instanceof BoardError && e.message === 'no board "esp3" in boards/ (there are esp32, esp8266, linux)');
    await assert.rejects(flash({ board: "esp3", port: "/dev/null", firmware: "", cli: espruinoCli() }), (e) => e instanceof FlashError && /^no board "esp3" in boards\//.test(e.message));
    for (const [tool, ...args] of [["host-sim/sim/cli.mjs"], ["host-sim/upload/flash.mjs", "--port", "/dev/null"]]) {
      const r = spawnSync(process.execPath, [tool, "--board", "esp3", ...args], { encoding: "utf8", timeout: 30000 });
      assert.equal(r.status, 2, `${tool}: ${r.stderr}`);
      assert.match(r.stderr.trim(), /^npm (start|run flash): --board esp3: no board "esp3" in boards\/ \(there are esp32, esp8266, linux\) \(see npm (start|run flash) -- --help\)$/, tool);
    }
  });

  test("a board file that is not JSON is said to be so", () => {
    const dir = mkdtempSync(join(tmpdir(), "wisp-boards-"));
    writeFileSync(join(dir, "broken.json"), "{ \"name\": ");
    assert.throws(() => readBoard("broken", dir), (e) => e instanceof BoardError && /^boards\/broken\.json: not valid JSON \(/.test(e.message));
  });
});
