// The Platform on Espruino: require("net") sockets written with binary strings (a Uint8Array would be
// sent as decimal text), getTime() as the clock, setInterval as the timer.
import type { Platform, NetHandler } from "./platform";

declare function require(name: string): any;
declare const E: any;
declare function getTime(): number;
declare function getSerial(): string;
declare function setInterval(fn: () => void, ms: number): any;
declare function clearInterval(handle: any): void;

// Socket events call these with `this` = the socket, whose handler rides on it as `h`: no closures are
// made per connection (each would cost JsVars for as long as the socket lives).
function onSocketOpen(this: any) { this.h.onOpen(this); }
function onSocketData(this: any, d: string) { "ram"; this.h.onData(this, d); }
function onSocketDrain(this: any) { this.h.onDrain(this); }
function onSocketClose(this: any) { this.h.onClose(this); }

let shared: Platform | undefined;

/** The Espruino implementation of Platform: one object, made on first use and shared by every client. */
export function espruinoPlatform(): Platform {
  return shared || (shared = {
    open: function (host: string, port: number, h: NetHandler) {
      const s = require("net").connect({ host: host, port: port }, onSocketOpen);
      s.h = h;
      s.on("data", onSocketData);
      s.on("drain", onSocketDrain);
      s.on("close", onSocketClose);
      s.on("error", onSocketClose);
      return s;
    },
    send: function (s: any, buf: Uint8Array, start: number, end: number) {
      "ram";
      s.write(E.toString(buf.subarray(start, end)));
    },
    close: function (s: any) { s.end(); },
    now: function () { return getTime() * 1000; },
    every: setInterval, // called as platform.every(fn, ms): natives ignore `this`
    cancel: clearInterval,
    random: Math.random,
    deviceId: function () {
      // Math.random() is unseeded on Linux builds: mix in the chip serial and the clock.
      const serial = typeof getSerial === "function" ? String(getSerial()).replace(/[^0-9a-zA-Z]/g, "") : "";
      return "wisp" + (serial.slice(-10) + ((getTime() * 1e6) % 1e8 | 0).toString(36)).slice(-18);
    },
  });
}
