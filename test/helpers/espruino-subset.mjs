// Checks a built bundle against what the Espruino interpreter runs (../shared/espruino-target.md):
// ES5 syntax only (so no destructuring, spread, default parameters, generators, async, `?.`, `**`,
// computed keys), none of the globals Espruino lacks, no Node modules, and no name used before its
// `var` or function declaration runs (Espruino hoists neither).
import * as acorn from "acorn";
import * as walk from "acorn-walk";

const MISSING_GLOBALS = ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "TextEncoder", "TextDecoder", "Buffer", "globalThis", "queueMicrotask", "setImmediate"];
const MISSING_MEMBERS = { Array: ["from", "of"], Number: ["isInteger", "isSafeInteger", "parseFloat"], Promise: ["race", "allSettled", "any"], Object: ["fromEntries", "getOwnPropertySymbols"] };
/** Modules an Espruino board provides; anything else would be a Node module or a missing file. */
export const ESPRUINO_MODULES = ["net", "Wifi", "Storage", "wisp", "ESP8266", "ESP32"];

/** Returns a list of problems (empty when the bundle fits the Espruino subset). */
export function checkEspruinoSubset(code) {
  const problems = [];
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 5, sourceType: "script", locations: true });
  } catch (e) {
    return [`not ES5: ${e.message}`];
  }
  const at = (n) => `${n.loc.start.line}:${n.loc.start.column}`;
  walk.full(ast, (node) => {
    if (node.type === "Identifier" && MISSING_GLOBALS.includes(node.name)) problems.push(`uses ${node.name} at ${at(node)}`);
    if (node.type === "MemberExpression" && !node.computed && node.object.type === "Identifier") {
      const members = MISSING_MEMBERS[node.object.name];
      if (members && members.includes(node.property.name)) problems.push(`uses ${node.object.name}.${node.property.name} at ${at(node)}`);
    }
    if (node.type === "CallExpression" && node.callee.type === "Identifier" && node.callee.name === "require") {
      const arg = node.arguments[0];
      if (!arg || arg.type !== "Literal" || !ESPRUINO_MODULES.includes(arg.value)) problems.push(`require(${arg ? arg.raw : ""}) at ${at(node)}`);
    }
  });
  checkDeclarationOrder(ast, problems, at);
  return problems;
}

// In every function body (and the program), a name declared there by `var` or `function` must not be
// referenced, outside nested functions, at a position before that declaration.
function checkDeclarationOrder(ast, problems, at) {
  const scopes = [ast];
  walk.full(ast, (n) => {
    if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression") scopes.push(n);
  });
  for (const scope of scopes) {
    const body = scope.type === "Program" ? scope : scope.body;
    const declared = new Map();
    const params = new Set((scope.params || []).map((p) => p.name));
    const visit = (node, fn) => walkNoFunctions(node, fn);
    const declare = (name, pos) => {
      if (!params.has(name) && !(declared.get(name) <= pos)) declared.set(name, pos); // the first one counts
    };
    visit(body, (n) => {
      if (n.type === "VariableDeclarator") declare(n.id.name, n.id.start);
      if (n.type === "FunctionDeclaration" && n.id) declare(n.id.name, n.start);
    });
    visit(body, (n) => {
      if (n.type !== "Identifier") return;
      const pos = declared.get(n.name);
      if (pos !== undefined && n.start < pos) problems.push(`"${n.name}" used at ${at(n)} before its declaration`);
    });
  }
}

// Visits every node under `node` but does not enter nested functions (a FunctionDeclaration's own
// node is visited, so its name counts as a declaration of the enclosing scope).
function walkNoFunctions(node, fn) {
  const stack = [node];
  while (stack.length) {
    const n = stack.pop();
    fn(n);
    for (const key of Object.keys(n)) {
      if (key === "loc") continue;
      const v = n[key];
      const kids = Array.isArray(v) ? v : [v];
      for (const k of kids) {
        if (!k || typeof k.type !== "string") continue;
        if (k.type === "FunctionDeclaration" || k.type === "FunctionExpression") {
          if (k.type === "FunctionDeclaration") fn(k);
          continue;
        }
        if (n.type === "MemberExpression" && key === "property" && !n.computed) continue;
        if (n.type === "Property" && key === "key" && !n.computed) continue;
        stack.push(k);
      }
    }
  }
}
