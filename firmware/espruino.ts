// The Platform on Espruino: its natives themselves, so the platform adds no function to the heap.
import type { Platform } from "./platform";

let shared: Platform | undefined;

/** The Espruino Platform: one object of natives, made on first use and shared by every client. With
 *  `tls` it also holds the tls module's connect, looked up only then (an ESP8266 has no tls module). */
export function espruinoPlatform(tls?: any): Platform {
  const p: Platform = shared || (shared = { connect: require("net").connect, time: getTime, setInterval: setInterval, clearInterval: clearInterval, random: Math.random });
  if (tls && !p.tls) try { p.tls = require("tls").connect; } catch (e) { /* no TLS on this board: open_ says so */ }
  return p;
}
