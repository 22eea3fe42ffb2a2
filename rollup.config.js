// Builds what gets flashed: dist/wisp.js (the client as an Espruino module) and one firmware bundle per
// board in boards/, plus unminified builds for the tests (dist/test/: the codec as ESM for Node and as ES5
// for the Espruino stand-ins, the module as ES5) and the Node platform (dist/node-platform.mjs).
import { resolve } from "node:path";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import ts5 from "typescript";
import { parse } from "acorn";
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
 *  function's code in RAM, and tokenised it is about a tenth smaller (keywords and operators one byte;
 *  measured: 2 % fewer instructions per message too). Code loaded from Storage is unaffected: its
 *  functions point into flash whatever the flag. Added after minification, so that it stays the first
 *  statement, before the function declarations terser hoists. */
const withPretokenise = (code) => `exports.F=E.getFlags().pretokenise;E.setFlags({pretokenise:1});${code.trimEnd().replace(/;?$/, ";")}E.setFlags({pretokenise:exports.F});delete exports.F;\n`;
const pretokenised = () => ({
  name: "pretokenised",
  renderChunk: (code) => ({ code: withPretokenise(code), map: null }),
});

/** The Identifier nodes in ES5 code `node` that read a name from outside it: names no function or
 *  catch clause within it (nor `node` itself, when it is a function) declares; in source order. */
function freeIdentifiers(node) {
  const free = [];
  const declaredIn = (fn) => {
    const names = new Set(fn.params.map((p) => p.name));
    if (fn.type === "FunctionExpression" && fn.id) names.add(fn.id.name);
    const collect = (n) => {
      if (!n || typeof n.type !== "string") return;
      if (n.type === "VariableDeclarator") names.add(n.id.name);
      if (n.type === "FunctionDeclaration") { names.add(n.id.name); return; }
      if (n.type === "FunctionExpression") return;
      for (const k of Object.keys(n)) { const v = n[k]; if (Array.isArray(v)) v.forEach(collect); else if (v && typeof v.type === "string") collect(v); }
    };
    collect(fn.body);
    return names;
  };
  const visit = (n, scopes, parent) => {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") return visit(n.body, [...scopes, declaredIn(n)], n);
    if (n.type === "CatchClause") return visit(n.body, [...scopes, new Set([n.param.name])], n);
    if (n.type === "Identifier") {
      if (parent && parent.type === "MemberExpression" && parent.property === n && !parent.computed) return;
      if (parent && parent.type === "Property" && parent.key === n && !parent.computed) return;
      if (!scopes.some((sc) => sc.has(n.name))) free.push(n);
      return;
    }
    if (n.type === "LabeledStatement" || n.type === "BreakStatement" || n.type === "ContinueStatement") return n.body && visit(n.body, scopes, n);
    for (const k of Object.keys(n)) { const v = n[k]; if (Array.isArray(v)) v.forEach((c) => visit(c, scopes, n)); else if (v && typeof v.type === "string") visit(v, scopes, n); }
  };
  visit(node, [], null);
  return free.sort((a, b) => a.start - b.start);
}

/** The names ES5 code `node` reads from outside itself (freeIdentifiers, once each). */
const freeNames = (node) => [...new Set(freeIdentifiers(node).map((id) => id.name))];

/** Splits the minified module in two (dist/wisp.js and dist/<name>.js): the functions marked with a
 *  "cold" directive (the session's op) and every module function they alone call go to module `name`,
 *  with copies of the module constants they read; the module gets them back with one require. Uploaded
 *  as text (the Web IDE sends each module it finds as its own Modules.addCached, the module's require
 *  first), each text is held in RAM only while it loads, beside the functions made so far: the whole
 *  module's text held at once beside all its functions' copies is what an ESP8266's heap cannot hold
 *  (README, What things cost). The build stops if a cold function reads anything else of the module. */
const splitCold = (name) => {
  let cold = "";
  return {
    name: "split-cold",
    renderChunk(code) {
      const ast = parse(code, { ecmaVersion: 5 });
      const functions = new Map(), constants = new Map();
      for (const n of ast.body) {
        if (n.type === "FunctionDeclaration") functions.set(n.id.name, n);
        else if (n.type === "VariableDeclaration") for (const d of n.declarations) constants.set(d.id.name, d);
      }
      const isMarked = (fn) => fn.body.body.some((st) => st.type === "ExpressionStatement" && st.directive === "cold");
      const coldSet = new Set([...functions.values()].filter(isMarked).map((f) => f.id.name));
      if (!coldSet.size) this.error("split-cold: no function is marked \"cold\"");
      // Every module function a cold one calls goes with it; the rest of the module gets those it calls
      // itself back through the require.
      for (let grew = true; grew; ) {
        grew = false;
        for (const f of coldSet) for (const n of freeNames(functions.get(f))) if (functions.has(n) && !coldSet.has(n)) { coldSet.add(n); grew = true; }
      }
      // Module constants the cold code reads are written out in it where they are read (each made of
      // globals only, e.g. E.toString): a constant of its own would cost the heap a variable.
      const inline = new Map();
      for (const f of coldSet) for (const n of freeNames(functions.get(f))) {
        if (functions.has(n) || !constants.has(n)) continue; // a cold function, or a global (E, String…)
        const d = constants.get(n);
        const local = (d.init ? freeNames(d.init) : []).filter((r) => functions.has(r) || constants.has(r));
        if (!d.init || local.length) this.error(`split-cold: cold code reads ${n}, which is not made of globals only`);
        const text = code.slice(d.init.start, d.init.end);
        inline.set(n, d.init.type === "MemberExpression" || d.init.type === "Identifier" ? text : `(${text})`);
      }
      const names = [...coldSet];
      const coldText = (fn) => {
        let out = "", at = fn.start;
        for (const id of freeIdentifiers(fn).filter((i) => inline.has(i.name))) { out += code.slice(at, id.start) + inline.get(id.name); at = id.end; }
        return (out + code.slice(at, fn.end)).replace(/"cold";?/, "");
      };
      cold = `${names.map((n) => coldText(functions.get(n))).join("")}${names.map((n) => `exports.${n}=${n}`).join(",")};`;
      // The module: the rest, with the cold functions bound from the required module first.
      let rest = "";
      let at = 0;
      for (const n of names.map((f) => functions.get(f)).sort((a, b) => a.start - b.start)) { rest += code.slice(at, n.start); at = n.end; }
      rest += code.slice(at);
      const [first, ...others] = names;
      rest = `var ${first}=require(${JSON.stringify(name)})${others.map((n) => `,${n}=${first}.${n}`).join("")};${first}=${first}.${first};${rest}`;
      // Constants only the cold code read are left out of the module.
      const restAst = parse(rest, { ecmaVersion: 5 });
      const stillUsed = new Set(restAst.body.flatMap((n) => n.type === "FunctionDeclaration" ? freeNames(n) : n.type === "VariableDeclaration" ? n.declarations.flatMap((d) => (d.init ? freeNames(d.init) : [])) : freeNames(n)));
      for (const n of inline.keys()) if (!stillUsed.has(n)) { const d = constants.get(n); rest = rest.replace(code.slice(d.start, d.end) + ",", "").replace("," + code.slice(d.start, d.end), ""); }
      return { code: rest, map: null };
    },
    generateBundle(_options, bundle) {
      const source = withPretokenise(cold);
      this.emitFile({ type: "asset", fileName: `${name}.js`, source });
      // The same files for the Web IDE's module folder: it sends a module's .min.js as it is, and runs
      // a .js one through its own minifier (esmangle) first, which has miscompiled Wisp before (it made
      // `(b >>= 7) ? x | 128 : x` into `(b >>= 7, x | 128)`; test/web-ide.test.mjs).
      const main = Object.values(bundle).find((f) => f.type === "chunk" && f.isEntry);
      this.emitFile({ type: "asset", fileName: `modules/${main.fileName.replace(/\.js$/, ".min.js")}`, source: main.code });
      this.emitFile({ type: "asset", fileName: `modules/${name}.min.js`, source });
    },
  };
};

/** Removes the "cold" directive where no module is split off (firmware, test builds). */
const noColdDirective = () => ({
  name: "no-cold-directive",
  transform: (code, id) => (/\.ts$/.test(id) ? { code: code.replace(/^\s*"cold";\n/gm, ""), map: null } : null),
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
    plugins: [target(true, true), codeInFlashOnly(), ts(), minify(), splitCold("wisp-cold"), pretokenised()],
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
    plugins: [target(true, true), noColdDirective(), ts()],
  },
  ...boardNames().map((name) => {
    const board = boardData(name);
    return {
      input: "firmware/main.ts",
      output: { file: `dist/firmware-${name}.js`, format: "iife", strict: false, generatedCode: { preset: "es5", symbols: false } },
      plugins: [target(true), boardConfig(board), ...(board.hotFunctionsInRam === false ? [codeInFlashOnly()] : []), noColdDirective(), ts(), flatClasses(), minify()],
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
