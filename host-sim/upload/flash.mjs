#!/usr/bin/env node
// npm run flash -- --board esp32 --port /dev/ttyUSB0 [--config wisp.config.json] [--baud 115200]
// Uploads a board's firmware bundle with the `espruino` package's CLI, offline: the board data comes
// from boards/<name>.json, never from the internet. The configuration is checked against the schema of
// the firmware's defaults (boards/schema.mjs) before anything is sent. The board is reset (whatever it
// runs stops), the bundle goes to Storage file ".bootcde" (run at every boot, from flash) and the
// configuration to "wisp.json"; then the board restarts into it. The files handed to the CLI (the
// configuration holds the Wi-Fi password) live in a private temporary folder removed afterwards.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import zlib from "node:zlib";
import { readBoard, validateConfig, BoardError, ConfigError } from "../../boards/schema.mjs";
import { buildIfNeeded, ROOT } from "../sim/build.mjs";
import { derFromPem } from "../sim/secure.mjs";
import { parseOptions, helpText, runCommand, UsageError } from "../cli-options.mjs";

/** Characters of code text per JsVar when code is held in RAM (16-byte blocks, ≈12 bytes of text). */
const CHARS_PER_VAR = 12;

/** Why a flash failed, in words a maker can act on. */
export class FlashError extends Error {}

/** What runs on the board after the upload: prints the stored bundle's length and CRC32, then restarts
 *  into it. Sent as a file, not with -e, so that the CLI resets the board before the upload: code
 *  running from ".bootcde" while that file is rewritten fails with "Function code is null". */
const VERIFY = 'print("WISP_FLASHED "+require("Storage").read(".bootcde").length+" "+E.CRC32(require("Storage").read(".bootcde")));load()\n';

/** What the espruino CLI printed, read for the usual failures; `expect` is "<length> <crc32>". */
export function diagnose(output, { port, baud, expect }) {
  if (/Port .* not found|ENOENT|No such file/i.test(output)) return `no serial port ${port}: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)`;
  if (/ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|ENOTFOUND/.test(output)) return `nothing answers at ${port}: is the board on the network with its console (telnet) enabled?`;
  if (/EACCES|Permission denied/i.test(output)) return `no permission for ${port}: add yourself to the dialout group`;
  if (/Unable to connect/i.test(output)) return `could not open ${port}`;
  if (/Out of Memory|ALLOC|Not enough free memory/i.test(output)) return "the board ran out of memory (JsVars) while loading the bundle: use a board with more, or fewer apps";
  if (/Storage full|Unable to find or create file/i.test(output)) return "the board's Storage is full: erase it with require('Storage').eraseAll()";
  if (/Uncaught/.test(output)) return `the board reported an error: ${output.match(/Uncaught[^\n]*/)[0]}`;
  const flashed = output.match(/WISP_FLASHED (\d+ \d+)/);
  if (!flashed) return `the board did not answer like Espruino: wrong baud rate (${baud})? not running Espruino?`;
  if (flashed[1] !== expect) return `the bundle arrived damaged (length and CRC32 on the board ${flashed[1]}, expected ${expect}): try a lower baud rate`;
  return null;
}

/** The configuration's TLS certificates ("ca", "cert", "key": PEM files on this computer, paths relative
 *  to the working directory) converted to DER (what Espruino's tls module takes) in `dir`, to be stored
 *  on the board as Storage files wisp.ca, wisp.crt, wisp.key. Returns the board's configuration, which
 *  names those files, and the CLI's --storage arguments. Errors name the file, never its contents. */
export function storeCertificates(config, dir) {
  const board = { ...config };
  const storage = [];
  for (const [key, name] of [["ca", "wisp.ca"], ["cert", "wisp.crt"], ["key", "wisp.key"]]) {
    if (config[key] === undefined) continue;
    let der;
    try {
      der = derFromPem(config[key]);
    } catch (e) {
      throw new FlashError(`"${key}" in the configuration: ${e.message}`);
    }
    writeFileSync(join(dir, name), der, { mode: 0o600 });
    storage.push("--storage", `${name}:${join(dir, name)}`);
    board[key] = name;
  }
  return { config: board, storage };
}

/** Uploads `firmware` (code) and `config` (object) to the board at `port`; resolves with the CLI's output. */
export async function flash({ board, port, baud = 115200, config = {}, firmware, cli, timeoutMs = 120000, log = () => {}, force = false }) {
  let data;
  try {
    data = readBoard(board);
    validateConfig(config, data, "configuration");
  } catch (e) {
    throw e instanceof BoardError || e instanceof ConfigError ? new FlashError(e.message) : e;
  }
  const codeVars = Math.ceil(firmware.length / CHARS_PER_VAR);
  if (codeVars > data.jsvars && !force) {
    throw new FlashError(`the ${board} bundle (${firmware.length} B ≈ ${codeVars} JsVars as text) is bigger than the board's ${data.jsvars} JsVars`);
  }
  const dir = mkdtempSync(join(tmpdir(), "wisp-flash-")); // private (0700), removed below
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir); // even when the process is ended mid-upload
  const files = { board: join(dir, "board.json"), code: join(dir, "firmware.js"), config: join(dir, "wisp.json"), verify: join(dir, "verify.js") };
  let output;
  try {
    // The CLI otherwise downloads board data; Storage, net and Wifi are built in on every board here.
    writeFileSync(files.board, JSON.stringify({ BOARD: data.espruinoBoard, VERSION: "2v29", info: { builtin_modules: ["Storage", "net", "Wifi", "ESP8266", "ESP32", "http", "crypto"] } }));
    writeFileSync(files.code, firmware);
    const certificates = storeCertificates(config, dir);
    writeFileSync(files.config, JSON.stringify(certificates.config), { mode: 0o600 });
    writeFileSync(files.verify, VERIFY);
    // Line numbers are for code kept in RAM; here they would only prefix the Storage writes.
    const args = [cli, "--no-ble", "-p", port, "-b", String(baud), "--board", files.board, "--config", "STORE_LINE_NUMBERS=false",
      ...certificates.storage, "--storage", `wisp.json:${files.config}`, "--storage", `.bootcde:${files.code}`, files.verify];
    log(`uploading dist/firmware-${board}.js (${firmware.length} B) and wisp.json to ${port} …`);
    output = await new Promise((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      const timer = setTimeout(() => { out += "\n(timed out)"; child.kill("SIGKILL"); }, timeoutMs);
      child.stdout.on("data", (d) => { out += d; });
      child.stderr.on("data", (d) => { out += d; });
      child.on("exit", () => { clearTimeout(timer); resolve(out); });
    });
  } finally {
    removeDir();
    process.off("exit", removeDir);
  }
  const problem = diagnose(output, { port, baud, expect: `${firmware.length} ${zlib.crc32(Buffer.from(firmware, "latin1"))}` });
  if (problem) throw new FlashError(problem);
  log("done: the board restarted into the new firmware");
  return output;
}

/** The espruino package's CLI, wrapped so that it also opens serial devices udev does not list. */
export function espruinoCli() {
  return join(ROOT, "host-sim", "upload", "espruino-cli.cjs");
}

const COMMAND = "npm run flash";
const BAUD_RATES = [9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600];

/** npm run flash's options: parsed, checked and listed in --help from this one table. */
export const OPTIONS = {
  board: { type: "string", value: "NAME", default: "esp32", help: "the board: a file in boards/ (esp32, esp8266, linux)", check: (name) => { try { readBoard(name); return null; } catch (e) { if (e instanceof BoardError) return e.message; throw e; } } },
  port: { type: "string", short: "p", value: "PORT", help: "the board's console: a serial device (/dev/ttyUSB0) or tcp://host[:port] (its telnet console)", check: (p) => (/^(\/dev\/\S+|tcp:\/\/[^:\s/]+(:\d{1,5})?)$/.test(p) ? null : "is not a serial device (/dev/…) or tcp://host[:port]") },
  baud: { type: "integer", short: "b", value: "RATE", default: 115200, help: "serial baud rate", check: (b) => (BAUD_RATES.includes(b) ? null : `is not a serial baud rate (${BAUD_RATES.join(", ")})`) },
  config: { type: "string", short: "c", value: "FILE", help: "the device's configuration (Wi-Fi, brokers, device id, app; default wisp.config.json)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** The configuration file `file`, parsed and checked for board `data`; throws a one-line UsageError. */
export function readConfig(file, data) {
  const shown = file.startsWith(`${process.cwd()}/`) ? relative(process.cwd(), file) : file;
  if (!existsSync(file)) {
    throw new UsageError(`no configuration file ${shown}: create it (README, "Flashing a board": {"ssid", "password", "brokers", "device", "app"}) or give one with --config FILE`);
  }
  let config;
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${shown}: not valid JSON (${e.message.split("\n")[0]}): fix the file`);
  }
  try {
    validateConfig(config, data, shown);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`${e.message}: fix the file`);
    throw e;
  }
  if (data.wifi && !config.ssid) throw new UsageError(`${shown}: ssid: missing: the ${data.name} joins Wi-Fi with "ssid" and "password"; add them to the file`);
  return config;
}

async function main() {
  const values = parseOptions(COMMAND, OPTIONS);
  if (values.help) {
    console.log(helpText(`usage: ${COMMAND} -- --port PORT [options]   (builds if needed, then writes the firmware and configuration to the board)`, OPTIONS,
      ["wisp.config.json (git ignores it: it holds the Wi-Fi password), checked against the firmware's configuration schema:",
        '  {"ssid", "password", "brokers": ["host:port", …], "device", "app", "rate_hz", "control_hz", "period_s", "failsafe_ms", "keep_alive"}']));
    return;
  }
  if (!values.port) throw new UsageError(`which board? give its console with --port /dev/ttyUSB0 or --port tcp://host (see ${COMMAND} -- --help)`);
  if (values.port.startsWith("/dev/") && !existsSync(values.port)) {
    throw new UsageError(`no serial port ${values.port}: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)`, 1);
  }
  const data = readBoard(values.board);
  // The configuration (with Wi-Fi secrets) comes from a file that stays out of the repository.
  // npm runs scripts in the package's folder; a relative --config is meant from where npm was started.
  const config = readConfig(values.config ? resolve(process.env.INIT_CWD || process.cwd(), values.config) : join(ROOT, "wisp.config.json"), data);
  buildIfNeeded(values.board);
  const firmware = readFileSync(join(ROOT, "dist", `firmware-${values.board}.js`), "utf8");
  // Ctrl-C mid-upload: exit through process.exit, so that the temporary files are removed.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => { console.error(`${COMMAND}: interrupted: the board may hold part of the upload; flash it again`); process.exit(130); });
  }
  try {
    await flash({ board: values.board, port: values.port, baud: values.baud, config, firmware, cli: espruinoCli(), log: console.log });
  } catch (e) {
    if (e instanceof FlashError) throw new UsageError(`flash failed: ${e.message}`, 1);
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runCommand(COMMAND, main, [BoardError, ConfigError]);
