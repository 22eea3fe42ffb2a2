// Sensor node: reads the BME280-style sensor every period_s seconds and publishes compact JSON to
// wisp/<device>/telemetry (the online/offline status and its will are set up by main.ts).
// Its state is this module's variables and its timer a module function, not a closure: a closure would
// keep the app call's scope (the configuration and the board's data) on the heap.
import type { App } from "./app";
import type { Client } from "../session/client";
import { BATTERY_VOLTS } from "./devices";
import { FixedJson, fixedJson, fixedNum } from "./fixed-json";

let client: Client;
let doc: FixedJson;
let topic = "";
let battery: any;
let seq = 0;

/** One reading, published when connected; the count n goes up when the publish is accepted. The
 *  BME280-style sensor at 0x76 (simplified register map, see host-sim/sim/peripherals.mjs: id 0x60 at
 *  0xD0; at 0xF7 pressure (uint24, Pa × 16), temperature (int16, 0.01 °C), humidity (uint16, 0.01 %))
 *  is read in one I2C transfer (Espruino's readFrom allocates its small result). */
function sensorTick(): void {
  if (!client.connected) return;
  I2C1.writeTo(0x76, 0xf7);
  const b = I2C1.readFrom(0x76, 8);
  const t = (b[3] << 8) | b[4];
  fixedNum(doc, 0, seq);
  fixedNum(doc, 1, (t > 32767 ? t - 65536 : t) / 100);
  fixedNum(doc, 2, ((b[6] << 8) | b[7]) / 100);
  fixedNum(doc, 3, ((b[0] << 16) | (b[1] << 8) | b[2]) / 1600);
  fixedNum(doc, 4, analogRead(battery) * BATTERY_VOLTS);
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
