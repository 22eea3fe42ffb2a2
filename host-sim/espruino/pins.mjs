// Espruino's pins and the buses on them: pin globals (D0–D40, A0–A7 and the board's named pins),
// Pin(), digitalRead/Write, analogRead (ADC), analogWrite (PWM) and I2C1. `hw.pins` maps a pin name to
// its simulated part ({analogRead?, pwm?}); `hw.i2c` lists the I2C devices ({address, read(n), write(bytes)}).
import { bytesOf } from "./strings.mjs";

/** Installs the pin and bus globals in `context`; `U8` is the context's Uint8Array. */
export function installPins(context, hw, U8) {
  const pinObjects = {};
  for (const name of Object.keys(hw.pins).concat(Array.from({ length: 41 }, (_, i) => `D${i}`), Array.from({ length: 8 }, (_, i) => `A${i}`))) {
    if (!pinObjects[name]) pinObjects[name] = { name, toString: () => name };
  }
  const pinOf = (p) => hw.pins[p && p.name !== undefined ? p.name : String(p)] || {};
  const deviceAt = (addr) => {
    const dev = hw.i2c.find((d) => d.address === addr);
    if (!dev) throw new Error(`I2C Error: no ACK from 0x${addr.toString(16)}`);
    return dev;
  };
  Object.assign(context, pinObjects, {
    /** Espruino's Pin(name or number): the same object as the global of that name. */
    Pin: function Pin(v) { return pinObjects[typeof v === "number" ? `D${v}` : String(v)]; },
    digitalWrite: (p, v) => { pinOf(p).value = v ? 1 : 0; },
    digitalRead: (p) => pinOf(p).value || 0,
    analogRead: (p) => (pinOf(p).analogRead ? pinOf(p).analogRead() : 0),
    analogWrite: (p, v, opts) => { const pin = pinOf(p); if (pin.pwm) pin.pwm(v, (opts && opts.freq) || 1000); },
    setWatch: () => 1,
    clearWatch: () => {},
    I2C: function I2C() {},
    I2C1: {
      setup() {},
      writeTo(addr, ...data) {
        deviceAt(addr).write(data.flatMap((d) => (typeof d === "number" ? [d] : typeof d === "string" ? [...bytesOf(d)] : Array.from(d))));
      },
      readFrom: (addr, n) => new U8(deviceAt(addr).read(n)),
    },
  });
}
