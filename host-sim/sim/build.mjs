// Rebuilds dist/ when a firmware source, board file or the build config is newer than a board's bundle.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs the build if dist/firmware-<board>.js is missing or older than its sources; exits on failure. */
export function buildIfNeeded(board) {
  const out = join(ROOT, "dist", `firmware-${board}.js`);
  const newest = (dir) => readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, f)).mtimeMs).reduce((a, b) => Math.max(a, b), 0);
  const sources = Math.max(newest(join(ROOT, "firmware")), newest(join(ROOT, "boards")), statSync(join(ROOT, "rollup.config.js")).mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs >= sources) return;
  console.log("building dist/ …");
  const r = spawnSync("npx", ["rollup", "-c"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status || 1);
}
