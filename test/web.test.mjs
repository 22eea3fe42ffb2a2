// The live telemetry page (host-sim/web) in real Chromium against real brokers: Aedes embedded (its
// WebSocket through the page's server, as npm start runs it) and Mosquitto's own WebSocket listener.
// Screenshots go to test/artifacts/.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import mqtt from "mqtt";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { startWebServer } from "../host-sim/web/server.mjs";
import { startAedes, startMosquitto, skipWithoutMosquitto } from "./helpers/brokers.mjs";
import { launchChromium, skipWithoutChromium } from "./helpers/browser.mjs";

const ARTIFACTS = new URL("artifacts/", import.meta.url);
mkdirSync(ARTIFACTS, { recursive: true });
const log = (...a) => console.log("[web]", ...a);

/** A page on `url` recording its uncaught errors and dialogs (a dialog would mean injected script). */
async function openPage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.goto(url);
  return { page, problems };
}

const text = (page, sel) => page.locator(sel).textContent();
/** Resolves when every plot in `panel` holds at least `n` points. */
const plotsHold = (page, panel, n, timeout = 10000) =>
  page.waitForFunction(([p, k]) => {
    const plots = [...document.querySelectorAll(`#${p} .plot`)];
    return plots.length > 0 && plots.every((el) => Number(el.dataset.points) >= k);
  }, [panel, n], { timeout });

/** The brokers the page is tested against: each gives {url (TCP, for boards), web server, stop()}. */
const SETUPS = [
  {
    name: "Aedes (embedded, WebSocket through the page's server)",
    skip: false,
    async start(devices) {
      const broker = await startAedes();
      const web = await startWebServer({ devices, aedes: broker.aedes });
      return { url: broker.url, web, stop: async () => { await web.close(); await broker.stop(); } };
    },
  },
  {
    name: "Mosquitto (its WebSocket listener, as --ws-url)",
    skip: skipWithoutMosquitto,
    async start(devices) {
      const broker = await startMosquitto(0, { websockets: true });
      const web = await startWebServer({ devices, wsUrl: broker.wsUrl });
      return { url: broker.url, web, stop: async () => { await web.close(); await broker.stop(); } };
    },
  },
];

describe("the live telemetry page in Chromium", { skip: skipWithoutChromium }, () => {
  let browser;
  before(async () => { browser = await launchChromium(); });
  after(async () => { if (browser) await browser.close(); });

  for (const [i, setup] of SETUPS.entries()) {
    test(`against ${setup.name}: plots fill; "trot" is acknowledged and telemetry shows it; a Wi-Fi drop shows offline then online; junk on every topic leaves the page working`, { skip: setup.skip, timeout: 60000 }, async () => {
      const device = `web-quad-${i}`;
      const env = await setup.start([device]);
      const board = new SimBoard({ board: "esp32", config: { brokers: [env.url], device } }).boot();
      const junk = mqtt.connect(`mqtt://${env.url}`);
      try {
        const { page, problems } = await openPage(browser, env.web.url);
        await page.waitForFunction(() => document.getElementById("status").textContent === "online");
        await plotsHold(page, "quadruped", 10);
        assert.equal(await text(page, "#device-name"), device);
        assert.equal(await text(page, "#gait"), "stand", "the padded gait is shown trimmed");

        await page.getByRole("button", { name: "trot", exact: true }).click();
        const cmd = page.locator("#commands li").first();
        await page.waitForFunction(() => document.querySelector("#commands li")?.className !== "pending", null, { timeout: 5000 });
        assert.equal(await cmd.getAttribute("class"), "ack");
        assert.match(await cmd.textContent(), /\{"gait":"trot"\}.*ack: gait trot, speed 0\.50, heading 0°/);
        await page.waitForFunction(() => document.getElementById("gait").textContent === "trot", null, { timeout: 5000 });
        assert.equal(await page.locator('[data-gait="trot"]').getAttribute("class"), "active");

        board.wifi.drop(1500);
        await page.waitForFunction(() => document.getElementById("status").textContent === "offline", null, { timeout: 5000 });
        await page.waitForFunction(() => document.getElementById("status").textContent === "online", null, { timeout: 15000 });
        await page.waitForFunction(() => [...document.querySelectorAll("#log li")].some((li) => /online$/.test(li.textContent)));

        if (!junk.connected) await new Promise((r) => junk.once("connect", r));
        const topic = (k) => `wisp/${device}/${k}`;
        const junkMessages = [
          [topic("telemetry"), "not json at all"],
          [topic("telemetry"), "[1,2,3]"],
          [topic("telemetry"), "null"],
          [topic("telemetry"), '{"n":1,"gait":5}'],
          [topic("telemetry"), '{"n":1,"gait":"walk ","speed":"fast","heading":0,"safe":0,"j":[],"imu":[],"bat":8}'],
          [topic("telemetry"), '{"n":1,"gait":"walk","speed":1,"heading":0,"safe":0,"j":[1,2,3],"imu":[0,0,1,0,0,0],"bat":8}'],
          [topic("telemetry"), Buffer.from([0xff, 0x00, 0xfe, 0x7b])],
          // Mosquitto 2.0.11 sends large messages over WebSockets at about 40 KB/s: 30 KB keeps this quick.
          [topic("telemetry"), "{" + "x".repeat(30000)],
          [topic("event"), "}{"],
          [topic("event"), '{"ack":7}'],
          [topic("status"), "maybe"],
          ["wisp/<img src=x onerror=alert(1)>/telemetry", "<script>alert(2)</script>"],
        ];
        for (const [t, m] of junkMessages) junk.publish(t, m);
        await new Promise((r) => junk.publish(topic("event"), "junk sent", { qos: 1 }, r));
        const seqBefore = Number(await text(page, "#seq"));
        await page.waitForFunction((n) => document.querySelectorAll("#log li.bad").length >= n, junkMessages.length + 1, { timeout: 5000 });
        await page.waitForFunction((s) => Number(document.getElementById("seq").textContent) > s + 5, seqBefore, { timeout: 5000 });
        assert.equal(await text(page, "#status"), "online");
        assert.equal(await text(page, "#gait"), "trot");
        assert.equal(await text(page, "#broker-state"), "connected");
        assert.deepEqual(problems, [], "the page threw or opened a dialog");
        const badLines = await page.locator("#log li.bad").allTextContents();
        assert.ok(badLines.some((l) => l.includes("bad data on wisp/" + device + "/telemetry: not JSON")), badLines.join("\n"));
        assert.ok(badLines.some((l) => l.includes('"j" is not 12 joint angles')), badLines.join("\n"));
        assert.ok(badLines.some((l) => l.includes("status is neither online nor offline")), badLines.join("\n"));
        const shot = new URL(`web-${i === 0 ? "aedes" : "mosquitto"}.png`, ARTIFACTS);
        await page.screenshot({ path: shot.pathname, fullPage: true });
        log(`${setup.name}: screenshot ${shot.pathname}`);
        await page.close();
      } finally {
        junk.end(true);
        board.powerOff();
        await env.stop();
      }
    });
  }

  test("a fleet: one row per board with its state and message rate; clicking a row opens that board (the sensor app's own panel)", { timeout: 60000 }, async () => {
    const ids = ["fleet-1", "fleet-2", "fleet-3", "fleet-env"];
    const env = await SETUPS[0].start(ids);
    const boards = ids.map((device) => new SimBoard({
      board: "esp32",
      config: { brokers: [env.url], device, ...(device === "fleet-env" ? { app: "sensor", period_s: 0.2 } : {}) },
    }).boot());
    try {
      const { page, problems } = await openPage(browser, env.web.url);
      const rows = page.locator("#fleet-rows tr");
      // Quadrupeds publish at 10 Hz, the sensor (period_s 0.2) at 5 Hz; rates are counted over the last second.
      // Every board's row, not only those seen so far: a board whose first message comes late has no row yet.
      const settled = (n) => [...document.querySelectorAll("#fleet-rows tr")].length === n && [...document.querySelectorAll("#fleet-rows tr")].every((r) => {
        const rate = Number(r.cells[7].textContent);
        return r.cells[1].textContent === "online" && (r.cells[2].textContent === "sensor" ? rate >= 3 && rate <= 7 : rate >= 8 && rate <= 12);
      });
      await page.waitForFunction(settled, ids.length, { timeout: 10000 });
      assert.equal(await rows.count(), 4);
      assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.cells[0].textContent)), ids);
      assert.equal(await rows.nth(3).locator("td").nth(2).textContent(), "sensor");

      await rows.nth(3).click();
      assert.equal(await text(page, "#device-name"), "fleet-env");
      await page.waitForFunction(() => !document.getElementById("sensor").hidden && document.getElementById("quadruped").hidden);
      await plotsHold(page, "sensor", 5);
      assert.match(await text(page, "#temperature"), /^\d+\.\d\d °C$/);
      assert.match(await text(page, "#pressure"), /^10\d\d\.\d\d hPa$/);
      await page.screenshot({ path: new URL("web-fleet-sensor.png", ARTIFACTS).pathname, fullPage: true });

      await rows.nth(1).click();
      assert.equal(await text(page, "#device-name"), "fleet-2");
      await page.waitForFunction(() => !document.getElementById("quadruped").hidden && document.getElementById("sensor").hidden);
      await plotsHold(page, "quadruped", 10);
      assert.equal(await rows.nth(1).getAttribute("class"), "selected online");
      await page.screenshot({ path: new URL("web-fleet.png", ARTIFACTS).pathname, fullPage: true });
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      for (const b of boards) b.powerOff();
      await env.stop();
    }
  });

  test("npm start prints the page's URL and serves it, talking to the embedded Aedes; bad --http and --ws-url are one line each", { timeout: 60000 }, async () => {
    for (const [flag, value, said] of [["--http", "99999", /^npm start: --http 99999: out of range, expected 0–65535/], ["--ws-url", "tcp://x", /^npm start: --ws-url tcp:\/\/x: is not a ws:\/\/ or wss:\/\/ URL/]]) {
      const r = spawnSync(process.execPath, ["host-sim/sim/cli.mjs", flag, value, "--duration", "1"], { encoding: "utf8", timeout: 20000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, said);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const child = spawn(process.execPath, ["host-sim/sim/cli.mjs", "--duration", "20"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => { out += d; const m = /telemetry page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out); if (m) resolve(m[1]); });
        child.on("exit", (code) => reject(new Error(`npm start exited (${code}): ${out}`)));
      });
      const { page, problems } = await openPage(browser, url);
      await page.waitForFunction(() => document.getElementById("status").textContent === "online", null, { timeout: 10000 });
      await plotsHold(page, "quadruped", 5);
      assert.equal(await text(page, "#device-name"), "wisp-sim");
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      child.kill("SIGTERM");
    }
  });
});
