// Checks a built bundle against what the Espruino interpreter runs (../shared/espruino-target.md):
// ES5 syntax only (so no destructuring, spread, default parameters, generators, async, `?.`, `**`,
// computed keys), none of the globals Espruino lacks, no Node modules, and no name used before its
// `var` or function declaration runs (Espruino hoists neither).
import * as acorn from "acorn";
import * as walk from "acorn-walk";

const MISSING_GLOBALS = ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "TextEncoder", "TextDecoder", "Buffer", "globalThis", "queueMicrotask", "setImmediate"];
const MISSING_MEMBERS = { Array: ["from", "of"], Number: ["isInteger", "isSafeInteger", "parseFloat"], Promise: ["race", "allSettled", "any"], Object: ["fromEntries", "getOwnPropertySymbols"] };
/** Methods every object has elsewhere and Espruino 2v29 lacks (measured: typeof ({}).isPrototypeOf is "undefined"). */
const MISSING_METHODS = ["isPrototypeOf", "propertyIsEnumerable", "toLocaleString"];
/** Modules an Espruino board provides; anything else would be a Node module or a missing file. */
export const ESPRUINO_MODULES = ["net", "tls", "Wifi", "Storage", "wisp", "wisp-cold", "ESP8266", "ESP32"];

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
    // Espruino's lexer ends a regex literal at its first unescaped '/', even inside a character class
    // (measured on 2v29: /[^/]#/ is a syntax error there).
    if (node.type === "Literal" && node.regex && /(^|[^\\])\//.test(node.regex.pattern)) problems.push(`regex with an unescaped / at ${at(node)}: write \\/`);
    if (node.type === "MemberExpression" && !node.computed && MISSING_METHODS.includes(node.property.name)) problems.push(`uses .${node.property.name} at ${at(node)}`);
    if (node.type === "CallExpression" && node.callee.type === "Identifier" && node.callee.name === "require") {
      const arg = node.arguments[0];
      if (!arg || arg.type !== "Literal" || !ESPRUINO_MODULES.includes(arg.value)) problems.push(`require(${arg ? arg.raw : ""}) at ${at(node)}`);
    }
  });
  checkDeclarationOrder(ast, problems, at);
  checkRunOnceIifes(ast, problems, at);
  return problems;
}

// A function expression called where it is written (what a minifier makes of a single-use helper) is
// created anew each time its enclosing function runs; Espruino then copies its code text every call. Only
// wrappers that themselves run once (the module's and each class's IIFE) may hold one.
function checkRunOnceIifes(ast, problems, at) {
  const isIife = (fn, parent) => parent && parent.type === "CallExpression" && parent.callee === fn;
  walk.ancestor(ast, {
    CallExpression(node, ancestors) {
      if (node.callee.type !== "FunctionExpression") return;
      for (let i = ancestors.length - 2; i >= 0; i--) {
        const a = ancestors[i];
        if ((a.type === "FunctionExpression" || a.type === "FunctionDeclaration") && !isIife(a, ancestors[i - 1])) {
          problems.push(`function expression at ${at(node)} is created on every call of the function around it`);
          return;
        }
      }
    },
  });
}

// In every function body (and the program), a name declared there by `var` or `function` must not be
// referenced, outside nested functions, at a position before that declaration; and a `var` declared in a
// nested block must not be referenced outside that block, since Espruino creates a variable only when
// its declaration runs: one declared in an `if` branch or a `case` is missing from the others.
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
    const topLevel = new Set(body.body);
    const blockVars = [];
    visit(body, (n, parent) => {
      if (n.type === "VariableDeclarator") declare(n.id.name, n.id.start);
      if (n.type === "FunctionDeclaration" && n.id) declare(n.id.name, n.start);
      if (n.type === "VariableDeclaration" && !topLevel.has(n) && !(topLevel.has(parent) && /^For/.test(parent.type))) {
        const range = /^(BlockStatement|SwitchCase|For)/.test(parent.type) ? parent : n;
        for (const d of n.declarations) blockVars.push({ name: d.id.name, range, node: n });
      }
    });
    for (const v of blockVars) {
      walkNoFunctions(body, (n) => {
        if (n.type === "Identifier" && n.name === v.name && (n.start < v.range.start || n.end > v.range.end)) {
          problems.push(`var ${v.name} declared inside a block at ${at(v.node)} is used outside it at ${at(n)}`);
        }
      }, true);
    }
    visit(body, (n) => {
      if (n.type !== "Identifier") return;
      const pos = declared.get(n.name);
      if (pos !== undefined && n.start < pos) problems.push(`"${n.name}" used at ${at(n)} before its declaration`);
    });
  }
}

// Visits every node under `node` but, unless `intoFunctions`, does not enter nested functions (a
// FunctionDeclaration's own node is visited, so its name counts as a declaration of the enclosing scope).
// Property names (non-computed) are not visited as identifiers.
function walkNoFunctions(node, fn, intoFunctions = false) {
  const stack = [[node, null]];
  while (stack.length) {
    const [n, parent] = stack.pop();
    fn(n, parent);
    for (const key of Object.keys(n)) {
      if (key === "loc") continue;
      const v = n[key];
      const kids = Array.isArray(v) ? v : [v];
      for (const k of kids) {
        if (!k || typeof k.type !== "string") continue;
        if (!intoFunctions && (k.type === "FunctionDeclaration" || k.type === "FunctionExpression")) {
          if (k.type === "FunctionDeclaration") fn(k, n);
          continue;
        }
        if (n.type === "MemberExpression" && key === "property" && !n.computed) continue;
        if (n.type === "Property" && key === "key" && !n.computed) continue;
        stack.push([k, n]);
      }
    }
  }
}
