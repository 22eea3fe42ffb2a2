// The blink app (firmware/apps/blink.ts), the smallest example app, on a simulated ESP32 against Aedes:
// it blinks the board's LED pin, obeys "on", "off" and "blink" on wisp/<device>/cmd, answers each on
// wisp/<device>/event, and says so when a command is none of those.
import { test } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { SimBoard } from "../host-sim/sim/board.mjs";
import { startAedes } from "./helpers/brokers.mjs";
import { waitFor, sleep } from "./helpers/util.mjs";

test("blink: the LED blinks, then follows on / off / blink commands, each answered on the event topic", async () => {
  const broker = await startAedes();
  const watcher = mqtt.connect(`mqtt://${broker.url}`);
  const events = [];
  watcher.on("message", (topic, payload) => events.push(String(payload)));
  await watcher.subscribeAsync("wisp/blinker/event", { qos: 1 });
  const board = new SimBoard({ board: "esp32", config: { brokers: [broker.url], device: "blinker", app: "blink" } }).boot();
  /** The LED's states sampled every 100 ms for `ms`. */
  const sample = async (ms) => { const seen = new Set(); for (let t = 0; t < ms; t += 100) { seen.add(board.led()); await sleep(100); } return seen; };
  try {
    await waitFor(() => board.client && board.client.connected, "connected");
    assert.deepEqual(await sample(1200), new Set([true, false]), "not blinking at boot");
    const command = async (text, answer) => {
      const n = events.length;
      await watcher.publishAsync("wisp/blinker/cmd", text, { qos: 1 });
      await waitFor(() => events.length > n, `an answer to ${text}`);
      assert.equal(events[n], answer);
    };
    await command("on", "on");
    assert.deepEqual(await sample(1200), new Set([true]), "not steadily on");
    await command("off", "off");
    assert.deepEqual(await sample(1200), new Set([false]), "not steadily off");
    await command("blink", "blink");
    assert.deepEqual(await sample(1200), new Set([true, false]), "not blinking again");
    await command("dance", '{"error":"say on, off or blink"}');
  } finally {
    board.powerOff();
    watcher.end(true);
    await broker.stop();
  }
});
