// Sensor node: reads the BME280-style sensor every period_s seconds and publishes compact JSON to
// wisp/<device>/telemetry (the online/offline status and its will are set up by main.ts).
// Its state is this module's variables and its timer a module function, not a closure: a closure would
// keep the app call's scope (the configuration and the board's data) on the heap.
import type { App } from "./app";
import type { Client } from "../session/client";
import { readEnv, batteryVolts } from "./devices";
import { FixedJson, fixedJson, fixedNum } from "./fixed-json";

let client: Client;
let doc: FixedJson;
let topic = "";
let battery: any;
let seq = 0;

/** One reading, published when connected; the count n goes up when the publish is accepted. */
function sensorTick(): void {
  if (!client.connected) return;
  readEnv(I2C1, doc, 1);
  fixedNum(doc, 0, seq);
  fixedNum(doc, 4, batteryVolts(battery));
  if (client.publish(topic, doc.buf) === 0) seq++;
}

/** The sensor-node app. */
export const sensorApp: App = function (c, config, board, base) {
  I2C1.setup({ scl: global[board.pins.i2cScl], sda: global[board.pins.i2cSda] });
  client = c;
  battery = global[board.pins.battery];
  doc = fixedJson('{"n":%8.0,"t":%6.2,"h":%6.2,"p":%7.2,"bat":%4.2}');
  topic = base + "telemetry";
  setInterval(sensorTick, config.period_s * 1000);
};
