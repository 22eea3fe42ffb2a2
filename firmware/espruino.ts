// The Platform on Espruino: its natives themselves, so the platform adds no function to the heap.
import type { Platform } from "./platform";

let shared: Platform | undefined;

/** The Espruino Platform: one object of natives, made on first use and shared by every client. */
export function espruinoPlatform(): Platform {
  return shared || (shared = { connect: require("net").connect, time: getTime, setInterval: setInterval, clearInterval: clearInterval, random: Math.random });
}
