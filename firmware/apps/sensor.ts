// Sensor node: reads the BME280-style sensor every period_s seconds and publishes compact JSON to
// wisp/<device>/telemetry (the online/offline status and its will are set up by main.ts).
import type { App } from "./app";
import { EnvSensor, batteryVolts, pin } from "./devices";
import { FixedJson } from "./fixed-json";


/** The sensor-node app. */
export const sensorApp: App = function (client, config, board, base) {
  I2C1.setup({ scl: pin(board.pins.i2cScl), sda: pin(board.pins.i2cSda) });
  const sensor = new EnvSensor(I2C1);
  const battery = pin(board.pins.battery);
  const doc = new FixedJson('{"n":%8.0,"t":%6.2,"h":%6.2,"p":%7.2,"bat":%4.2}');
  const topic = base + "telemetry";
  let seq = 0;
  setInterval(function () {
    if (!client.connected) return;
    sensor.read();
    doc.num(0, seq);
    doc.num(1, sensor.temperature);
    doc.num(2, sensor.humidity);
    doc.num(3, sensor.pressure);
    doc.num(4, batteryVolts(battery));
    if (client.publish(topic, doc.buf) === 0) seq++;
  }, config.period_s * 1000);
};
