// Loads a built bundle from dist/ the way a board would run it: as one script, here in a Node vm.
import { readFileSync } from "node:fs";
import vm from "node:vm";

const DIST = new URL("../../dist/", import.meta.url);

/** dist/wisp.js as a CommonJS module in this Node context (Node's own Uint8Array, no Espruino `E`). */
export function loadWisp() {
  const code = readFileSync(new URL("wisp.js", DIST), "utf8");
  const module = { exports: {} };
  vm.runInThisContext(`(function (exports, module) {${code}\n})`, { filename: "dist/wisp.js" })(module.exports, module);
  return module.exports;
}
