// The Espruino globals the firmware uses, and nothing else: the build's lib is ES5, so TypeScript
// rejects any API the interpreter lacks unless it is declared here (Espruino 2v29, espruino.com/Reference).

/** Espruino's utility object. */
declare const E: {
  /** Bytes of its arguments as one byte string (a Uint8Array's bytes, a string's chars as bytes). */
  toString(...args: any[]): string;
  /** True for a string flagged UTF-8 (builds with Unicode only; absent or false elsewhere). */
  isUTF8?: (s: string) => boolean;
  /** A UTF-8 flagged string's bytes as a byte string (builds with Unicode). */
  fromUTF8?: (s: string) => string;
  /** A byte string of UTF-8 flagged as UTF-8 (builds with Unicode). */
  asUTF8?: (s: string) => string;
};
/** Seconds since start, with fractions. */
declare function getTime(): number;
declare function getSerial(): string;
declare function setInterval(fn: (...args: any[]) => void, ms: number, ...args: any[]): any;
declare function clearInterval(handle: any): void;
declare function setTimeout(fn: () => void, ms: number): any;
declare function print(...a: any[]): void;
declare function require(name: string): any;
/** The global object (Espruino's `global`). */
declare const global: any;
declare function analogWrite(pin: any, value: number, opts?: any): void;
declare function analogRead(pin: any): number;
declare function digitalWrite(pin: any, value: boolean | number): void;
declare const I2C1: any;
/** TypeScript's compile-time view of the build target (rollup.config.js provides the module). */
declare module "wisp-target" {
  /** True in builds for Espruino, false in the Node build of the codec for tests. */
  export const ESPRUINO: boolean;
  /** True in the builds of the module (CommonJS: `exports` is the module object), false in firmware. */
  export const MODULE: boolean;
}
/** The board's session (rollup.config.js: session/compact.ts or session/layered-create.ts). */
declare module "board-session" {
  export function create(server: string | string[], options?: import("./session/types").Options, limits?: Partial<import("./session/types").Limits>): import("./session/client").Client;
}
