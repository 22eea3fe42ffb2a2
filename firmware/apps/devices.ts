// Drivers for the boards' peripherals, on Espruino's I2C / PWM / ADC API: an MPU-6050 IMU, a battery
// divider and hobby servos (the BME280-style sensor is read by the sensor app itself, its only user).
// Functions, not classes: a class costs every firmware that includes it a function object per method.
import { FixedJson, fixedNum } from "./fixed-json";

/** The Pin object a board name ("D22", "A0") refers to. */
export function pin(name: string): any {
  return global[name];
}

/** Wakes the MPU-6050 at 0x68 (PWR_MGMT_1 = 0); true when WHO_AM_I answers 0x68. */
export function imuStart(i2c: any): boolean {
  i2c.writeTo(0x68, [0x6b, 0]);
  i2c.writeTo(0x68, 0x75);
  return i2c.readFrom(0x68, 1)[0] === 0x68;
}

/** Reads the MPU-6050's accelerometer (±2 g: 16384 LSB/g) and gyroscope (±250 °/s: 131 LSB per °/s)
 *  in one 14-byte transfer from ACCEL_XOUT_H (0x3B), into `doc`'s number slots `slot`.. `slot + 2`
 *  (x, y, z in g) and `slot + 3`.. `slot + 5` (°/s). */
export function imuRead(i2c: any, doc: FixedJson, slot: number): void {
  i2c.writeTo(0x68, 0x3b);
  const b = i2c.readFrom(0x68, 14);
  for (let i = 0; i < 3; i++) {
    let a = (b[2 * i] << 8) | b[2 * i + 1];
    let g = (b[8 + 2 * i] << 8) | b[9 + 2 * i];
    if (a > 32767) a -= 65536;
    if (g > 32767) g -= 65536;
    fixedNum(doc, slot + i, a / 16384);
    fixedNum(doc, slot + 3 + i, g / 131);
  }
}

/** Volts of battery per unit of analogRead (0..1): a 1:3 divider into the 3.3 V ADC. A number, not a
 *  function: a function object costs the heap about 8 JsVars. */
export const BATTERY_VOLTS = 3.3 * 3;

/** Hobby servos on 50 Hz PWM: -90..90° ↔ 0.5..2.5 ms pulses. */
const SERVO_PWM = { freq: 50 };

/** Commands the servo on pin `p` to `deg`, clamped to ±90°; returns the angle commanded. */
export function servoWrite(p: any, deg: number): number {
  deg = deg > 90 ? 90 : deg < -90 ? -90 : deg;
  analogWrite(p, (1.5 + deg / 90) / 20, SERVO_PWM);
  return deg;
}
