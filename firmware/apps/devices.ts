// Drivers for the boards' peripherals, on Espruino's I2C / PWM / ADC API: a BME280-style environment
// sensor, an MPU-6050 IMU, a battery divider and hobby servos.
import { FixedJson, fixedNum } from "./fixed-json";

/** The Pin object a board name ("D22", "A0") refers to. */
export function pin(name: string): any {
  return global[name];
}

/** Reads the BME280-style sensor at 0x76 (simplified register map, see host-sim/sim/peripherals.mjs: id
 *  0x60 at 0xD0; at 0xF7 pressure (uint24, Pa × 16), temperature (int16, 0.01 °C), humidity (uint16,
 *  0.01 %)) in one I2C transfer, into `doc`'s number slots `slot` (°C), `slot + 1` (% relative humidity)
 *  and `slot + 2` (hPa). Espruino's readFrom allocates its small result. */
export function readEnv(i2c: any, doc: FixedJson, slot: number): void {
  i2c.writeTo(0x76, 0xf7);
  const b = i2c.readFrom(0x76, 8);
  const t = (b[3] << 8) | b[4];
  fixedNum(doc, slot, (t > 32767 ? t - 65536 : t) / 100);
  fixedNum(doc, slot + 1, ((b[6] << 8) | b[7]) / 100);
  fixedNum(doc, slot + 2, ((b[0] << 16) | (b[1] << 8) | b[2]) / 1600);
}

/** MPU-6050 at 0x68: accelerometer ±2 g (16384 LSB/g), gyroscope ±250 °/s (131 LSB per °/s). */
export class Imu {
  /** Last reading: acceleration in g, rotation in °/s. */
  readonly accel = new Float32Array(3);
  readonly gyro = new Float32Array(3);
  constructor(private readonly i2c_: any) {}
  /** Wakes the chip (PWR_MGMT_1 = 0); true when WHO_AM_I answers 0x68. */
  start(): boolean {
    this.i2c_.writeTo(0x68, [0x6b, 0]);
    this.i2c_.writeTo(0x68, 0x75);
    return this.i2c_.readFrom(0x68, 1)[0] === 0x68;
  }
  /** Reads accelerometer and gyroscope in one 14-byte transfer from ACCEL_XOUT_H (0x3B). */
  read(): void {
    this.i2c_.writeTo(0x68, 0x3b);
    const b = this.i2c_.readFrom(0x68, 14);
    for (let i = 0; i < 3; i++) {
      let a = (b[2 * i] << 8) | b[2 * i + 1];
      let g = (b[8 + 2 * i] << 8) | b[9 + 2 * i];
      if (a > 32767) a -= 65536;
      if (g > 32767) g -= 65536;
      this.accel[i] = a / 16384;
      this.gyro[i] = g / 131;
    }
  }
}

/** Battery voltage through a 1:3 divider into the 3.3 V ADC. */
export function batteryVolts(p: any): number {
  return analogRead(p) * 3.3 * 3;
}

/** Hobby servos on 50 Hz PWM: -90..90° ↔ 0.5..2.5 ms pulses. */
export class Servos {
  /** Last commanded angle of each servo, degrees. */
  readonly angle: Float32Array;
  private readonly pins_: any[] = [];
  private readonly opts_ = { freq: 50 };
  constructor(names: string[]) {
    for (let i = 0; i < names.length; i++) this.pins_.push(pin(names[i]));
    this.angle = new Float32Array(names.length);
  }
  /** Commands servo `i` to `deg` (clamped to ±90°). */
  set(i: number, deg: number): void {
    deg = deg > 90 ? 90 : deg < -90 ? -90 : deg;
    this.angle[i] = deg;
    analogWrite(this.pins_[i], (1.5 + deg / 90) / 20, this.opts_);
  }
  /** Stops the pulses: an unpowered servo holds no torque and cannot fight anything. */
  release(): void {
    for (let i = 0; i < this.pins_.length; i++) analogWrite(this.pins_[i], 0, this.opts_);
  }
}
