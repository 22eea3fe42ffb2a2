// What every app gets from the firmware: the connected client, its configuration, its board.
import type { Client } from "../session/client";

/** The device's configuration: Storage file "wisp.json" over the board's build-time defaults. */
export interface Config {
  /** Wi-Fi network (boards with Wi-Fi); never committed, only in the board's Storage. */
  ssid?: string;
  password?: string;
  /** Brokers to fail over between, "host", "host:port" or "mqtts://host:port" (TLS). */
  brokers: string[];
  /** The broker's user name and password (MQTT 3.1.2.8); only in the board's Storage. */
  mqtt_username?: string;
  mqtt_password?: string;
  /** Connect every broker over TLS (port 8883 by default). */
  tls?: boolean;
  /** Storage files holding the CA certificate, client key and client certificate as DER bytes. */
  ca?: string;
  key?: string;
  cert?: string;
  /** Device id: the MQTT client id and the topic level wisp/<device>/…. */
  device: string;
  /** One of the board's apps: "quadruped", "sensor" or "blink". */
  app: string;
  /** Telemetry publishes per second (quadruped). */
  rate_hz: number;
  /** Gait control updates per second (quadruped). */
  control_hz: number;
  /** Seconds between sensor readings (sensor node). */
  period_s: number;
  /** Milliseconds without a broker connection before the robot stops (quadruped). */
  failsafe_ms: number;
  /** MQTT keepalive, seconds. */
  keep_alive: number;
  /** Obey retained commands (quadruped; default false: a retained command is refused on the event topic). */
  accept_retained?: boolean;
}

/** The board data the apps use (boards/<name>.json), made for the app call: keep what you need of it. */
export interface BoardPins {
  name: string;
  pins: { i2cScl: string; i2cSda: string; battery: string; servos: string[]; led?: string };
}

/** An app: starts its timers and subscriptions on `client`, which is connected afterwards. Keep its
 *  state in module variables and its timers and handlers module functions: a closure made here would
 *  keep this call's scope (`config`, `board`) on the heap. */
export type App = (client: Client, config: Config, board: BoardPins, base: string) => void;
