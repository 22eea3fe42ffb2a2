// Espruino's event loop and power switch for one simulated board: every callback into the board's code
// goes through `call`, which prints an uncaught exception as Espruino does and runs nothing once the
// power is off.
// Measured on Espruino 2v29 Linux (test/flash.test.mjs, re-flash without reset()): code run from a
// Storage file keeps its function bodies in that file; rewriting the file while the code runs leaves
// every later callback failing with "Uncaught Error: Function code is null, not a string".

/** The loop of one board; `log` receives what the board prints. */
export function createLoop(log) {
  let on = true;
  let codeGone = false;
  const timers = new Set();
  const whenOff = [];

  /** Calls into the board's code: an exception is printed ("Uncaught …"), not thrown. */
  const call = (fn, thisArg, ...args) => {
    if (!on) return;
    if (codeGone) return log("Uncaught Error: Function code is null, not a string");
    try {
      return fn.apply(thisArg, args);
    } catch (e) {
      log(`Uncaught ${e && e.stack ? e.stack.split("\n")[0] : e}`);
    }
  };

  return {
    call,
    /** Runs fn on a later pass of the loop. */
    later: (fn) => setImmediate(() => call(fn)),
    /** Makes obj an Espruino event emitter whose listeners run through `call` with `this` = obj. */
    emitter(obj) {
      const listeners = {};
      obj.on = function (event, fn) { (listeners[event] ||= []).push(fn); return this; };
      obj.removeAllListeners = function (event) { if (event) delete listeners[event]; else for (const k in listeners) delete listeners[k]; };
      obj.emit = function (event, ...args) { for (const fn of listeners[event] || []) call(fn, obj, ...args); };
      return obj;
    },
    /** The board's pending setTimeout/setInterval handles. */
    timers,
    /** The Storage file the running code came from was rewritten: its functions have no code any more. */
    codeErased: () => { codeGone = true; },
    /** Registers what to stop when the power goes (e.g. sockets). */
    whenOff: (fn) => whenOff.push(fn),
    power: {
      /** True until off(). */
      get on() { return on; },
      /** Pulls the power: no callback runs again, timers stop, sockets die without a goodbye. */
      off() {
        on = false;
        for (const t of timers) { clearTimeout(t); clearInterval(t); }
        timers.clear();
        for (const fn of whenOff) fn();
      },
    },
  };
}
