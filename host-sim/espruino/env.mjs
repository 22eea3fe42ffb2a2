// Espruino's globals and modules, stood in for inside a Node vm context, quirks included, so that a
// bundle that only works because Node is forgiving fails here too. One module per part of the device:
// loop.mjs (event loop, power), net.mjs (sockets), tls.mjs (TLS sockets), wifi.mjs (Wi-Fi and its link), storage.mjs (flash
// files), pins.mjs (pins, PWM, ADC, I2C), strings.mjs (E's string functions, Uint8Array#set(string)),
// globals.mjs (timers, require, process). Each states the quirks it models and how they were measured.
import vm from "node:vm";
import { createLoop } from "./loop.mjs";
import { createNet } from "./net.mjs";
import { createTls } from "./tls.mjs";
import { createLink, createWifi } from "./wifi.mjs";
import { createStorage } from "./storage.mjs";
import { installPins } from "./pins.mjs";
import { installStrings } from "./strings.mjs";
import { installGlobals } from "./globals.mjs";

export { createLink, createStorage };

/** Builds one boot of a simulated board. `hw` supplies its hardware: {clock() s, serial, board,
 *  pins: {name: {analogRead?, pwm?}}, i2c: [device], jsvars, codeBytes}; `storage` (createStorage) and
 *  `link` (createLink) outlive the boot; `log` receives console output; `modules` maps module names to
 *  their source, as Modules.addCached would (e.g. {MQTT: <dist/wisp.js>}); `onLoad` runs on load(),
 *  `onReset` on reset(). Returns {context, run(script), eval(code), power, wifi, storage, net, codeErased()}. */
export function createEspruinoEnv({ hw, log = () => {}, modules = {}, storage = createStorage(), link = createLink(), onLoad, onReset }) {
  const loop = createLoop(log);
  const context = vm.createContext({});
  const net = createNet({ loop, link, context });
  const wifi = createWifi({ loop, link, net });
  const U8 = installStrings(context, vm);
  installPins(context, hw, U8);
  const builtins = { net: net.module, Wifi: wifi.module, Storage: storage };
  // Espruino's ESP8266 builds have no tls module (no room for mbedTLS); ESP32 and Linux builds do.
  if (!/^ESP8266/.test(hw.board || "")) builtins.tls = createTls({ net, context, log }).module;
  installGlobals(context, { loop, hw, log, modules, onLoad, builtins, onReset });
  return {
    context,
    /** Runs a compiled vm.Script in the board's context (a script may be shared between boards). */
    run: (script) => script.runInContext(context),
    /** Runs code typed at (or uploaded to) the board's console; returns its value. */
    eval: (code) => vm.runInContext(code, context, { filename: "console" }),
    /** The power switch: power.off() stops every timer and socket; power.on says whether it is on. */
    power: loop.power,
    /** The Wi-Fi link: drop(ms), down(), up(), connected. */
    wifi,
    /** The board's Storage (flash files): read(name), write(name, data), list(). */
    storage,
    /** The board's sockets: {sockets, destroyAll()}. */
    net,
    /** The Storage file the running code came from was rewritten (see loop.mjs). */
    codeErased: loop.codeErased,
  };
}

/** An Espruino context with no peripherals, on-line, for running a script or module by itself
 *  (`modules` as for createEspruinoEnv); off() switches it off (timers and sockets end). */
export function createBareEnv({ log = () => {}, modules = {} } = {}) {
  const hw = { clock: () => performance.now() / 1000, serial: "1", pins: {}, i2c: [], jsvars: 4000, codeBytes: 0 };
  const env = createEspruinoEnv({ hw, log, modules });
  return { ...env, off: env.power.off };
}
