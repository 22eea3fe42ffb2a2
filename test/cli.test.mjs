// The three commands as a newcomer types them (npm start, npm run flash, npm run bench; issue 12): every
// bad input ends with one line naming the problem and what to do, a non-zero exit and no stack trace,
// before anything is flashed or published; --help works on each; the simulator runs every app on every
// board and survives whatever any client publishes on the broker.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import mqtt from "mqtt";
import { startAedes, freePort } from "./helpers/brokers.mjs";
import { waitFor } from "./helpers/util.mjs";
import { createFleetState, record, screen, linkWatch } from "../host-sim/sim/view.mjs";

const START = "host-sim/sim/cli.mjs";
const FLASH = "host-sim/upload/flash.mjs";
const BENCH = "bench/run.mjs";

/** Runs `node script ...args`; resolves with {code, stdout, stderr}; `onStdout(all)` sees output grow. */
function run(script, args, { timeoutMs = 20000, onStdout = () => {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += d; onStdout(stdout); });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** One line on stderr matching `pattern`, prefixed by the command, a non-zero exit, no stack trace. */
function assertOneLine(r, command, pattern) {
  const err = r.stderr.trim();
  assert.ok(r.code !== 0 && r.code !== null, `exit ${r.code} (${r.signal || "no signal"}): ${err}`);
  assert.equal(err.split("\n").length, 1, `more than one line:\n${err}`);
  assert.ok(err.startsWith(`${command}: `), err);
  assert.match(err, pattern);
  assert.doesNotMatch(`${r.stdout}\n${err}`, /^\s+at |node:internal|TypeError|SyntaxError|ReferenceError/m, "a stack trace or raw error");
}

/** A TCP server counting connections: a board console (or broker) that must not be contacted. */
async function untouchable() {
  let connections = 0;
  const server = net.createServer((s) => { connections++; s.destroy(); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { port: server.address().port, get connections() { return connections; }, close: () => server.close() };
}

describe("npm start", () => {
  let broker;
  let clients = 0;
  before(async () => {
    broker = await startAedes();
    broker.aedes.on("client", () => clients++);
  });
  after(() => broker.stop());

  test("--help lists every option and the keys", async () => {
    const r = await run(START, ["--help"]);
    assert.equal(r.code, 0);
    for (const o of ["--board", "--app", "--devices", "--broker", "--rate", "--period", "--duration", "--help", "keys:"]) assert.ok(r.stdout.includes(o), `--help lacks ${o}`);
  });

  test("every bad input: one line naming the problem and what to do, exit ≠ 0, nothing on the broker", async () => {
    const b = ["--broker", broker.url];
    const cases = [
      [["--rate", "0", ...b], /--rate 0: out of range, expected 1–100 .*--help/],
      [["--rate", "abc", ...b], /--rate "abc": not a whole number, expected 1–100/],
      [["--app", "foo", ...b], /--app foo: the esp32 firmware has no app "foo" \(it has quadruped, sensor, blink\): choose one/],
      [["--board", "esp8266", "--app", "quadruped", ...b], /the esp8266 firmware has no app "quadruped" \(it has sensor\)/],
      [["--duration", "abc", ...b], /--duration "abc": not a number/],
      [["--foo", ...b], /unknown option --foo \(see npm start -- --help\)/],
      [["--board", "esp33", ...b], /no board "esp33" in boards\/ \(there are esp32, esp8266, linux\)/],
      [["--devices", "0", ...b], /--devices 0: out of range/],
      [["--rate", ...b], /--rate needs a value/],
      [["--app", "sensor", "--rate", "5", ...b], /--rate sets the quadruped's telemetry rate/],
      [["--broker", "not a url"], /--broker not a url: not a broker address: give mqtt:\/\/host:port/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(START, args)));
    results.forEach((r, i) => assertOneLine(r, "npm start", cases[i][1]));
    assert.equal(clients, 0, "a bad command line still connected to the broker");
  });

  test("an unreachable --broker is said at once, exit 1", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await run(START, ["--broker", `mqtt://127.0.0.1:${port}`]);
    assertOneLine(r, "npm start", new RegExp(`cannot reach the broker at 127\\.0\\.0\\.1:${port} \\(connection refused\\): start it, or leave out --broker`));
    assert.equal(r.code, 1);
    assert.ok(Date.now() - t0 < 10000);
  });

  test("the sensor app runs on every board (esp32 --app sensor, esp8266, linux) and its readings are shown", async () => {
    // One after another: each is device wisp-sim, and the broker lets one connection hold a client id
    // (together they took it from each other, flapping, and sometimes none published in time).
    for (const args of [["--app", "sensor"], ["--board", "esp8266"], ["--board", "linux"]]) {
      const r = await run(START, [...args, "--period", "1", "--duration", "3.5", "--broker", broker.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, /°C .* %RH .* hPa/, r.stdout);
    }
  });

  test("a fleet: one row per board with its command topic, and the README's command topic of a single board reaches it", async () => {
    const state = createFleetState(["wisp-sim-1", "wisp-sim-2", "wisp-sim-3"]);
    const boards = Object.keys(state).map((id) => ({ id, live: { wifi: true, connected: true, failsafe: false } }));
    const lines = screen(state, boards, 1, { title: "t", memory: "m", rows: 40 });
    for (const { id } of boards) assert.ok(lines.some((l) => l.includes(id) && l.includes(`wisp/${id}/cmd`)), `no row for ${id}`);
    // One board is wisp-sim: wisp/wisp-sim/cmd (README) is its command topic.
    const watcher = mqtt.connect(`mqtt://${broker.url}`);
    const events = [];
    watcher.on("message", (topic, payload) => events.push(String(payload)));
    await watcher.subscribeAsync("wisp/wisp-sim/event");
    const sim = run(START, ["--broker", broker.url, "--duration", "6"], { onStdout: (out) => {
      if (/online/.test(out) && !sim.sent) { sim.sent = true; watcher.publish("wisp/wisp-sim/cmd", '{"gait":"walk"}', { qos: 1 }); }
    } });
    const r = await sim;
    watcher.end(true);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(events.some((e) => e.includes('"ack":"walk"')), `no ack on wisp/wisp-sim/event: ${events}`);
  });

  test("survives anything on the broker: junk, huge, binary and retained payloads on telemetry, status, event and cmd", async () => {
    const junk = [
      "hello", "", "null", "[]", "42", '{"n":"1"}', '{"n":1,"gait":5,"speed":"x","j":"no","imu":null,"bat":"?"}',
      '{"n":2,"t":"hot","h":null,"p":[]}', '{"__proto__":{"n":1}}', "x".repeat(1 << 20),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) & 255)),
    ];
    const kinds = ["telemetry", "status", "event", "cmd"];
    const client = mqtt.connect(`mqtt://${broker.url}`);
    await new Promise((r) => client.once("connect", r));
    const flood = async (retain) => {
      for (const kind of kinds) for (const p of junk) await client.publishAsync(`wisp/wisp-sim/${kind}`, p, { qos: 1, retain });
    };
    await flood(true); // waiting for the simulator when it starts
    let floodedAt = -1;
    const sim = run(START, ["--broker", broker.url, "--duration", "9"], { onStdout: (out) => {
      if (floodedAt < 0 && /online/.test(out)) { floodedAt = out.length; flood(false); }
    } });
    const r = await sim;
    for (const kind of kinds) await client.publishAsync(`wisp/wisp-sim/${kind}`, "", { qos: 1, retain: true }); // clear the retained junk
    client.end(true);
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    assert.equal(r.stderr, "");
    assert.ok(floodedAt > 0, "the simulator never came online");
    const after = r.stdout.slice(floodedAt).split("\n").filter((l) => /telemetry [1-9]\d* msg\/s/.test(l));
    assert.ok(after.length >= 3, `telemetry did not go on after the junk:\n${r.stdout.slice(floodedAt)}`);
  });

  test("the view says each lost connection once, and FAILSAFE after failsafe_ms without the broker", () => {
    const said = [];
    const live = linkWatch("wisp-sim", (l) => said.push(l), 2000);
    let t = 0;
    assert.equal(live(false, true, t).failsafe, false, "failsafe before ever connecting");
    live(true, true, (t += 1000));
    for (let i = 0; i < 3; i++) live(false, false, (t += 250)); // redrawn three times during the drop
    assert.deepEqual(said, ["wisp-sim: connection lost (Wi-Fi down)"]);
    assert.equal(live(false, false, (t += 1000)).failsafe, false, "failsafe too early"); // 1.5 s after the drop
    assert.equal(live(false, false, (t += 1000)).failsafe, true, "no failsafe after failsafe_ms");
    const back = live(true, true, (t += 500));
    assert.deepEqual([back.failsafe, said.length, said[1]], [false, 2, "wisp-sim: connected again after 3.0 s"]);
    assert.equal(linkWatch("s", () => {}, Infinity)(false, true, 1e9).failsafe, false, "an app without failsafe");
  });

  test("the view never throws on junk and says what it ignored", () => {
    const state = createFleetState(["wisp-sim"]);
    const kinds = ["telemetry", "status", "event", "cmd"];
    for (const kind of kinds) {
      for (const p of ["hello", "{}", '{"n":1,"gait":{},"j":[1,2],"imu":"x"}', '{"n":3,"t":"a","h":"b","p":"c"}', Buffer.from([0xff, 0, 0xc3])]) {
        record(state, `wisp/wisp-sim/${kind}`, p);
        screen(state, [{ id: "wisp-sim", live: { wifi: true, connected: true, failsafe: false } }], 0, { title: "", memory: "" });
      }
    }
    record(state, "wisp/__proto__/telemetry", "{}");
    record(state, "wisp", "x");
    const lines = screen(state, [{ id: "wisp-sim", live: { wifi: true, connected: false, failsafe: true } }], 0, { title: "", memory: "" });
    assert.ok(lines.some((l) => /ignored \d+ message\(s\) that are not a Wisp board's/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("FAILSAFE")), "failsafe not shown");
  });
});

describe("npm run flash", () => {
  let board;
  let dir;
  before(async () => {
    board = await untouchable();
    dir = mkdtempSync(join(tmpdir(), "wisp-cli-"));
  });
  after(() => board.close());
  const file = (name, text) => { writeFileSync(join(dir, name), text); return join(dir, name); };

  test("--help lists every option and the configuration's keys", async () => {
    const r = await run(FLASH, ["--help"]);
    assert.equal(r.code, 0);
    for (const o of ["--board", "--port", "-p", "--baud", "-b", "--config", "ssid", "brokers"]) assert.ok(r.stdout.includes(o), `--help lacks ${o}`);
  });

  test("every bad input: one line naming the problem and what to do, exit ≠ 0, the board never contacted", async () => {
    const p = ["-p", `tcp://127.0.0.1:${board.port}`];
    const good = { ssid: "lab", password: "secret", brokers: ["192.168.1.10:1883"], device: "robot1", app: "quadruped" };
    const cases = [
      [["--foo", ...p], /unknown option --foo \(see npm run flash -- --help\)/],
      [["-b", "9600"], /which board\? give its console with --port/],
      [["-b", "fast", ...p], /-b "fast": not a whole number/],
      [["-b", "1234", ...p], /-b 1234: is not a serial baud rate/],
      [["--board", "esp33", ...p], /no board "esp33"/],
      [["-p", "/dev/ttyWISPNONE"], /no serial port \/dev\/ttyWISPNONE: is the board plugged in\?/],
      [[...p, "--config", join(dir, "missing.json")], /no configuration file .*missing\.json: create it .* or give one with --config FILE/],
      [[...p, "--config", file("broken.json", '{"ssid": "lab",')], /broken\.json: not valid JSON .*: fix the file/],
      [[...p, "--config", file("app.json", JSON.stringify({ ...good, app: "flyingcar" }))], /app\.json: app: "flyingcar" is not built into the esp32 firmware \(it has quadruped, sensor, blink\): fix the file/],
      [[...p, "--config", file("brokers.json", JSON.stringify({ ...good, brokers: "192.168.1.10:1883" }))], /brokers: "192\.168\.1\.10:1883" is not a list/],
      [[...p, "--config", file("rate.json", JSON.stringify({ ...good, rate_hz: "fast" }))], /rate_hz: "fast" is not an integer 1–100/],
      [[...p, "--config", file("keepalive.json", JSON.stringify({ ...good, keep_alive: -5 }))], /keep_alive: -5 is out of range/],
      [[...p, "--config", file("nowifi.json", JSON.stringify({ brokers: ["192.168.1.10:1883"] }))], /ssid: missing: the esp32 joins Wi-Fi with "ssid" and "password"/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(FLASH, args)));
    results.forEach((r, i) => assertOneLine(r, "npm run flash", cases[i][1]));
    assert.equal(board.connections, 0, "the board was contacted");
  });
});

describe("npm run bench", () => {
  test("--help, and bad options: one line, exit ≠ 0, nothing measured", async () => {
    const help = await run(BENCH, ["--help"]);
    assert.equal(help.code, 0);
    for (const o of ["--readme", "ESPRUINO_BIN"]) assert.ok(help.stdout.includes(o), `--help lacks ${o}`);
    const cases = [
      [["--foo"], /unknown option --foo \(see npm run bench -- --help\)/],
      [["readme"], /unexpected argument "readme": options start with --/],
      [["--readme=yes"], /--readme takes no value/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(BENCH, args)));
    results.forEach((r, i) => {
      assertOneLine(r, "npm run bench", cases[i][1]);
      assert.equal(r.stdout, "", "something was measured");
    });
  });
});
