// Blink: the smallest app, a model for your own (README, "Writing your own app"). The LED (or a relay)
// on the board's "led" pin blinks, or stays on or off, as commands on wisp/<device>/cmd say: "on",
// "off" or "blink"; each command is answered on wisp/<device>/event with the mode now in force.
import type { App } from "./app";
import type { Message } from "../session/client";
import { pin } from "./devices";

const MODES = ["off", "on", "blink"];

/** The blink app. */
export const blinkApp: App = function (client, _config, board, base) {
  const led = pin(board.pins.led as string); // boards/schema.mjs requires it where blink is built in
  const events = base + "event";
  const eventOpts = { qos: 1 };
  let mode = 2;
  let lit = false;
  setInterval(function () {
    lit = mode === 2 ? !lit : mode === 1;
    digitalWrite(led, lit);
  }, 500);
  client.subscribe(base + "cmd", { qos: 1 }, function (m: Message) {
    // The command read in place, in the reused Message view: its length and first byte tell the
    // three apart without making a string ("on" 2 bytes, "off" 3, "blink" 5).
    const n = m.payloadEnd - m.payloadStart;
    const first = n ? m.buf[m.payloadStart] : 0;
    const next = first === 0x6f && n === 2 ? 1 : first === 0x6f && n === 3 ? 0 : first === 0x62 && n === 5 ? 2 : -1;
    if (next < 0) return void client.publish(events, '{"error":"say on, off or blink"}', eventOpts);
    mode = next;
    if (mode < 2) digitalWrite(led, mode === 1); // at once, not at the next blink
    client.publish(events, MODES[mode], eventOpts);
  });
};
