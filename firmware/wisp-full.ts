// The layered module (dist/wisp-esp32.js, and the types of both modules: dist/wisp.d.ts):
// `require("wisp").create(server, options)`, shaped like Espruino's own MQTT module so programs written
// for it run unchanged. Client over the codec, with QoS 2 and TLS; for boards with heap to spare.
import { Client, Options, errorText } from "./session/client";

/** Creates a client for `server` ("host", "host:port", "mqtts://host:port" for TLS, or a list to fail
 *  over between); see Options. Limits the options do not give are an ESP8266's, which every board can
 *  afford: 256-byte packets either way, two QoS 1/2 messages of up to 128 bytes in flight. */
export function create(server: string | string[], options?: Options): Client {
  return new Client(server, options, options && options.limits);
}

/** Espruino's MQTT module shortcut: create(options.host, options), then connect(). */
export function connect(options: Options & { host: string }): Client {
  const c = create(options.host, options);
  c.connect();
  return c;
}

export { errorText };
