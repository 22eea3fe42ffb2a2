// Headless Chromium for the page tests and bench: Debian's `chromium` package, driven by playwright-core.
// In CI (CI=true) a missing chromium is a failure, never a skip.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
/** True when the chromium executable is installed. */
export const haveChromium = existsSync(CHROMIUM);
/** For test options: skip without chromium, except in CI, where its absence must fail. */
export const skipWithoutChromium = haveChromium || process.env.CI ? false : "chromium is not installed (apt-get install chromium)";

/** Launches the installed Chromium headless (no sandbox: the tests may run as root). */
export function launchChromium() {
  if (!haveChromium) throw new Error(`chromium not found (${CHROMIUM}); CI installs it with apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}
