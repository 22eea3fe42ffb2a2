// Loads a built bundle from dist/ the way a board would run it: as one script, inside the Espruino
// stand-ins (host-sim/espruino/), so that it finds E, byte-string Uint8Array#set and the rest.
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { createBareEnv } from "../espruino/env.mjs";

const DIST = new URL("../../dist/", import.meta.url);

/** dist/wisp.js (or another build of the module, e.g. "test/wisp.espruino.js", unminified) as a module
 *  in a bare Espruino context; its clients use the stand-ins' net unless given a platform. The module
 *  carries the context's Uint8Array as `Uint8Array`, for byte payloads made by the caller. */
export function loadWisp(file = "wisp.js") {
  const env = createBareEnv({ modules: { wisp: readFileSync(new URL(file, DIST), "utf8") } });
  const wisp = env.context.require("wisp");
  Object.defineProperty(wisp, "Uint8Array", { value: vm.runInContext("Uint8Array", env.context) });
  return wisp;
}
