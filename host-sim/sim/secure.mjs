// Secure broker settings for `npm start` and `npm run flash`: a broker URL with credentials
// (mqtts://user:password@host:8883, as MQTT.js takes it), and PEM certificates turned into the DER bytes
// Espruino's tls module takes. Messages name files, never their contents.
import { readFileSync } from "node:fs";

/** The DER bytes (a Buffer) of the PEM block in `file`; throws an Error naming the file. */
export function derFromPem(file) {
  let pem;
  try {
    pem = readFileSync(String(file), "latin1");
  } catch {
    throw new Error(`cannot read ${file}`);
  }
  const block = pem.match(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/);
  if (!block) throw new Error(`${file} is not a PEM file`);
  if (/ENCRYPTED/.test(block[1] + block[2])) throw new Error(`${file} is encrypted, which a board cannot undo (decrypt it: openssl pkey -in FILE -out FILE.plain)`);
  return Buffer.from(block[2].replace(/^[A-Za-z-]+:.*$/gm, "").replace(/\s/g, ""), "base64");
}

/** The broker as the simulator's boards and its monitor reach it, from the command line: `broker`
 *  ("host:port", "mqtt://…" or "mqtts://user:password@host:port"), `username`/`password` (over the URL's),
 *  `ca`/`cert`/`key` (PEM files). Returns {url: host:port, tls, boardConfig: wisp.json entries,
 *  files: Storage files of DER bytes, monitor: MQTT.js options}; throws an Error in words. */
export function secureBroker({ broker, username, password, ca, cert, key }) {
  let u;
  try {
    u = new URL(/^[a-z]+:\/\//.test(broker) ? broker : `mqtt://${broker}`);
  } catch {
    throw new Error(`--broker ${broker.replace(/\/\/[^@/]*@/, "//…@")}: not a broker address (mqtt://host:port or mqtts://user:password@host:port)`);
  }
  if (u.protocol !== "mqtt:" && u.protocol !== "mqtts:") throw new Error(`--broker: ${u.protocol}// is neither mqtt:// nor mqtts://`);
  const tls = u.protocol === "mqtts:";
  const url = `${u.hostname}:${u.port || (tls ? 8883 : 1883)}`;
  const user = username ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const pass = password ?? (u.password ? decodeURIComponent(u.password) : undefined);
  const boardConfig = { brokers: [tls ? `mqtts://${url}` : url], ...(user !== undefined ? { mqtt_username: user } : {}), ...(pass !== undefined ? { mqtt_password: pass } : {}) };
  const files = {};
  const monitor = { username: user, password: pass, rejectUnauthorized: false };
  for (const [option, file, name] of [["ca", ca, "wisp.ca"], ["cert", cert, "wisp.crt"], ["key", key, "wisp.key"]]) {
    if (file === undefined) continue;
    if (!tls) throw new Error(`--${option} needs a TLS broker (--broker mqtts://host:port)`);
    try {
      files[name] = derFromPem(file).toString("latin1");
    } catch (e) {
      throw new Error(`--${option}: ${e.message}`);
    }
    boardConfig[option] = name;
    monitor[option] = readFileSync(file);
  }
  return { url, tls, boardConfig, files, monitor };
}
