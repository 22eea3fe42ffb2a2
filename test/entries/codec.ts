// The codec as the tests load it (dist/test/codec.mjs for Node, dist/test/codec.es5.js for the Espruino
// stand-ins): the codec layer plus the Err enum as a runtime table, so tests read error numbers from the build.
export * from "../../firmware/codec/index";
export { Err } from "../../firmware/errors";
export { ESPRUINO } from "wisp-target";

