// Espruino's globals and modules, stood in for inside a Node vm context, quirks included, so that a
// bundle that only works because Node is forgiving fails here too:
// - socket.write() of a non-string sends its text (a Uint8Array goes out as "48,2,…");
// - incoming data are binary strings of at most 536 bytes, one chunk per main-loop pass;
// - the send buffer is unbounded but drains 536 bytes per main-loop pass, with `drain` when empty;
// - Uint8Array#set(string) copies the string's bytes and, like every Espruino set(), truncates;
// - no Buffer, no Node modules: require() knows only "net", "Wifi" and "Storage".
import net from "node:net";
import vm from "node:vm";
import zlib from "node:zlib";

const CHUNK = 536;
const LOOP_MS = 1;

/** An Espruino context with no peripherals, on-line, for running a script or module by itself
 *  (`modules` as for createEspruinoEnv). `off()` switches it off: no callback runs, timers and sockets end. */
export function createBareEnv({ log = () => {}, modules = {} } = {}) {
  const sim = { wifi: true, off: false, storage: new Map() };
  const hw = { clock: () => performance.now() / 1000, serial: "1", pins: {}, i2c: [], jsvars: 4000, codeBytes: 0 };
  const env = createEspruinoEnv({ hw, sim, log, modules });
  env.off = () => {
    sim.off = true;
    for (const t of env.timers) { clearTimeout(t); clearInterval(t); }
    for (const s of env.sockets) s.destroy();
  };
  return env;
}

/** Builds the globals of one simulated board. `hw` supplies its hardware: {clock() s, serial,
 *  pins: {name: {analogRead?, pwm?}}, i2c: [device], jsvars, codeBytes}; `sim` carries its Wi-Fi and
 *  power state; `log` receives console output; `modules` maps module names to their source, as
 *  Modules.addCached would (e.g. {MQTT: <dist/wisp.js>}). Returns {context, sockets, timers, run}. */
export function createEspruinoEnv({ hw, sim, log, modules = {} }) {
  const loaded = {};
  const timers = new Set();
  const sockets = new Set();

  /** Calls into the board's code as Espruino's event loop would: an exception is printed, not thrown. */
  const call = (fn, thisArg, ...args) => {
    if (sim.off) return;
    try {
      return fn.apply(thisArg, args);
    } catch (e) {
      log(`Uncaught ${e && e.stack ? e.stack.split("\n")[0] : e}`);
    }
  };
  const later = (fn) => setImmediate(() => call(fn));

  const emitter = (obj) => {
    const listeners = {};
    obj.on = function (event, fn) { (listeners[event] ||= []).push(fn); return this; };
    obj.removeAllListeners = function (event) { if (event) delete listeners[event]; else for (const k in listeners) delete listeners[k]; };
    obj.emit = function (event, ...args) { for (const fn of listeners[event] || []) call(fn, obj, ...args); };
    return obj;
  };

  const bytesOf = (s) => (/[^\u0000-\u00ff]/.test(s) ? Buffer.from(s, "utf8") : Buffer.from(s, "latin1"));

  function simSocket(host, port, onConnect) {
    const s = emitter({});
    const queue = [];
    let pumping = false;
    let closed = false;
    const node = net.connect({ host, port });
    node.setNoDelay(true);
    sockets.add(s);
    const finish = () => {
      if (closed) return;
      closed = true;
      sockets.delete(s);
      later(() => s.emit("close", false));
    };
    node.on("connect", () => { if (onConnect) later(() => onConnect.call(s)); });
    node.on("data", (buf) => {
      for (let o = 0; o < buf.length; o += CHUNK) {
        const chunk = buf.subarray(o, o + CHUNK).toString("latin1");
        setImmediate(() => { if (!closed) call(() => s.emit("data", chunk)); });
      }
    });
    node.on("error", (e) => later(() => s.emit("error", { type: e.code, message: e.message })));
    node.on("close", finish);
    const pump = () => {
      if (closed || sim.off) { pumping = false; return; }
      let budget = CHUNK;
      while (budget > 0 && queue.length) {
        const head = queue[0];
        const n = Math.min(budget, head.length);
        node.write(head.subarray(0, n));
        budget -= n;
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
      }
      if (queue.length) setTimeout(pump, LOOP_MS);
      else {
        pumping = false;
        call(() => s.emit("drain"));
      }
    };
    s.write = function (data) {
      if (closed) return false;
      if (typeof data !== "string") data = String(data); // Espruino sends e.g. a Uint8Array as "1,2,3"
      const b = bytesOf(data);
      queue.push(b);
      if (!pumping) { pumping = true; setTimeout(pump, LOOP_MS); }
      return false;
    };
    s.end = function () { node.end(); };
    s.destroy = function () { node.destroy(); finish(); };
    /** Bytes written by the board and not yet sent: the interpreter's send buffer. */
    s.queued = () => queue.reduce((n, b) => n + b.length, 0);
    return s;
  }

  const netModule = {
    connect(options, onConnect) {
      if (sim.wifi === false) { // no network: fail the way a board without a link does
        const s = emitter({ write() { return false; }, end() {} });
        later(() => { s.emit("error", { type: "ENETUNREACH", message: "no network" }); s.emit("close", true); });
        return s;
      }
      return simSocket(options.host, options.port || 23, onConnect);
    },
  };

  const wifi = emitter({
    connect(ssid, options, cb) {
      setTimeout(() => {
        if (sim.wifi === false) return cb && call(cb, null, "No network");
        sim.wifi = true;
        if (cb) call(cb, null, null);
        wifi.emit("connected", { ip: "192.168.4.2" });
      }, 50);
    },
    disconnect(cb) { sim.wifi = false; if (cb) later(cb); },
    getIP(cb) { const r = { ip: sim.wifi === false ? "0.0.0.0" : "192.168.4.2" }; if (cb) later(() => cb(null, r)); return r; },
    getStatus() { return { station: sim.wifi === false ? "off" : "connected" }; },
  });

  const files = sim.storage;
  const storage = {
    read: (name) => files.get(name),
    readJSON(name, noExceptions) {
      const s = files.get(name);
      if (s === undefined) return undefined;
      try { return JSON.parse(s); } catch (e) { if (noExceptions) return undefined; throw e; }
    },
    /** Espruino's Storage.write: with `offset`, writes into a file created by the first call, whose
     *  `size` fixes the file's length (the tools upload large files in chunks this way). */
    write(name, data, offset, size) {
      data = typeof data === "string" ? data : String(data);
      if (offset === undefined) { files.set(name, data); return true; }
      let f = size !== undefined ? "\xff".repeat(size) : files.get(name);
      if (f === undefined || offset + data.length > f.length) throw new Error("Storage: write past the end of the file");
      files.set(name, f.slice(0, offset) + data + f.slice(offset + data.length));
      return true;
    },
    writeJSON(name, data) { files.set(name, JSON.stringify(data)); return true; },
    erase(name) { files.delete(name); },
    list: () => [...files.keys()],
  };

  const pinObjects = {};
  const pinOf = (p) => hw.pins[p && p.name !== undefined ? p.name : String(p)] || {};
  const context = vm.createContext({});
  const g = {
    print: (...a) => log(a.join(" ")),
    console: { log: (...a) => log(a.join(" ")) },
    getTime: () => hw.clock(),
    getSerial: () => hw.serial,
    setTimeout: (fn, ms, ...a) => { const t = setTimeout(() => { timers.delete(t); call(fn, null, ...a); }, ms); timers.add(t); return t; },
    setInterval: (fn, ms, ...a) => { const t = setInterval(() => call(fn, null, ...a), Math.max(1, ms)); timers.add(t); return t; },
    clearTimeout: (t) => { clearTimeout(t); timers.delete(t); },
    clearInterval: (t) => { clearInterval(t); timers.delete(t); },
    setWatch: () => 1,
    clearWatch: () => {},
    require(name) {
      if (name === "net") return netModule;
      if (name === "Wifi") return wifi;
      if (name === "Storage") return storage;
      if (name in modules) {
        if (!loaded[name]) {
          const module = { exports: {} };
          vm.runInContext(`(function (exports, module) {${modules[name]}\n})`, context, { filename: name })(module.exports, module);
          loaded[name] = module.exports;
        }
        return loaded[name];
      }
      throw new Error(`Module ${name} not found`);
    },
    digitalWrite: (p, v) => { pinOf(p).value = v ? 1 : 0; },
    digitalRead: (p) => pinOf(p).value || 0,
    analogRead: (p) => (pinOf(p).analogRead ? pinOf(p).analogRead() : 0),
    analogWrite: (p, v, opts) => { const pin = pinOf(p); if (pin.pwm) pin.pwm(v, (opts && opts.freq) || 1000); },
    quit: () => {},
    /** Restarts the interpreter, which then runs Storage file ".bootcde" (Espruino's load()). */
    load: () => { if (sim.onLoad) setImmediate(sim.onLoad); },
    atob: (s) => Buffer.from(s, "base64").toString("latin1"),
    btoa: (s) => Buffer.from(s, "latin1").toString("base64"),
  };
  for (const name of Object.keys(hw.pins).concat(Array.from({ length: 41 }, (_, i) => `D${i}`), Array.from({ length: 8 }, (_, i) => `A${i}`))) {
    if (!pinObjects[name]) pinObjects[name] = { name, toString: () => name };
  }
  Object.assign(context, g, pinObjects);
  /** Espruino's Pin(name or number): the same object as the global of that name. */
  context.Pin = function Pin(v) { return pinObjects[typeof v === "number" ? `D${v}` : String(v)]; };
  context.global = context;

  // Espruino's own behaviour of the intrinsics the bundle uses, installed in the context's realm.
  vm.runInContext(`(function () {
    var set = Uint8Array.prototype.set;
    Object.defineProperty(Uint8Array.prototype, "set", { configurable: true, writable: true, value: function (src, offset) {
      offset = offset | 0;
      if (typeof src === "string") src = __bytes(src);
      var n = Math.min(src.length, this.length - offset); // Espruino truncates instead of throwing
      if (n <= 0) return;
      return set.call(this, n < src.length ? (src.subarray ? src.subarray(0, n) : Array.prototype.slice.call(src, 0, n)) : src, offset);
    }});
  })()`, context);
  const U8 = vm.runInContext("Uint8Array", context);
  context.__bytes = (s) => new U8(bytesOf(s));
  context.E = {
    toString(...args) {
      let out = "";
      for (const a of args) {
        if (typeof a === "string") out += a;
        else if (typeof a === "number") out += String.fromCharCode(a & 255);
        else for (let i = 0; i < a.length; i++) out += String.fromCharCode(a[i] & 255);
      }
      return out;
    },
    toUint8Array: (s) => new U8(bytesOf(typeof s === "string" ? s : String(s))),
    isUTF8: (s) => /[^\u0000-\u00ff]/.test(s),
    asUTF8: (s) => Buffer.from(s, "latin1").toString("utf8"),
    getSizeOf: () => 0,
    CRC32: (s) => zlib.crc32(typeof s === "string" ? Buffer.from(s, "latin1") : Buffer.from(s)),
  };
  context.I2C = function I2C() {};
  context.I2C1 = {
    setup() {},
    writeTo(addr, ...data) {
      const bytes = data.flatMap((d) => (typeof d === "number" ? [d] : typeof d === "string" ? [...bytesOf(d)] : Array.from(d)));
      const dev = hw.i2c.find((d) => d.address === addr);
      if (!dev) throw new Error(`I2C Error: no ACK from 0x${addr.toString(16)}`);
      dev.write(bytes);
    },
    readFrom(addr, n) {
      const dev = hw.i2c.find((d) => d.address === addr);
      if (!dev) throw new Error(`I2C Error: no ACK from 0x${addr.toString(16)}`);
      return new U8(dev.read(n));
    },
  };
  context.process = {
    version: "2v29-sim",
    env: { BOARD: hw.board, VERSION: "2v29-sim" },
    /** Espruino reports JsVars; the simulator can only estimate the code text's share (≈12 chars a var). */
    memory: () => ({ free: hw.jsvars - Math.ceil(hw.codeBytes / 12), usage: Math.ceil(hw.codeBytes / 12), total: hw.jsvars, history: 0, gc: 0, gctime: 0, blocksize: 16, estimated: true }),
  };

  return {
    context,
    sockets,
    timers,
    /** Runs a script in the board's context (a compiled vm.Script may be shared between boards). */
    run(script) { return script.runInContext(context); },
  };
}
