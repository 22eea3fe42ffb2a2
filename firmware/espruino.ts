// The Platform on Espruino: require("net") sockets written with binary strings (a Uint8Array would be
// sent as decimal text), getTime() as the clock, setInterval as the timer.
import type { Platform, NetHandler } from "./platform";

declare function require(name: string): any;
declare const E: any;
declare function getTime(): number;
declare function getSerial(): string;
declare function setInterval(fn: () => void, ms: number): any;
declare function clearInterval(handle: any): void;

/** The Espruino implementation of Platform. */
export function espruinoPlatform(): Platform {
  const net = require("net");
  return {
    open: function (host: string, port: number, h: NetHandler) {
      const s = net.connect({ host: host, port: port }, function () { h.onOpen(s); });
      s.on("data", function (d: string) { h.onData(s, d); });
      s.on("drain", function () { h.onDrain(s); });
      s.on("close", function () { h.onClose(s); });
      s.on("error", function () { h.onClose(s); });
      return s;
    },
    send: function (s: any, buf: Uint8Array, start: number, end: number) {
      "ram";
      s.write(E.toString(buf.subarray(start, end)));
    },
    close: function (s: any) { s.end(); },
    now: function () { return getTime() * 1000; },
    every: function (fn: () => void, ms: number) { return setInterval(fn, ms); },
    cancel: function (h: any) { clearInterval(h); },
    random: Math.random,
    deviceId: function () {
      // Math.random() is unseeded on Linux builds: mix in the chip serial and the clock.
      const serial = typeof getSerial === "function" ? String(getSerial()).replace(/[^0-9a-zA-Z]/g, "") : "";
      return "wisp" + (serial.slice(-10) + ((getTime() * 1e6) % 1e8 | 0).toString(36)).slice(-18);
    },
  };
}
