// What each operation costs the Espruino interpreter in time, as instructions (valgrind's count: the
// same run to run, where wall-clock time on a shared machine moves ±20 %): each operation run 200 times
// inside a function on the interpreter named by ESPRUINO_BIN, minus the empty loop. README's rules for
// hot code ("What things cost on Espruino") come from this table.
// Run: ESPRUINO_BIN=… node bench/op-costs.mjs   (needs valgrind, Debian package valgrind)
import { countInstructions, VALGRIND } from "../test/helpers/espruino.mjs";

const BIN = process.env.ESPRUINO_BIN || "";
if (!BIN || !VALGRIND) {
  console.log(`bench/op-costs: skipped (${!BIN ? "set ESPRUINO_BIN to an Espruino Linux build" : "valgrind is not installed"})`);
  process.exit(0);
}

/** Made before the loop: a 20-property object, a socket-like string of 310 chars (built by appending, as
 *  a socket's data is), a buffer, a 49-char payload, the codec's topic regex (NOT_PLAIN). */
const SETUP = `var o = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12, m: 13, n: 14, p: 15, q: 16, r: 17, s: 18, t: 19, u: 20 };
o["#onpublish"] = undefined; var first = { "#onpublish": undefined, a: 1 }, lean = { a: 1 };
var D = ""; for (var j = 0; j < 5; j++) D += "0123456789012345678901234567890123456789012345678901234567890a";
var buf = new Uint8Array(400); buf.set(D, 0); var P = D.substr(0, 49), RE = /[^ -"$-*,-~]/, toStr = E.toString, x;
function fn2(a, b) { return a; } function fn0() { return 1; }`;
const OPS = [
  ["property by dotted name, the 1st of 20", "x = o.a;"],
  ["property by dotted name, the 20th of 20", "x = o.u;"],
  ['property by a "#on…" string name, the 1st', 'x = first["#onpublish"];'],
  ['property by a "#on…" string name, the 21st', 'x = o["#onpublish"];'],
  ['property by a "#on…" string name, missing (prototypes, built-ins)', 'x = lean["#onpublish"];'],
  ["a built-in looked up: E.toString (no call)", "x = E.toString;"],
  ["call, no parameters", "x = fn0();"],
  ["call, two parameters", "x = fn2(1, 2);"],
  ["call through .call(this, a, b)", "x = fn2.call(o, 1, 2);"],
  ["E.toString(buf.subarray(…)) of 49 bytes", "x = E.toString(buf.subarray(20, 69));"],
  ["the same through a module constant (toStr = E.toString)", "x = toStr(buf.subarray(20, 69));"],
  ["substr of 49 chars from a socket's 310-char string", "x = D.substr(120, 49);"],
  ["Uint8Array#set of the 310-char string (one native copy)", "buf.set(D, 0);"],
  ["regex test of a 9-char topic", 'x = RE.test("ebench/in");'],
  ["String.fromCharCode(48, 61) + topic field + payload", 'x = String.fromCharCode(48, 61) + "\\x00\\x09ebench/in" + P;'],
];

/** valgrind's instruction count for the interpreter running `op` n times. */
async function count(body, n) {
  const r = await countInstructions(`${SETUP}\nfunction op() { ${body} }\nfor (var i = 0; i < ${n}; i++) op();\nquit();\n`, { bin: BIN, timeoutMs: 120000 });
  if (r.failed) throw new Error(`bench/op-costs: no count for ${body}: ${r.failed}`);
  return r.refs;
}
const per = async (body) => ((await count(body, 200)) - (await count(body, 0))) / 200;
const empty = await per("");
console.log(`Interpreter instructions per operation on ${BIN} (valgrind), the empty call (${Math.round(empty).toLocaleString("en-US")}) taken off:\n`);
console.log("| operation | instructions |\n|---|---|");
for (const [what, body] of OPS) console.log(`| ${what} | ${Math.round((await per(body)) - empty).toLocaleString("en-US")} |`);
