// A quadruped firmware with an ESP8266's limits, for the bench (issue 9: "the quadruped firmware fits an
// ESP8266 too, with the number said"): boards/esp8266.json lists only the sensor app, so this builds
// dist/firmware-esp8266.js's rollup configuration with the quadruped app and the board's servo pins
// instead, into a folder of the caller's, never into dist/.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { rollup } from "rollup";
import rollupConfig from "../rollup.config.js";

/** Every build of rollup.config.js (it exports a function of rollup's command-line arguments). */
const configs = typeof rollupConfig === "function" ? rollupConfig({}) : rollupConfig;

/** Builds the bundle into `dir`: { file } or { failed: one line }. */
export async function buildQuadrupedEsp8266(dir) {
  try {
    const base = configs.find((c) => c.output.file === "dist/firmware-esp8266.js");
    const boardPlugin = base.plugins.find((p) => p.name === "board-config");
    // The fields the real build embeds for the board (servo pins left out: it has no quadruped), plus the servos.
    const fields = JSON.parse(boardPlugin.load("\0board-config").replace(/^export default function \(\) \{ return /, "").replace(/; \}$/, ""));
    fields.pins.servos = JSON.parse(readFileSync("boards/esp8266.json", "utf8")).pins.servos;
    const quadruped = {
      name: "bench-quadruped-board",
      resolveId: (id) => (id === "board-config" || id === "board-apps" ? `\0bench-${id}` : null),
      load: (id) =>
        id === "\0bench-board-config" ? `export default function () { return ${JSON.stringify(fields)}; }`
        : id === "\0bench-board-apps" ? `import { quadrupedApp } from ${JSON.stringify(resolve("firmware/apps/quadruped.ts"))};\nexport default { quadruped: quadrupedApp };`
        : null,
    };
    const bundle = await rollup({ input: base.input, plugins: [quadruped, ...base.plugins], onwarn: () => {} });
    const file = join(dir, "firmware-esp8266-quadruped.js");
    await bundle.write({ ...base.output, file });
    await bundle.close();
    return { file };
  } catch (e) {
    return { failed: `the quadruped build for the ESP8266 failed: ${String(e.message || e).split("\n")[0]}` };
  }
}
