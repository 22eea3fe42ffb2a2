// Simulated peripherals with plausible physics: hobby servos that slew, an MPU-6050 whose readings
// follow the body's motion (computed from the servo positions), a BME280-style sensor, a battery that
// sags with servo load and drains over time.

const G = 9.81;

/** A hobby servo on 50 Hz PWM: 0.5..2.5 ms ↔ -90..90°, moving at most `slew` °/s; 0 duty = limp. */
export class Servo {
  constructor(clock, slew = 400) {
    this.clock = clock;
    this.slew = slew;
    this.pos = 0;
    this.target = 0;
    this.powered = false;
    this.at = clock();
  }
  /** PWM duty (0..1) at `freq` Hz from analogWrite. */
  pwm(duty, freq = 50) {
    this.update();
    if (!duty) { this.powered = false; return; }
    const ms = (duty * 1000) / freq;
    this.target = Math.max(-90, Math.min(90, (ms - 1.5) * 90));
    this.powered = true;
  }
  update() {
    const now = this.clock();
    const dt = now - this.at;
    this.at = now;
    if (!this.powered) return;
    const step = this.slew * dt;
    const d = this.target - this.pos;
    this.pos += Math.abs(d) <= step ? d : Math.sign(d) * step;
  }
  /** Current shaft angle, degrees. */
  angle() { this.update(); return this.pos; }
}

/** The robot body: attitude and bounce from the 12 servo angles (FL, FR, BL, BR × hip, thigh, knee). */
export class Body {
  constructor(servos, clock) {
    this.servos = servos;
    this.clock = clock;
    this.prev = null;
  }
  /** {roll, pitch (°), height (cm)} from the joints: bent knees lower that corner, and the thighs'
   *  swing shifts the weight (a diagonal trot rocks the body even though its corners balance). */
  attitude() {
    const knee = (leg) => this.servos[leg * 3 + 2].angle();
    const thigh = (leg) => this.servos[leg * 3 + 1].angle();
    const corner = [0, 1, 2, 3].map((leg) => 10 - 4 * Math.sin((knee(leg) * Math.PI) / 180));
    const left = (corner[0] + corner[2]) / 2;
    const right = (corner[1] + corner[3]) / 2;
    const front = (corner[0] + corner[1]) / 2;
    const back = (corner[2] + corner[3]) / 2;
    return {
      roll: (Math.atan2(right - left, 10) * 180) / Math.PI + 0.1 * (thigh(0) - thigh(1)),
      pitch: (Math.atan2(back - front, 20) * 180) / Math.PI + 0.05 * (thigh(0) + thigh(1) - thigh(2) - thigh(3)),
      height: (left + right) / 2,
    };
  }
  /** Accelerometer (g) and gyroscope (°/s) readings as an MPU-6050 on the body would see them. */
  imu() {
    const now = this.clock();
    const a = this.attitude();
    const p = this.prev || { ...a, t: now - 0.02, vz: 0 };
    const dt = Math.max(1e-3, now - p.t);
    const gx = (a.roll - p.roll) / dt;
    const gy = (a.pitch - p.pitch) / dt;
    const vz = (a.height - p.height) / 100 / dt;
    const az = (vz - p.vz) / dt / G;
    this.prev = { ...a, t: now, vz };
    const r = (a.roll * Math.PI) / 180;
    const q = (a.pitch * Math.PI) / 180;
    const noise = () => (Math.random() - 0.5) * 0.004;
    return {
      accel: [Math.sin(q) + noise(), -Math.sin(r) * Math.cos(q) + noise(), Math.cos(r) * Math.cos(q) + Math.max(-0.5, Math.min(0.5, az)) + noise()],
      gyro: [Math.max(-250, Math.min(250, gx)), Math.max(-250, Math.min(250, gy)), 0],
    };
  }
}

const i16 = (v) => { const x = Math.round(v) & 0xffff; return [x >> 8, x & 255]; };

/** MPU-6050 at 0x68: WHO_AM_I (0x75) = 0x68, PWR_MGMT_1 (0x6B), 14 data bytes from 0x3B. */
export function mpu6050(body) {
  let reg = 0;
  let awake = false;
  return {
    address: 0x68,
    write(bytes) {
      reg = bytes[0];
      if (reg === 0x6b && bytes.length > 1) awake = (bytes[1] & 0x40) === 0;
    },
    read(n) {
      const out = new Array(n).fill(0);
      if (reg === 0x75) out[0] = 0x68;
      else if (reg === 0x3b && awake) {
        const { accel, gyro } = body.imu();
        const bytes = [...accel.flatMap((g) => i16(g * 16384)), ...i16((25 - 36.53) * 340), ...gyro.flatMap((d) => i16(d * 131))];
        for (let i = 0; i < n && i < bytes.length; i++) out[i] = bytes[i];
      }
      return out;
    },
  };
}

/** BME280-style sensor at 0x76 with a simplified register map: id 0x60 at 0xD0; from 0xF7: pressure
 *  (uint24, Pa × 16), temperature (int16, 0.01 °C), a reserved byte, humidity (uint16, 0.01 %). */
export function bme280(clock) {
  let reg = 0;
  return {
    address: 0x76,
    write(bytes) { reg = bytes[0]; },
    read(n) {
      const out = new Array(n).fill(0);
      if (reg === 0xd0) out[0] = 0x60;
      else if (reg === 0xf7) {
        const t = clock();
        const temp = 22 + 1.5 * Math.sin(t / 600) + (Math.random() - 0.5) * 0.05;
        const hum = 45 + 5 * Math.sin(t / 900) + (Math.random() - 0.5) * 0.2;
        const pa = 101325 + 80 * Math.sin(t / 1800) + (Math.random() - 0.5) * 2;
        const p = Math.round(pa * 16);
        const bytes = [(p >> 16) & 255, (p >> 8) & 255, p & 255, ...i16(temp * 100), 0, ...i16(hum * 100)];
        for (let i = 0; i < n && i < bytes.length; i++) out[i] = bytes[i];
      }
      return out;
    },
  };
}

/** A 2S LiPo (8.4 V full) through a 1:3 divider: sags with moving servos, drains slowly. */
export function battery(clock, servos) {
  const t0 = clock();
  return {
    /** analogRead value, 0..1 of 3.3 V. */
    read() {
      const moving = servos.filter((s) => s.powered && Math.abs(s.target - s.angle()) > 1).length;
      const volts = 8.4 - 0.0002 * (clock() - t0) - 0.03 * moving + (Math.random() - 0.5) * 0.01;
      return Math.max(0, volts / 3 / 3.3);
    },
  };
}
