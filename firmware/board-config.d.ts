/** The board's data from boards/<name>.json, fixed at build time (see rollup.config.js). */
declare module "board-config" {
  const board: {
    name: string; espruinoBoard: string; jsvars: number; jsvarBudget: number;
    maxPacket: number; maxChunk: number; txBuffer: number; inflight: number; inflightBytes: number;
    maxSubscriptions: number; wifi: boolean;
    pins: { i2cScl: string; i2cSda: string; battery: string; servos: string[] };
  };
  export default board;
}
