// node bench/web.mjs (on demand, not in CI): the live telemetry page under a fleet, as
// `npm start -- --devices 50` runs it: 50 simulated quadrupeds at 10 Hz on the embedded Aedes, the page
// in headless Chromium (Debian's chromium) over the page server's WebSocket, showing the fleet table and
// the first board's plots (trotting). Prints one JSON line: frame times (from each frame's start to the
// end of its main-thread work: rAF callbacks, style, layout, paint), their median, p95 and share over
// 16 ms, frames per second, the telemetry rate the page counted, the renderer's main-thread busy share,
// and the machine's load (the bench shares its cores with the boards, the broker and anything else).
// Chromium runs with --disable-gpu (software raster, as on a machine without a GPU); --gpu keeps its
// default GPU settings (with no GPU here, Chromium emulates one in software). Options: --boards N, --rate HZ,
// --seconds S measured after --warmup S (32: the plots' 30 s window full).
import { parseArgs } from "node:util";
import { loadavg, cpus } from "node:os";
import { chromium } from "playwright-core";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { buildIfNeeded } from "../host-sim/sim/build.mjs";
import { startWebServer } from "../host-sim/web/server.mjs";
import { startAedes } from "../test/helpers/brokers.mjs";
import { CHROMIUM } from "../test/helpers/browser.mjs";

const { values: args } = parseArgs({ options: { boards: { type: "string", default: "50" }, rate: { type: "string", default: "10" }, seconds: { type: "string", default: "10" }, warmup: { type: "string", default: "32" }, gpu: { type: "boolean" } } });
const N = Number(args.boards);
const RATE = Number(args.rate);
buildIfNeeded("esp32");

const broker = await startAedes();
const ids = Array.from({ length: N }, (_, i) => `wisp-sim-${String(i + 1).padStart(3, "0")}`);
const web = await startWebServer({ devices: ids, aedes: broker.aedes });
const boards = ids.map((device, i) => new SimBoard({ board: "esp32", serial: `be7c4${String(i).padStart(7, "0")}`, config: { brokers: [broker.url], device, rate_hz: RATE } }).boot());
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", ...(args.gpu ? [] : ["--disable-gpu"])] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const cdp = await page.context().newCDPSession(page);
await cdp.send("Performance.enable");
await page.goto(web.url);
await page.waitForFunction((n) => [...document.querySelectorAll("#fleet-rows tr")].filter((r) => r.cells[1].textContent === "online").length === n, N, { timeout: 60000 });
// Let the plots fill their 30 s window, and keep the board driving (trot) so every series moves.
await page.getByRole("button", { name: "trot", exact: true }).click();
await new Promise((r) => setTimeout(r, Number(args.warmup) * 1000));

const busy = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
const before = await busy();
const frames = await page.evaluate((seconds) => new Promise((resolve) => {
  const out = [];
  const until = performance.now() + seconds * 1000;
  function onFrame(start) {
    // A message posted in a rAF callback runs after that frame's rendering work on the main thread.
    const ch = new MessageChannel();
    ch.port1.onmessage = () => out.push(performance.now() - start);
    ch.port2.postMessage(0);
    if (performance.now() < until) requestAnimationFrame(onFrame);
    else setTimeout(() => resolve(out), 50);
  }
  requestAnimationFrame(onFrame);
}), Number(args.seconds));
const after = await busy();
const summary = await page.locator("#fleet-summary").textContent();
const points = await page.locator("#plot-leg0").getAttribute("data-points");

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2)) : null; };
console.log(JSON.stringify({
  case: `telemetry page: ${N} boards × ${RATE} Hz, headless Chromium ${browser.version()}${args.gpu ? "" : " --disable-gpu"}`,
  frames: frames.length,
  fps: Number((frames.length / Number(args.seconds)).toFixed(1)),
  frame_ms_median: pct(frames, 0.5),
  frame_ms_p95: pct(frames, 0.95),
  frames_over_16ms: `${((frames.filter((f) => f > 16).length / frames.length) * 100).toFixed(0)} %`,
  target: "median < 16 ms",
  page_fleet: summary,
  plot_points_per_series: Number(points),
  renderer_main_thread_busy: `${(((after.TaskDuration - before.TaskDuration) / (after.Timestamp - before.Timestamp)) * 100).toFixed(0)} %`,
  load_average_1m: `${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
}));

await browser.close();
for (const b of boards) b.powerOff();
await web.close();
await broker.stop();
process.exit(0);
