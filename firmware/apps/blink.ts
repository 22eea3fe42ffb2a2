// Blink: the smallest app, a model for your own (README, "Writing your own app"). The LED (or a relay)
// on the board's "led" pin blinks, or stays on or off, as commands on wisp/<device>/cmd say: "on",
// "off" or "blink"; each command is answered on wisp/<device>/event with the mode now in force.
// Its state is this module's variables and its timer and handler module functions: a closure made in
// the app function would keep that call's scope (the configuration and the board's data) on the heap.
import type { App } from "./app";
import type { Client, Message } from "../session/client";
import { pin } from "./devices";

const MODES = ["off", "on", "blink"];

let client: Client;
let led: any;
let events = "";
let mode = 2;
let lit = false;

/** Every half second: the LED toggled while blinking, else held as the mode says. */
function blinkTick(): void {
  lit = mode === 2 ? !lit : mode === 1;
  digitalWrite(led, lit);
}

/** A command, read in place in the reused Message view: its length and first byte tell the three
 *  apart without making a string ("on" 2 bytes, "off" 3, "blink" 5). */
function onCommand(m: Message): void {
  const n = m.payloadEnd - m.payloadStart;
  const first = n ? m.buf[m.payloadStart] : 0;
  const next = first === 0x6f && n === 2 ? 1 : first === 0x6f && n === 3 ? 0 : first === 0x62 && n === 5 ? 2 : -1;
  if (next < 0) return void client.publish(events, '{"error":"say on, off or blink"}', { qos: 1 });
  mode = next;
  if (mode < 2) digitalWrite(led, mode === 1); // at once, not at the next blink
  client.publish(events, MODES[mode], { qos: 1 });
}

/** The blink app. */
export const blinkApp: App = function (c, _config, board, base) {
  client = c;
  led = pin(board.pins.led as string); // boards/schema.mjs requires it where blink is built in
  events = base + "event";
  setInterval(blinkTick, 500);
  client.subscribe(base + "cmd", { qos: 1 }, onCommand);
};
