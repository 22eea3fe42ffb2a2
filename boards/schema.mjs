// The one schema of a board file (boards/<name>.json), checked by the build (rollup.config.js), the
// flash tool and the simulator: an unknown key (a typo such as `maxchunk`), a missing key, a wrong type
// or an out-of-range number is rejected with one line naming the file, the key and the problem.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const int = (min, max, about) => ({ type: "integer", min, max, about });
const text = (about) => ({ type: "string", about });
const flag = (about) => ({ type: "boolean", about });
const pin = text("a pin name such as D22 or A0");

/** The configuration a board's firmware reads (Storage file "wisp.json" over the board file's
 *  "defaults"): every default a board file must give, and what `npm run flash` and `npm start` accept. */
const DEFAULT_KEYS = {
  brokers: { type: "array", items: { type: "string", pattern: /^(mqtts?:\/\/)?[^:\s/]+(:\d{1,5})?$/, about: '"host", "host:port" or "mqtts://host:port" (TLS)' }, minLength: 1, about: "brokers to fail over between" },
  app: text("one of the board's apps"),
  rate_hz: int(1, 100, "telemetry per second"),
  control_hz: int(1, 200, "control loop per second"),
  period_s: int(1, 86400, "sensor reading period, seconds"),
  failsafe_ms: int(100, 600000, "ms without the broker before standing still"),
  keep_alive: int(0, 65535, "MQTT keepalive, seconds"),
};

/** A device's configuration file (wisp.config.json, flashed as "wisp.json"): any of the defaults, plus
 *  what only a device's own file holds: Wi-Fi and broker secrets, TLS certificates, the device id. */
export const CONFIG_SCHEMA = {
  type: "object",
  keys: {
    ...Object.fromEntries(Object.entries(DEFAULT_KEYS).map(([k, spec]) => [k, { ...spec, optional: true }])),
    ssid: { ...text("the Wi-Fi network's name"), optional: true },
    password: { ...text("the Wi-Fi password"), optional: true, secret: true },
    mqtt_username: { ...text("the broker's user name"), optional: true },
    mqtt_password: { ...text("the broker's password"), optional: true, secret: true },
    tls: { ...flag("connect every broker over TLS"), optional: true },
    accept_retained: { ...flag("obey a retained command (the quadruped ignores them otherwise)"), optional: true },
    ca: { ...text("the CA certificate: a PEM file (npm run flash stores it as Storage file wisp.ca)"), optional: true },
    cert: { ...text("the client certificate: a PEM file (stored as wisp.crt)"), optional: true },
    key: { ...text("the client key: a PEM file (stored as wisp.key)"), optional: true },
    device: { type: "string", pattern: /^[A-Za-z0-9_-]{1,23}$/, about: "a device id: 1–23 letters, digits, - or _ (the MQTT client id and topic level)", optional: true },
  },
};

/** Every key a board file may have; `optional` ones may be left out. */
export const BOARD_SCHEMA = {
  type: "object",
  keys: {
    name: text("the file's name without .json"),
    espruinoBoard: text("Espruino's BOARD name, e.g. ESP32"),
    description: text("what the board is"),
    jsvars: int(500, 65535, "the interpreter's heap in JsVars"),
    maxPacket: int(64, 65535, "largest MQTT packet received, bytes"),
    maxChunk: int(16, 536, "bytes of received data appended at a time (the interpreter delivers ≤ 536)"),
    txBuffer: int(64, 65535, "buffer for the packets encoded before sending (CONNECT, SUBSCRIBE, acks, retained or UTF-8 QoS 0), bytes"),
    txWindow: int(64, 16383, "bytes written and not yet drained that publish accepts before BUSY"),
    inflight: int(1, 64, "QoS 1/2 messages in flight"),
    inflightBytes: int(16, 65535, "bytes kept per in-flight message"),
    maxSubscriptions: int(1, 64, "subscriptions with handlers"),
    hotFunctionsInRam: { ...flag("copy the hot functions to RAM"), optional: true },
    session: { type: "string", pattern: /^(compact|layered)$/, about: '"compact" (session/compact.ts: fits an ESP8266; no QoS 2, no TLS) or "layered" (session/client.ts over the codec)' },
    wifi: flag("whether the board has Wi-Fi"),
    pins: {
      type: "object",
      keys: { i2cScl: pin, i2cSda: pin, battery: pin, servos: { type: "array", items: pin, length: 12, about: "12 servo pins" }, led: { ...text("the pin of an LED or relay (the blink app)"), optional: true } },
    },
    defaults: { type: "object", keys: DEFAULT_KEYS },
    apps: { type: "array", items: { type: "string", pattern: /^[a-z][a-zA-Z0-9]*$/, about: "an app in firmware/apps/" }, minLength: 1, about: "the apps built in" },
  },
};

/** A board file that does not fit the schema; the message is one line naming file, key and problem. */
export class BoardError extends Error {}

const describeSpec = (spec) =>
  spec.type === "integer" ? `an integer ${spec.min}–${spec.max}${spec.about ? ` (${spec.about})` : ""}`
  : spec.type === "object" ? "an object"
  : `${spec.type === "array" ? "a list" : `a ${spec.type}`}${spec.about ? ` (${spec.about})` : ""}`;

/** The first problem of `value` against `spec` as "key: problem", or null. */
function problem(value, spec, path) {
  const at = path || "(top level)";
  const shown = spec.secret ? "its value" : JSON.stringify(value); // a secret is never printed
  const typeOk = spec.type === "integer" ? Number.isInteger(value)
    : spec.type === "array" ? Array.isArray(value)
    : spec.type === "object" ? value !== null && typeof value === "object" && !Array.isArray(value)
    : typeof value === spec.type;
  if (!typeOk) return `${at}: ${shown} is not ${describeSpec(spec)}`;
  if (spec.type === "integer" && (value < spec.min || value > spec.max)) return `${at}: ${value} is out of range, expected ${describeSpec(spec)}`;
  if (spec.pattern && !spec.pattern.test(value)) return `${at}: ${JSON.stringify(value)} is not ${spec.about}`;
  if (spec.type === "array") {
    if (spec.length !== undefined && value.length !== spec.length) return `${at}: has ${value.length} entries, expected ${spec.length}`;
    if (spec.minLength !== undefined && value.length < spec.minLength) return `${at}: is empty, expected ${describeSpec(spec)}`;
    for (let i = 0; i < value.length; i++) {
      const p = problem(value[i], spec.items, `${path}[${i}]`);
      if (p) return p;
    }
  }
  if (spec.type === "object") {
    for (const key of Object.keys(value)) {
      if (spec.keys[key]) continue;
      const near = Object.keys(spec.keys).find((k) => k.toLowerCase() === key.toLowerCase());
      return `${path ? `${path}.` : ""}${key}: unknown key${near ? ` (did you mean ${near}?)` : ""}`;
    }
    for (const [key, sub] of Object.entries(spec.keys)) {
      const where = path ? `${path}.${key}` : key;
      if (!(key in value)) {
        if (sub.optional) continue;
        return `${where}: missing, expected ${describeSpec(sub)}`;
      }
      const p = problem(value[key], sub, where);
      if (p) return p;
    }
  }
  return null;
}

/** Checks a board's data; throws BoardError "<file>: <key>: <problem>". */
export function validateBoard(data, file) {
  const p = problem(data, BOARD_SCHEMA, "");
  if (p) throw new BoardError(`${file}: ${p}`);
  const name = file.replace(/^.*\//, "").replace(/\.json$/, "");
  if (data.name !== name) throw new BoardError(`${file}: name: "${data.name}" differs from the file's name "${name}"`);
  if (data.apps.includes("blink") && !data.pins.led) throw new BoardError(`${file}: pins.led: missing, the blink app needs it (a pin name such as D5)`);
  if (!data.apps.includes(data.defaults.app)) throw new BoardError(`${file}: defaults.app: "${data.defaults.app}" is not one of apps (${data.apps.join(", ")})`);
  return data;
}

/** A configuration that does not fit CONFIG_SCHEMA or its board; the message is one line. */
export class ConfigError extends Error {}

/** Checks a device configuration for board `board` (its data); throws ConfigError "<file>: <key>:
 *  <problem>". The same schema as the board file's defaults, so what the firmware reads is checked. */
export function validateConfig(config, board, file) {
  const p = problem(config, CONFIG_SCHEMA, "");
  if (p) throw new ConfigError(`${file}: ${p}`);
  if (config.app !== undefined && !board.apps.includes(config.app)) {
    throw new ConfigError(`${file}: app: "${config.app}" is not built into the ${board.name} firmware (it has ${board.apps.join(", ")})`);
  }
  return config;
}

/** The schema entry of configuration key `key` (for tools that take one value on the command line). */
export const configSpec = (key) => CONFIG_SCHEMA.keys[key];

/** The first problem of `value` against `spec`, as "problem" (no key), or null. */
export const valueProblem = (value, spec) => {
  const p = problem(value, spec, "");
  return p && p.replace(/^\(top level\): /, "");
};

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The names of the boards in `dir` (default: this folder). */
export function boardNames(dir = HERE) {
  return readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

/** Reads and checks boards/<name>.json; throws BoardError with one line for any problem. */
export function readBoard(name, dir = HERE) {
  const path = join(dir, `${name}.json`);
  const file = `boards/${name}.json`;
  if (!/^[\w-]+$/.test(name) || !existsSync(path)) throw new BoardError(`no board "${name}" in boards/ (there are ${boardNames(dir).join(", ")})`);
  let data;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new BoardError(`${file}: not valid JSON (${e.message})`);
  }
  return validateBoard(data, file);
}
