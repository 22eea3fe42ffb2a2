// The Espruino module (dist/wisp.js): `require("wisp").create(server, options)`, shaped like Espruino's
// own MQTT module so programs written for it run unchanged.
import { Client, Options, Limits, errorText } from "./session/client";
import { espruinoPlatform } from "./espruino";

/** Limits where options.limits does not give them: small enough for an ESP8266 (1,600 JsVars), with room for
 *  a 512-byte packet either way and four QoS 1/2 messages of up to 256 bytes in flight. */
const DEFAULTS: Limits = { maxPacket: 512, maxChunk: 536, txBuffer: 512, inflight: 4, inflightBytes: 256, maxSubscriptions: 8 };

/** Creates a client for `server` ("host", "host:port" or a list to fail over between); see Options. */
export function create(server: string | string[], options?: Options): Client {
  const given: any = (options && options.limits) || {};
  const limits: any = {};
  for (const k in DEFAULTS) limits[k] = given[k] || (DEFAULTS as any)[k];
  return new Client(server, options, limits, (options && options.platform) || espruinoPlatform());
}

/** Espruino's MQTT module shortcut: create(options.host, options), then connect(). */
export function connect(options: Options & { host: string }): Client {
  const c = create(options.host, options);
  c.connect();
  return c;
}

export { errorText };
