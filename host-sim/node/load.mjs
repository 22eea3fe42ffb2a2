// Loads a built bundle from dist/ the way a board would run it: as one script, inside the Espruino
// stand-ins (host-sim/espruino/), so that it finds E, byte-string Uint8Array#set and the rest.
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { createBareEnv } from "../espruino/env.mjs";

const DIST = new URL("../../dist/", import.meta.url);

/** The modules a build of the module is made of, as {name: file in dist/}: dist/wisp.js requires
 *  "wisp-cold" (its rare work, rollup.config.js splitCold); the other builds are one file. */
export function moduleFiles(file = "wisp.js", name = "wisp") {
  return file === "wisp.js" ? { [name]: "wisp.js", "wisp-cold": "wisp-cold.js" } : { [name]: file };
}

/** The sources of moduleFiles(file, name), as the stand-ins' `modules` take them. */
export function moduleSources(file = "wisp.js", name = "wisp") {
  return Object.fromEntries(Object.entries(moduleFiles(file, name)).map(([n, f]) => [n, readFileSync(new URL(f, DIST), "utf8")]));
}

/** dist/wisp.js (or another build of the module, e.g. "test/wisp.espruino.js", unminified) as a module
 *  in a bare Espruino context; its clients use the stand-ins' net unless given a platform. The module
 *  carries the context's Uint8Array as `Uint8Array`, for byte payloads made by the caller. */
export function loadWisp(file = "wisp.js") {
  const env = createBareEnv({ modules: moduleSources(file) });
  const wisp = env.context.require("wisp");
  Object.defineProperty(wisp, "Uint8Array", { value: vm.runInContext("Uint8Array", env.context) });
  return wisp;
}
