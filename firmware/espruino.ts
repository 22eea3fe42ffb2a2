// The Platform on Espruino: its natives themselves, so the platform adds no function to the heap.
import type { Platform } from "./platform";

let shared: Platform | undefined;

/** The Espruino Platform: one object of natives, made on first use and shared by every client. Called
 *  with a true argument (TLS wanted), it also holds the tls module's connect, looked up only then (an
 *  ESP8266 has no tls module). The argument is read from `arguments`: a parameter would cost a JsVar. */
export const espruinoPlatform: (tls?: any) => Platform = function (): Platform {
  const p: Platform = shared || (shared = { connect: require("net").connect, time: getTime, setInterval: setInterval, clearInterval: clearInterval, random: Math.random });
  if (arguments[0] && !p.tls) try { p.tls = require("tls").connect; } catch (e) { /* no TLS on this board: open_ says so */ }
  return p;
};
