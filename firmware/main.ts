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
const stored = storage.readJSON("wisp.json", true) || {};
const config: Config = {} as any;
for (const k in board.defaults) (config as any)[k] = (board.defaults as any)[k];
for (const k in stored) (config as any)[k] = stored[k];
if (!config.device) config.device = "wisp-" + String(getSerial()).replace(/[^0-9a-zA-Z]/g, "").slice(-6);

function start(): void {
  const base = "wisp/" + config.device + "/";
  const status = base + "status";
  const client = global.wisp(config.brokers, {
    client_id: config.device, keep_alive: config.keep_alive, clean_session: false,
    will: { topic: status, message: "offline", qos: 1, retain: true },
    // The broker's credentials, and the TLS certificates as Storage files of DER bytes (npm run flash).
    username: config.mqtt_username, password: config.mqtt_password, tls: config.tls,
    ca: config.ca && storage.read(config.ca), key: config.key && storage.read(config.key), cert: config.cert && storage.read(config.cert),
  });
  // The retained `online` after every (re)connect, retried on puback / drain while every QoS 1 slot is
  // busy (publish says BUSY): the will's `offline` must not stay.
  const statusOpts = { qos: 1, retain: true };
  let statusDue = false;
  function sendStatus(): void {
    if (statusDue && client.connected && client.publish(status, "online", statusOpts) > 0) statusDue = false;
  }
  client.on("connected", function () { statusDue = true; sendStatus(); });
  client.on("puback", sendStatus);
  client.on("drain", sendStatus);
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
