// Firmware entry for one board (dist/firmware-<board>.js): the board's limits are fixed at build time.
import board from "board-config";
import { createClient, Options } from "./session/client";
import { espruinoPlatform } from "./espruino";

declare const global: any;

/** The board's client factory, for the apps and the console: wisp(server, options). */
global.wisp = function (server: string | string[], options?: Options) {
  return createClient(server, options, board, (options && options.platform) || espruinoPlatform());
};
