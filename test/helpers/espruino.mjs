// Runs JavaScript on a real Espruino Linux interpreter when ESPRUINO_BIN names one (never in CI).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ESPRUINO_BIN = process.env.ESPRUINO_BIN || "";
export const skipWithoutEspruino = ESPRUINO_BIN ? false : "ESPRUINO_BIN is not set: the real-interpreter check was skipped";

/** Runs `script` with `modules` ({name: path}) in ./node_modules; resolves with its console output when
 *  it exits (it stays alive while sockets or timers exist, so scripts quit()); `onOutput(all)` sees the
 *  output as it grows. */
export function runOnEspruino(script, { modules = {}, timeoutMs = 20000, onOutput = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "wisp-espruino-"));
  mkdirSync(join(dir, "node_modules"));
  for (const [name, path] of Object.entries(modules)) copyFileSync(path, join(dir, "node_modules", `${name}.js`));
  writeFileSync(join(dir, "main.js"), script);
  return new Promise((resolve, reject) => {
    // stdin stays open and silent: a closed stdin floods Espruino's console.
    const child = spawn(ESPRUINO_BIN, ["main.js"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; onOutput(out); });
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`Espruino timed out; output:\n${out}`)); }, timeoutMs);
    child.on("exit", () => { clearTimeout(timer); resolve(out); });
  });
}
