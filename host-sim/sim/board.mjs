// A simulated board: the built firmware bundle (dist/firmware-<board>.js, exactly what is flashed)
// running in its own Espruino-like context, with its peripherals, Wi-Fi, Storage and power.
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { createEspruinoEnv, createLink, createStorage } from "../espruino/env.mjs";
import { Servo, Body, mpu6050, bme280, battery } from "./peripherals.mjs";
import { readBoard } from "../../boards/schema.mjs";

const DIST = new URL("../../dist/", import.meta.url);
const scripts = new Map();


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
   *  `files`: more Storage files, {name: byte string} (e.g. TLS certificates); `serial`: the chip serial;
   *  `log(line)`: the board's console. With `fromStorage`, the board runs what was flashed into its
   *  Storage (".bootcde"), like a real one, instead of dist/. */
  constructor({ board = "esp32", config = {}, files = {}, serial = "0badc0ffee01", log = () => {}, fromStorage = false } = {}) {
    this.name = board;
    this.data = readBoard(board); // throws BoardError, one line, for a bad board file
    this.log = log;
    this.t0 = performance.now();
    const clock = () => (performance.now() - this.t0) / 1000;
    this.servos = this.data.pins.servos.map(() => new Servo(clock));
    this.body = new Body(this.servos, clock);
    const pins = {};
    this.data.pins.servos.forEach((p, i) => (pins[p] = { pwm: (duty, freq) => this.servos[i].pwm(duty, freq) }));
    pins[this.data.pins.battery] = { analogRead: battery(clock, this.servos).read };
    if (this.data.pins.led) pins[this.data.pins.led] = {}; // digitalWrite sets its value

    /** The board's flash files, kept across boots: storage.read(name), storage.write(name, data). */
    this.storage = createStorage();
    if (!fromStorage) this.storage.write("wisp.json", JSON.stringify(config));
    for (const name in files) this.storage.write(name, files[name]);
    this.link = createLink();
    this.fromStorage = fromStorage;
    const { code, script } = firmware(board);
    this.script = script;
    this.hw = { clock, serial, pins, i2c: [mpu6050(this.body), bme280(clock)], jsvars: this.data.jsvars, codeBytes: code.length, board: this.data.espruinoBoard };
  }

  /** Powers on: a fresh context runs the firmware bundle from the top (with `run` false: nothing, as
   *  after Espruino's reset()). */
  boot(run = true) {
    const codeVars = Math.ceil(this.hw.codeBytes / 12);
    if (codeVars > this.data.jsvars / 2) {
      this.log(`warning: the bundle's code text alone is ≈${codeVars} of ${this.data.jsvars} JsVars if it is held in RAM`);
    }
    const onLoad = () => { this.powerOff(); this.boot(); };
    const onReset = () => { this.powerOff(); this.boot(false); };
    const env = createEspruinoEnv({ hw: this.hw, storage: this.storage, link: this.link, log: this.log, onLoad, onReset });
    this.env = env;
    this.storage.onWrite = null;
    if (!run) return this;
    if (!this.fromStorage) env.run(this.script);
    else if (this.storage.read(".bootcde") !== undefined) {
      // The functions of code run from Storage live in its file: rewriting it pulls them from under the board.
      this.storage.onWrite = (name) => { if (name === ".bootcde") env.codeErased(); };
      this.eval(this.storage.read(".bootcde"));
    }
    return this;
  }

  /** Runs code typed at (or uploaded to) the board's console; returns its value. */
  eval(code) {
    return this.env.eval(code);
  }

  /** The firmware's MQTT client (global `mqtt`), for tests and the console. */
  get client() { return this.env.context.mqtt; }

  /** Whether the board's LED pin (boards/<name>.json pins.led) is driven high. */
  led() { return this.hw.pins[this.data.pins.led].value === 1; }

  /** Current servo shaft angles, degrees. */
  angles() { return this.servos.map((s) => s.angle()); }

  /** The Wi-Fi link: wifi.drop(ms) loses it for ms (every socket dies at once, new ones fail), down(), up(). */
  get wifi() { return this.env.wifi; }

  /** Pulls the power: timers stop, sockets are destroyed without a goodbye (the broker sends the will). */
  powerOff() { this.env.power.off(); }
}
