// The Espruino module (dist/wisp.js): `require("wisp").create(server, options)`, shaped like Espruino's
// own MQTT module so that programs written for it run unchanged. The compact session
// (session/compact.ts), which fits an ESP8266 and runs on every board; dist/wisp-esp32.js is the layered
// one (wisp-full.ts), with QoS 2 and TLS. Both have the API of Client (dist/wisp.d.ts).
export { create, connect, publish, subscribe, unsubscribe, disconnect, emit, errorText, onSocket_, onData_ } from "./session/compact";
