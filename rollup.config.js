// Builds what gets flashed: dist/wisp.js (the client as an Espruino module) and one firmware bundle per
// board in boards/, plus unminified builds for the tests (dist/test/: the codec as ESM for Node and as ES5
// for the Espruino stand-ins, the module as ES5) and the Node platform (dist/node-platform.mjs).
import { resolve } from "node:path";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import ts5 from "typescript";
import { readBoard, boardNames, BoardError } from "./boards/schema.mjs";

const minify = () =>
  terser({
    ecma: 5,
    module: false,
    // Espruino hoists neither `var` nor function declarations: make terser put every one at the top of its
    // function (hoist_vars, hoist_funs), and keep inlining shallow: deeper inlining leaves `var x` after a
    // `return`, which Espruino never runs (test/bundle.test.mjs catches it). No reduce_vars: it turns
    // single-use helpers into function expressions called in place, which Espruino re-creates (copying
    // their code text) on every call of the function around them.
    // directives: false keeps the "ram" that hot functions start with (see README, Architecture).
    compress: { passes: 2, inline: 1, hoist_vars: true, hoist_funs: true, reduce_vars: false, directives: false },
    mangle: { properties: { regex: /_$/ } }, // private members end in "_" (firmware/session/client.ts)
    format: { comments: false, ascii_only: true },
  });

/** Resolves `import { ESPRUINO } from "wisp-target"`: true for everything that runs on Espruino (or its
 *  stand-ins), false for the Node build of the codec; rollup then drops the other branch. */
const target = (espruino, module = false) => ({
  name: "wisp-target",
  resolveId: (id) => (id === "wisp-target" ? "\0wisp-target" : null),
  load: (id) => (id === "\0wisp-target" ? `export const ESPRUINO = ${espruino};\nexport const MODULE = ${module};` : null),
});

const ts = () => typescript({ tsconfig: "./tsconfig.json", noEmitOnError: true, outputToFilesystem: false });
/** TypeScript for the test-only entries in test/entries/: const enums kept as objects (Err as a table). */
const testTs = () =>
  typescript({ tsconfig: "./tsconfig.json", noEmitOnError: true, outputToFilesystem: false, preserveConstEnums: true, include: ["firmware/**/*.ts", "test/entries/*.ts"] });

/** The part of a board's data the firmware reads (the rest is for the tools and the simulator). */
const FIRMWARE_FIELDS = ["name", "maxPacket", "maxChunk", "txBuffer", "txWindow", "inflight", "inflightBytes", "maxSubscriptions", "wifi", "pins", "defaults"];
const firmwareFields = (board) => {
  const fields = Object.fromEntries(FIRMWARE_FIELDS.map((k) => [k, board[k]]));
  // Servo pins only where the quadruped is built in: every embedded value costs the board JsVars.
  if (!board.apps.includes("quadruped")) fields.pins = Object.fromEntries(Object.entries(board.pins).filter(([k]) => k !== "servos"));
  return fields;
};

/** A board's data, boards/<name>.json, checked against boards/schema.mjs: a bad file stops the build
 *  with one line naming the file, the key and the problem. */
const boardData = (name) => {
  try {
    return readBoard(name);
  } catch (e) {
    if (!(e instanceof BoardError)) throw e;
    console.error(`build stopped: ${e.message}`);
    process.exit(1);
  }
};

/** Resolves `import board from "board-config"` to a function making the board's data (so it takes the
 *  heap only while read, its values in the code), `import apps from "board-apps"`
 *  to the apps that board lists (firmware/apps/<app>.ts exporting <app>App), and
 *  `import { create } from "board-session"` to the board's session (boards/<name>.json "session":
 *  "compact", session/compact.ts, or "layered", session/client.ts), all fixed at build time. */
const boardConfig = (board) => {
  const apps = board.apps.map((a) => `import { ${a}App } from ${JSON.stringify(resolve(`firmware/apps/${a}.ts`))};`);
  const session = resolve(board.session === "compact" ? "firmware/session/compact.ts" : "firmware/session/layered-create.ts");
  return {
    name: "board-config",
    resolveId: (id) => (id === "board-config" || id === "board-apps" ? `\0${id}` : id === "board-session" ? session : null),
    load: (id) =>
      id === "\0board-config" ? `export default function () { return ${JSON.stringify(firmwareFields(board))}; }`
      : id === "\0board-apps" ? `${apps.join("\n")}\nexport default { ${board.apps.map((a) => `${a}: ${a}App`).join(", ")} };`
      : null,
  };
};

/** Drops the `"ram";` that hot functions start with, for boards whose heap cannot spare a RAM copy of
 *  them (boards/<name>.json "hotFunctionsInRam": false): there they run from flash, slower. */
const codeInFlashOnly = () => ({
  name: "code-in-flash-only",
  transform: (code, id) => (/\.ts$/.test(id) ? { code: code.replace(/^\s*"ram";\n/gm, ""), map: null } : null),
});

/** Takes the classes TypeScript's ES5 output wraps in a function called in place
 *  (`var C = (function () { function C() {…} C.prototype.m = …; return C; }())`) out of that wrapper:
 *  Espruino gives every function made inside another function a copy of the list of scopes it sees, about
 *  3 JsVars more per method than one made at module level (38 JsVars for the Client on an ESP8266). Only
 *  classes without `extends` (whose wrapper takes no parameter); the methods then see the module's
 *  scope, as TypeScript's own checks assumed. */
const flatClasses = () => ({
  name: "flat-classes",
  transform(code, id) {
    if (!/\.ts$/.test(id)) return null;
    const out = code.replace(/var (\w+) = \/\*\* @class \*\/ \(function \(\) \{\n([\s\S]*?)\n    return \1;\n\}\(\)\);/g, (all, name, body) => {
      if (!new RegExp(`^\\s*(/\\*\\*[\\s\\S]*?\\*/\\s*)?function ${name}\\(`).test(body)) this.error(`flat-classes: ${name} does not start with its constructor`);
      return body;
    });
    return out === code ? null : { code: out, map: null };
  },
});

/** Makes the interpreter store the module's functions pretokenised while it creates them (Espruino's
 *  `pretokenise` flag, set back to what it was at the end): a module uploaded as text keeps each
 *  function's code in RAM, and tokenised it is about a tenth smaller and much faster to run (keywords
 *  and operators one byte, no lexing of them on each call). Code loaded from Storage is unaffected: its
 *  functions point into flash whatever the flag. Added after minification, so that it stays the first
 *  statement, before the function declarations terser hoists. */
const pretokenised = () => ({
  name: "pretokenised",
  renderChunk: (code) => ({ code: `exports.F=E.getFlags().pretokenise;E.setFlags({pretokenise:1});${code.trimEnd()}\nE.setFlags({pretokenise:exports.F});delete exports.F;\n`, map: null }),
});

/** Type declarations of the module for users' own TypeScript: dist/types/ (one .d.ts per source file
 *  the module's API reaches) and dist/wisp.d.ts (package.json "types"), from firmware/wisp-full.ts: the
 *  compact module (firmware/wisp.ts) has the same API, its methods typed loosely in its source. */
const declarations = () => ({
  name: "wisp-declarations",
  writeBundle() {
    const options = { ...ts5.parseJsonConfigFileContent(ts5.readConfigFile("tsconfig.json", ts5.sys.readFile).config, ts5.sys, ".").options,
      declaration: true, emitDeclarationOnly: true, declarationDir: "dist/types", noEmit: false, rootDir: "firmware" };
    const program = ts5.createProgram(["firmware/wisp-full.ts", "firmware/globals.d.ts"], options);
    const written = [];
    const result = program.emit(undefined, (file, text) => {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      written.push(file);
    });
    const errors = ts5.getPreEmitDiagnostics(program).concat(result.diagnostics);
    if (errors.length) this.error(`declarations: ${ts5.flattenDiagnosticMessageText(errors[0].messageText, " ")}`);
    writeFileSync("dist/wisp.d.ts", '// Types of require("wisp") (dist/wisp.js and dist/wisp-esp32.js: one API), generated by the build from firmware/wisp-full.ts.\nexport * from "./types/wisp-full";\n');
  },
});

/** The codec as ESM for Node, all `npm run bench:codec` needs. */
const codecForNode = {
  input: "test/entries/codec.ts",
  output: { file: "dist/test/codec.mjs", format: "es" },
  plugins: [target(false), testTs()],
};

/** Every bundle; `rollup -c --configCodec` builds only the codec for Node (npm run bench:codec). */
export default (args) => (args.configCodec ? [codecForNode] : everything());

const everything = () => [
  {
    // The module for every board: the compact session (firmware/wisp.ts), no "ram" copies.
    input: "firmware/wisp.ts",
    output: { file: "dist/wisp.js", format: "cjs", esModule: false, strict: false, generatedCode: { preset: "es5", symbols: false } },
    plugins: [target(true, true), codeInFlashOnly(), ts(), minify(), pretokenised()],
  },
  {
    // The layered module (firmware/wisp-full.ts: QoS 2, TLS) with its hot functions copied to RAM by
    // "ram" when required from Storage: several times faster from flash; for boards with heap to spare
    // (ESP32).
    input: "firmware/wisp-full.ts",
    output: { file: "dist/wisp-esp32.js", format: "cjs", esModule: false, strict: false, generatedCode: { preset: "es5", symbols: false } },
    plugins: [target(true, true), ts(), flatClasses(), minify(), pretokenised(), declarations()],
  },
  {
    // Both modules unminified, for the session tests in the Espruino stand-ins: a failure names a line.
    input: "firmware/wisp-full.ts",
    output: { file: "dist/test/wisp.espruino.js", format: "cjs", esModule: false, strict: false, generatedCode: { preset: "es5", symbols: false } },
    plugins: [target(true, true), ts(), flatClasses()],
  },
  {
    input: "firmware/wisp.ts",
    output: { file: "dist/test/wisp-compact.espruino.js", format: "cjs", esModule: false, strict: false, generatedCode: { preset: "es5", symbols: false } },
    plugins: [target(true, true), ts()],
  },
  ...boardNames().map((name) => {
    const board = boardData(name);
    return {
      input: "firmware/main.ts",
      output: { file: `dist/firmware-${name}.js`, format: "iife", strict: false, generatedCode: { preset: "es5", symbols: false } },
      plugins: [target(true), boardConfig(board), ...(board.hotFunctionsInRam === false ? [codeInFlashOnly()] : []), ts(), flatClasses(), minify()],
    };
  }),
  {
    // The Platform on Node, type-checked against firmware/platform.ts (the build stops if it drifts).
    input: "host-sim/node/node-platform.ts",
    output: { file: "dist/node-platform.mjs", format: "es" },
    external: [/^node:/],
    plugins: [typescript({ tsconfig: "./host-sim/node/tsconfig.json", noEmitOnError: true, outputToFilesystem: false })],
  },
  codecForNode,
  {
    // The same codec for Espruino, unminified, for the tests that run it inside the Espruino stand-ins:
    // the Espruino branch, with failures naming a readable line.
    input: "test/entries/codec.ts",
    output: { file: "dist/test/codec.es5.js", format: "cjs", esModule: false, strict: false, generatedCode: { preset: "es5", symbols: false } },
    plugins: [target(true), testTs()],
  },
  {
    // The codec minified as the firmware is, for profiling it on the Espruino interpreter (bench/).
    input: "firmware/codec/index.ts",
    output: { file: "dist/test/codec.espruino.js", format: "cjs", esModule: false, strict: false, generatedCode: { preset: "es5", symbols: false } },
    plugins: [target(true), ts(), minify()],
  },
];
