// Espruino's remaining globals: print/console, the clock and serial, timers, require, load/quit and
// process. Measured on Espruino 2v29 Linux builds (test/stand-ins.test.mjs): process.memory() has
// exactly {free, usage, total, history, gc, gctime, blocksize, rx: {used, total}, tx: {used, total}}
// (blocksize 27 on the default build, 16 on the fixed 1,600/1,700 heaps, as on an ESP8266). The
// stand-in's usage is an estimate: the bundle's code text at about 12 characters a JsVar.
import vm from "node:vm";

/** Installs the globals in `context`. `modules` maps module names to source (as Modules.addCached),
 *  `builtins` maps built-in module names to their objects, `onLoad` runs on load(), `onReset` on reset(). */
export function installGlobals(context, { loop, hw, log, modules, builtins, onLoad, onReset }) {
  const { call, timers } = loop;
  const loaded = {};
  const codeVars = Math.ceil(hw.codeBytes / 12);
  Object.assign(context, {
    print: (...a) => log(a.join(" ")),
    console: { log: (...a) => log(a.join(" ")) },
    getTime: () => hw.clock(),
    getSerial: () => hw.serial,
    setTimeout: (fn, ms, ...a) => { const t = setTimeout(() => { timers.delete(t); call(fn, null, ...a); }, ms); timers.add(t); return t; },
    setInterval: (fn, ms, ...a) => { const t = setInterval(() => call(fn, null, ...a), Math.max(1, ms)); timers.add(t); return t; },
    clearTimeout: (t) => { clearTimeout(t); timers.delete(t); },
    clearInterval: (t) => { clearInterval(t); timers.delete(t); },
    require(name) {
      if (name in builtins) return builtins[name];
      if (name in modules) {
        if (!loaded[name]) {
          // The module's objects are the context's, as on Espruino: its Object.prototype (on, emit) too.
          const module = vm.runInContext("({ exports: {} })", context);
          vm.runInContext(`(function (exports, module) {${modules[name]}\n})`, context, { filename: name })(module.exports, module);
          loaded[name] = module.exports;
        }
        return loaded[name];
      }
      throw new Error(`Module ${name} not found`);
    },
    quit: () => {},
    /** Clears the interpreter (timers, sockets, variables) without running Storage's boot code. */
    reset: () => { if (onReset) onReset(); },
    /** Restarts the interpreter, which then runs Storage file ".bootcde" (Espruino's load()). */
    load: () => { if (onLoad) setImmediate(onLoad); },
    process: {
      version: "2v29-sim",
      env: { BOARD: hw.board, VERSION: "2v29-sim" },
      memory: () => ({
        free: hw.jsvars - codeVars, usage: codeVars, total: hw.jsvars, history: 0, gc: 0, gctime: 0, blocksize: 16,
        rx: { used: 0, total: 1024 }, tx: { used: 0, total: 256 },
      }),
    },
  });
  context.global = context;
  // Every object's events, as Espruino keeps them: `on` appends to the array in property "#on<event>"
  // (measured on 2v29: an array even for one listener, kept empty after removeListener), `emit` queues
  // the calls for a later pass of the loop, never during the call.
  vm.runInContext(`(function (later) {
    function def(name, fn) { Object.defineProperty(Object.prototype, name, { value: fn, writable: true, configurable: true }); }
    // A new array each time, as Espruino's own on(): a list held while its listeners are called keeps its length.
    def("on", function (event, fn) { var k = "#on" + event; this[k] = (Array.isArray(this[k]) ? this[k] : []).concat([fn]); return this; });
    def("addListener", Object.prototype.on);
    def("removeListener", function (event, fn) { var l = this["#on" + event]; if (l && l.indexOf(fn) >= 0) l.splice(l.indexOf(fn), 1); return this; });
    def("removeAllListeners", function (event) { for (var k in this) if (k.indexOf("#on") === 0 && (event === undefined || k === "#on" + event)) delete this[k]; return this; });
    def("emit", function (event) { var self = this, l = (this["#on" + event] || []).slice(), args = Array.prototype.slice.call(arguments, 1); later(function () { for (var i = 0; i < l.length; i++) l[i].apply(self, args); }); return this; });
  })`, context)(loop.later);
}
