// The Espruino module (dist/wisp.js): `require("wisp").create(server, options)`, shaped like Espruino's
// own MQTT module so programs written for it run unchanged.
import { Client, Options, Limits, errorText } from "./session/client";
import { espruinoPlatform } from "./espruino";

/** Limits where options.limits does not give them: an ESP8266's (boards/esp8266.json), which every
 *  board can afford: 256-byte packets either way, four QoS 1/2 messages of up to 128 bytes in flight. */
const DEFAULTS: Limits = { maxPacket: 256, maxChunk: 128, txBuffer: 128, txWindow: 1024, inflight: 4, inflightBytes: 128, maxSubscriptions: 4 };

/** Creates a client for `server` ("host", "host:port", "mqtts://host:port" for TLS, or a list to fail
 *  over between); see Options. */
export function create(server: string | string[], options?: Options): Client {
  const given: any = (options && options.limits) || {};
  const limits: any = {};
  for (const k in DEFAULTS) limits[k] = given[k] || (DEFAULTS as any)[k];
  return new Client(server, options, limits, (options && options.platform) || espruinoPlatform((options && options.tls) || String(server).indexOf("mqtts:") >= 0));
}

/** Espruino's MQTT module shortcut: create(options.host, options), then connect(). */
export function connect(options: Options & { host: string }): Client {
  const c = create(options.host, options);
  c.connect();
  return c;
}

export { errorText };
