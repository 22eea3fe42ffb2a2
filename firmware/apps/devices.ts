// Drivers for the boards' peripherals, on Espruino's I2C / PWM / ADC API: an MPU-6050 IMU, a battery
// divider and hobby servos (the BME280-style sensor is read by the sensor app itself, its only user).

/** The Pin object a board name ("D22", "A0") refers to. */
export function pin(name: string): any {
  return global[name];
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

/** Volts of battery per unit of analogRead (0..1): a 1:3 divider into the 3.3 V ADC. A number, not a
 *  function: a function object costs the heap about 8 JsVars. */
export const BATTERY_VOLTS = 3.3 * 3;

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
