// What each construct costs on Espruino's heap, in JsVars, measured on the interpreter named by
// ESPRUINO_BIN_1600 (a Linux build with 'variables': 1600: 16-byte JsVars, as an ESP8266) or else
// ESPRUINO_BIN: ten of each made at once, the usage difference divided by ten (process.memory() runs a
// GC first). The design rules in README ("What things cost on Espruino") come from this table.
// Run: ESPRUINO_BIN_1600=… node bench/costs.mjs
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = process.env.ESPRUINO_BIN_1600 || process.env.ESPRUINO_BIN || "";
if (!BIN) {
  console.log("bench/costs: skipped (set ESPRUINO_BIN_1600 or ESPRUINO_BIN to an Espruino Linux build)");
  process.exit(0);
}

// Each case builds its text in the interpreter (the script itself must fit a 1,600-JsVar heap).
/** [what, expression giving the module text, stored in Storage and required; its exports kept alive] */
const MODULES = [
  ["function, no parameters, code in Storage", `ten("exports.f#=function(){return 1;};")`],
  ["function, three parameters, code in Storage", `ten("exports.f#=function(a,b,c){return a;};")`],
  ["function with a 300-byte body, code in Storage", `ten("exports.f#=function(a){var b=a;" + rep("b=b+a*2;", 37) + "return b;};")`],
  ["the same with \"ram\" (copied to RAM pretokenised)", `ten("exports.f#=function(a){'ram';var b=a;" + rep("b=b+a*2;", 37) + "return b;};")`],
  ["prototype method, code in Storage", `"function C(){}" + ten("C.prototype.m#=function(){return 1;};") + "exports.C=C;"`],
  ["prototype method made inside a function called in place (TypeScript's ES5 class), code in Storage", `"var C=function(){function C(){}" + ten("C.prototype.m#=function(){return 1;};") + "return C;}();exports.C=C;"`],
  ["module-level function kept by an export", `ten("function g#(){return 1;}") + "exports.all=function(){return " + ten("g#()+") + "0;};"`],
];
/** [what, code run in RAM whose results are kept in `keep`] */
const VALUES = [
  ["function, no parameters, code in RAM (uploaded text)", `for(var i=0;i<10;i++)keep.push(eval("(function(){return 1;})"));`],
  ["closure made per call", `var mk=function(x){return function(){return x;};};for(var i=0;i<10;i++)keep.push(mk(i));`],
  ["property, 1-4 character name, number value", `var o={};keep.push(o);for(var i=0;i<10;i++)o["p"+i]=i;`],
  ["property, 9+ character name, number value", `var o={};keep.push(o);for(var i=0;i<10;i++)o["property"+i]=i;`],
  ["array element (number)", `var a=[];keep.push(a);for(var i=0;i<10;i++)a.push(i);`],
  ["empty object", `for(var i=0;i<10;i++)keep.push({});`],
  ["Uint8Array(128)", `for(var i=0;i<10;i++)keep.push(new Uint8Array(128));`],
  ["Float64Array(8)", `for(var i=0;i<10;i++)keep.push(new Float64Array(8));`],
  ["subarray view", `var b=new Uint8Array(64);keep.push(b);for(var i=0;i<10;i++)keep.push(b.subarray(i,i+8));`],
  ["RegExp (a one-class pattern)", `for(var i=0;i<10;i++)keep.push(new RegExp("[+#"+i+"]"));`],
];

const script = `
var keep = [], S = require("Storage"), out = [];
function ten(t) { var s = ""; for (var i = 0; i < 10; i++) s += t.replace(/#/g, i); return s; }
function rep(t, n) { var s = ""; while (n--) s += t; return s; }
function u() { return process.memory().usage; }
function measure(what, fn) { keep = []; var a = u(); fn(); out.push([what, (u() - a) / 10]); }
${MODULES.map(([what, text], i) => `S.write("m${i}", ${text}); measure(${JSON.stringify(what)}, function () { keep.push(require("m${i}")); }); Modules.removeAllCached();`).join("\n")}
${VALUES.map(([what, code]) => `measure(${JSON.stringify(what)}, function () { ${code} });`).join("\n")}
keep = [];
var m = process.memory();
print("JSON " + JSON.stringify({ rows: out, blocksize: m.blocksize, total: m.total }));
quit();
`;

const dir = mkdtempSync(join(tmpdir(), "wisp-costs-"));
writeFileSync(join(dir, "main.js"), script);
const text = await new Promise((resolve) => {
  const child = spawn(BIN, ["main.js"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  let s = "";
  child.stdout.on("data", (d) => (s += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
  child.on("exit", () => { clearTimeout(timer); resolve(s); });
});
const m = text.match(/JSON (\{.*\})/);
if (!m) {
  console.log(`bench/costs: the interpreter gave no result:\n${text.slice(-500)}`);
  process.exit(1);
}
const { rows, blocksize, total } = JSON.parse(m[1]);
console.log(`JsVars per construct on ${BIN} (${total} JsVars of ${blocksize} bytes):\n`);
console.log("| construct | JsVars each |\n|---|---|");
for (const [what, n] of rows) console.log(`| ${what} | ${n.toFixed(1)} |`);
