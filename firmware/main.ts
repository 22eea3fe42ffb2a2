// Firmware entry for one board (dist/firmware-<board>.js): the board's buffer sizes are fixed at build
// time; the configuration comes from Storage file "wisp.json" over the board's defaults; then Wi-Fi
// (where the board has it), the client with its online/offline status and will, and the app.
import board from "board-config";
import { Client, Options } from "./session/client";
import { espruinoPlatform } from "./espruino";
import type { Config } from "./apps/app";
import apps from "board-apps";


/** A client with this board's limits, for the console too: wisp(server, options). */
global.wisp = function (server: string | string[], options?: Options): Client {
  return new Client(server, options, board, (options && options.platform) || espruinoPlatform((options && options.tls) || String(server).indexOf("mqtts:") >= 0));
};

const storage = require("Storage");
// The configuration: Storage's wisp.json over the board's defaults, which it inherits rather than copies,
// and the parsed file let go once merged (every property costs the heap 2 JsVars).
const config: Config = Object.create(board.defaults);
let stored = storage.readJSON("wisp.json", true) || {};
for (const k in stored) (config as any)[k] = stored[k];
stored = null;
if (!config.device) config.device = "wisp-" + String(getSerial()).replace(/[^0-9a-zA-Z]/g, "").slice(-6);

function start(): void {
  const base = "wisp/" + config.device + "/";
  const status = base + "status";
  // Only the options this board's configuration gives: each property costs the heap 2 JsVars.
  const opts: Options = {
    client_id: config.device, keep_alive: config.keep_alive, clean_session: false,
    will: { topic: status, message: "offline", qos: 1, retain: true },
  };
  // The broker's credentials, and the TLS certificates as Storage files of DER bytes (npm run flash).
  if (config.mqtt_username) opts.username = config.mqtt_username;
  if (config.mqtt_password) opts.password = config.mqtt_password;
  if (config.tls) opts.tls = true;
  if (config.ca) opts.ca = storage.read(config.ca);
  if (config.key) opts.key = storage.read(config.key);
  if (config.cert) opts.cert = storage.read(config.cert);
  const client = global.wisp(config.brokers, opts);
  // The retained `online` after every (re)connect, retried on puback while every QoS 1 slot is busy
  // (publish says BUSY; a slot frees on PUBACK): the will's `offline` must not stay.
  const statusOpts = { qos: 1, retain: true };
  let statusDue = false;
  function sendStatus(): void {
    if (statusDue && client.connected && client.publish(status, "online", statusOpts) > 0) statusDue = false;
  }
  client.on("connected", function () { statusDue = true; sendStatus(); });
  client.on("puback", sendStatus);
  client.on("error", function (reason: string) { print("mqtt: " + reason); });
  const app = apps[config.app];
  if (!app) print("wisp: no app " + config.app);
  else app(client, config, board, base);
  global.mqtt = client;
  client.connect();
}

function joinWifi(): void {
  require("Wifi").connect(config.ssid, { password: config.password }, function (err: any) {
    if (!err) return start();
    print("wifi: " + err);
    setTimeout(joinWifi, 5000);
  });
}

if (board.wifi && config.ssid) joinWifi();
else start();
