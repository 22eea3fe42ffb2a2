// Espruino's event loop and power switch for one simulated board: every callback into the board's code
// goes through `call`, which prints an uncaught exception as Espruino does and runs nothing once the
// power is off.

/** The loop of one board; `log` receives what the board prints. */
export function createLoop(log) {
  let on = true;
  const timers = new Set();
  const whenOff = [];

  /** Calls into the board's code: an exception is printed ("Uncaught …"), not thrown. */
  const call = (fn, thisArg, ...args) => {
    if (!on) return;
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
