/** The board's data from boards/<name>.json, fixed at build time (see rollup.config.js): made anew by
 *  each call, so it takes the heap only while read (its values stay in the code, in flash). */
declare module "board-config" {
  function board(): {
    name: string;
    maxPacket: number; maxChunk: number; txBuffer: number; txWindow: number; inflight: number; inflightBytes: number;
    maxSubscriptions: number; wifi: boolean;
    pins: { i2cScl: string; i2cSda: string; battery: string; servos: string[]; led?: string };
    /** Build-time configuration defaults; Storage file "wisp.json" overrides them on the board. */
    defaults: { [key: string]: any };
  };
  export default board;
}

/** The apps this board's firmware includes, by name (boards/<name>.json "apps"). */
declare module "board-apps" {
  const apps: { [name: string]: import("./apps/app").App };
  export default apps;
}
