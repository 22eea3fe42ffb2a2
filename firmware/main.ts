// Firmware entry for one board (dist/firmware-<board>.js): the board's buffer sizes are fixed at build
// time; the configuration comes from Storage file "wisp.json" over the board's defaults; then Wi-Fi
// (where the board has it), the client with its online/offline status and will, and the app.
// What stays on the heap once booted is only the client, the app's own state, the console's `wisp`
// and this file's two status variables and one listener: the board's data is made by a call when read
// (its values live in the code, in flash), and the configuration and the boot's helpers are let go.
import board from "board-config";
import type { Client, Options } from "./session/client";
import { create } from "board-session";
import type { Config } from "./apps/app";
import apps from "board-apps";


/** A client with this board's limits and session (boards/<name>.json "session"), for the console too:
 *  wisp(server, options). */
global.wisp = function (server: string | string[], options?: Options): Client {
  return create(server, options, board());
};

/** wisp/<device>/status, and whether its retained `online` is still to be sent. */
let statusTopic = "";
let statusDue = false;

/** The firmware's one client listener, for "connected", "puback" and "error", told apart by their
 *  argument (a boolean, a packet id, a reason): one function instead of three. After every
 *  (re)connect the retained `online` goes out, retried on puback while every QoS 1 slot is busy
 *  (publish says BUSY; a slot frees on PUBACK): the will's `offline` must not stay. */
function onClientEvent(this: Client, arg: any): void {
  if (typeof arg === "string") return print("mqtt: " + arg);
  if (typeof arg === "boolean") statusDue = true;
  if (statusDue && this.connected && this.publish(statusTopic, "online", { qos: 1, retain: true }) > 0) statusDue = false;
}

/** Reads the configuration, joins Wi-Fi where the board has it, then starts the client and the app.
 *  Everything it makes is let go when it returns (or once Wi-Fi is joined), but for what the client
 *  and the app keep; itself too: a function called in place, not a declaration the module's scope
 *  would keep (about 6 JsVars). */
(function boot(): void {
  const data = board();
  const storage = require("Storage");
  // Storage's wisp.json over the board's defaults, which it inherits rather than copies.
  const config: Config = Object.create(data.defaults);
  const stored = storage.readJSON("wisp.json", true) || {};
  for (const k in stored) (config as any)[k] = stored[k];
  if (!config.device) config.device = "wisp-" + String(getSerial()).replace(/[^0-9a-zA-Z]/g, "").slice(-6);

  function start(): void {
    const base = "wisp/" + config.device + "/";
    statusTopic = base + "status";
    // Only the options this board's configuration gives: the client copies each one it is given.
    const opts: Options = {
      client_id: config.device, keep_alive: config.keep_alive, clean_session: false,
      will: { topic: statusTopic, message: "offline", qos: 1, retain: true },
    };
    // The broker's credentials, and the TLS certificates as Storage files of DER bytes (npm run flash).
    if (config.mqtt_username) opts.username = config.mqtt_username;
    if (config.mqtt_password) opts.password = config.mqtt_password;
    if (config.tls) opts.tls = true;
    if (config.ca) opts.ca = storage.read(config.ca);
    if (config.key) opts.key = storage.read(config.key);
    if (config.cert) opts.cert = storage.read(config.cert);
    const client = global.wisp(config.brokers, opts);
    client.on("connected", onClientEvent);
    client.on("puback", onClientEvent);
    client.on("error", onClientEvent);
    const app = apps[config.app];
    if (!app) print("wisp: no app " + config.app);
    else app(client, config, data, base);
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

  if (data.wifi && config.ssid) joinWifi();
  else start();
})();
