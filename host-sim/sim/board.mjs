// A simulated board: the built firmware bundle (dist/firmware-<board>.js, exactly what is flashed)
// running in its own Espruino-like context, with its peripherals, Wi-Fi, Storage and power.
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { createEspruinoEnv } from "../espruino/env.mjs";
import { Servo, Body, mpu6050, bme280, battery } from "./peripherals.mjs";

const DIST = new URL("../../dist/", import.meta.url);
const BOARDS = new URL("../../boards/", import.meta.url);
const scripts = new Map();

/** The board's data from boards/<name>.json. */
export function boardData(name) {
  return JSON.parse(readFileSync(new URL(`${name}.json`, BOARDS), "utf8"));
}

/** The compiled firmware of a board, shared by every simulated board of that kind. */
function firmware(name) {
  if (!scripts.has(name)) {
    const file = new URL(`firmware-${name}.js`, DIST);
    const code = readFileSync(file, "utf8");
    scripts.set(name, { code, script: new vm.Script(code, { filename: `dist/firmware-${name}.js` }) });
  }
  return scripts.get(name);
}

export class SimBoard {
  /** `board`: a name in boards/; `config`: the Storage file "wisp.json" (e.g. {brokers, device, app});
   *  `serial`: the chip serial; `log(line)`: the board's console. With `fromStorage`, the board runs
   *  what was flashed into its Storage (".bootcde"), like a real one, instead of dist/. */
  constructor({ board = "esp32", config = {}, serial = "0badc0ffee01", log = () => {}, fromStorage = false } = {}) {
    this.name = board;
    this.data = boardData(board);
    this.log = log;
    this.t0 = performance.now();
    const clock = () => (performance.now() - this.t0) / 1000;
    this.servos = this.data.pins.servos.map(() => new Servo(clock));
    this.body = new Body(this.servos, clock);
    const pins = {};
    this.data.pins.servos.forEach((p, i) => (pins[p] = { pwm: (duty, freq) => this.servos[i].pwm(duty, freq) }));
    pins[this.data.pins.battery] = { analogRead: battery(clock, this.servos).read };
    this.sim = { wifi: this.data.wifi ? true : undefined, off: false, storage: new Map() };
    if (!fromStorage) this.sim.storage.set("wisp.json", JSON.stringify(config));
    this.sim.onLoad = () => { this.powerOff(); this.boot(); };
    this.fromStorage = fromStorage;
    const { code, script } = firmware(board);
    this.script = script;
    this.hw = { clock, serial, pins, i2c: [mpu6050(this.body), bme280(clock)], jsvars: this.data.jsvars, codeBytes: code.length, board: this.data.espruinoBoard };
  }

  /** Powers on: a fresh context runs the firmware bundle from the top. */
  boot() {
    this.sim.off = false;
    const codeVars = Math.ceil(this.hw.codeBytes / 12);
    if (codeVars > this.data.jsvars / 2) {
      this.log(`warning: the bundle's code text alone is ≈${codeVars} of ${this.data.jsvars} JsVars if it is held in RAM`);
    }
    this.env = createEspruinoEnv({ hw: this.hw, sim: this.sim, log: this.log });
    if (!this.fromStorage) this.env.run(this.script);
    else if (this.sim.storage.has(".bootcde")) this.eval(this.sim.storage.get(".bootcde"));
    return this;
  }

  /** Runs code typed at (or uploaded to) the board's console; returns its value. */
  eval(code) {
    return vm.runInContext(code, this.env.context, { filename: "console" });
  }

  /** The firmware's MQTT client (global `mqtt`), for tests and the console. */
  get client() { return this.env.context.mqtt; }

  /** Current servo shaft angles, degrees. */
  angles() { return this.servos.map((s) => s.angle()); }

  /** Loses Wi-Fi for `ms`: every socket dies at once, new ones fail, then the link comes back. */
  dropWifi(ms) {
    this.sim.wifi = false;
    for (const s of [...this.env.sockets]) s.destroy();
    setTimeout(() => { this.sim.wifi = true; }, ms);
  }

  /** Pulls the power: timers stop, sockets are destroyed without a goodbye (the broker sends the will). */
  powerOff() {
    this.sim.off = true;
    for (const t of this.env.timers) { clearTimeout(t); clearInterval(t); }
    for (const s of [...this.env.sockets]) s.destroy();
  }
}
