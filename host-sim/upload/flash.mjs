#!/usr/bin/env node
// npm run flash -- --board esp32 --port /dev/ttyUSB0 [--config wisp.config.json] [--baud 115200]
// Uploads a board's firmware bundle with the `espruino` package's CLI, offline: the board data comes
// from boards/<name>.json, never from the internet. The bundle goes to Storage file ".bootcde" (run at
// every boot, from flash) and the configuration to "wisp.json"; then the board restarts into it.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import { readBoard, BoardError } from "../../boards/schema.mjs";
import { buildIfNeeded, ROOT } from "../sim/build.mjs";
import { derFromPem } from "../sim/secure.mjs";

/** Characters of code text per JsVar when code is held in RAM (16-byte blocks, ≈12 bytes of text). */
const CHARS_PER_VAR = 12;

/** Why a flash failed, in words a maker can act on. */
export class FlashError extends Error {}

/** The console line the board prints after the upload: the stored bundle's length and CRC32. */
const VERIFY = 'print("WISP_FLASHED "+require("Storage").read(".bootcde").length+" "+E.CRC32(require("Storage").read(".bootcde")));load()';

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
  } catch (e) {
    throw e instanceof BoardError ? new FlashError(e.message) : e;
  }
  const codeVars = Math.ceil(firmware.length / CHARS_PER_VAR);
  if (codeVars > data.jsvars && !force) {
    throw new FlashError(`the ${board} bundle (${firmware.length} B ≈ ${codeVars} JsVars as text) is bigger than the board's ${data.jsvars} JsVars`);
  }
  const dir = mkdtempSync(join(tmpdir(), "wisp-flash-"));
  const files = { board: join(dir, "board.json"), code: join(dir, "firmware.js"), config: join(dir, "wisp.json") };
  // The CLI otherwise downloads board data; Storage, net and Wifi are built in on every board here.
  writeFileSync(files.board, JSON.stringify({ BOARD: data.espruinoBoard, VERSION: "2v29", info: { builtin_modules: ["Storage", "net", "Wifi", "ESP8266", "ESP32", "http", "crypto"] } }));
  writeFileSync(files.code, firmware);
  const certificates = storeCertificates(config, dir);
  writeFileSync(files.config, JSON.stringify(certificates.config));
  const args = [cli, "--no-ble", "-p", port, "-b", String(baud), "--board", files.board, ...certificates.storage,
    "--storage", `wisp.json:${files.config}`, "--storage", `.bootcde:${files.code}`, "-e", VERIFY];
  log(`uploading dist/firmware-${board}.js (${firmware.length} B) and wisp.json to ${port} …`);
  const output = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => { out += "\n(timed out)"; child.kill("SIGKILL"); }, timeoutMs);
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    child.on("exit", () => { clearTimeout(timer); resolve(out); });
  });
  rmSync(dir, { recursive: true, force: true }); // the configuration's secrets and the key do not stay behind
  const problem = diagnose(output, { port, baud, expect: `${firmware.length} ${zlib.crc32(Buffer.from(firmware, "latin1"))}` });
  if (problem) throw new FlashError(problem);
  log("done: the board restarted into the new firmware");
  return output;
}

/** The espruino package's CLI, wrapped so that it also opens serial devices udev does not list. */
export function espruinoCli() {
  return join(ROOT, "host-sim", "upload", "espruino-cli.cjs");
}

async function main() {
  const { values } = parseArgs({
    options: { board: { type: "string", default: "esp32" }, port: { type: "string" }, baud: { type: "string", default: "115200" }, config: { type: "string" } },
  });
  if (!values.port) {
    console.error("usage: npm run flash -- --board esp32|esp8266|linux --port /dev/ttyUSB0|tcp://host[:port] [--baud 115200] [--config wisp.config.json]");
    process.exit(2);
  }
  try {
    readBoard(values.board);
  } catch (e) {
    if (!(e instanceof BoardError)) throw e;
    console.error(e.message);
    process.exit(2);
  }
  // The configuration (with Wi-Fi secrets) comes from a file that stays out of the repository.
  const configFile = values.config || join(ROOT, "wisp.config.json");
  const config = existsSync(configFile) ? JSON.parse(readFileSync(configFile, "utf8")) : {};
  if (!existsSync(configFile)) console.log(`no ${configFile}: the board keeps its build-time defaults (no Wi-Fi)`);
  buildIfNeeded(values.board);
  const firmware = readFileSync(join(ROOT, "dist", `firmware-${values.board}.js`), "utf8");
  try {
    await flash({ board: values.board, port: values.port, baud: Number(values.baud), config, firmware, cli: espruinoCli(), log: console.log });
  } catch (e) {
    console.error(`flash failed: ${e.message}`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
