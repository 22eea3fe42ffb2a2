// The session's configuration types.
import type { Bytes } from "../codec/bytes";
import type { Platform } from "../platform";

/** Buffer sizes and counts, fixed at start-up (per board: boards/<name>.json). */
export interface Limits {
  /** Largest incoming packet kept (bigger ones are skipped with an error, and acknowledged). */
  maxPacket: number;
  /** Receive buffer room beyond maxPacket: Espruino delivers up to 536 bytes at once, and a longer chunk
   *  than the room left is appended in pieces (transient strings), each as large as the buffer holds:
   *  less buffer, more calls. */
  maxChunk: number;
  /** Size of the transmit buffer: the largest packet other than a QoS 1/2 PUBLISH or a fast-path QoS 0. */
  txBuffer: number;
  /** Bytes written and not yet drained by the socket past which publish returns BUSY (and emits `busy`)
   *  until `drain`: a burst of this size plus one packet goes out at once, and a packet larger than the
   *  window still goes out alone, so pacing never stalls. Costs no buffer. */
  txWindow: number;
  /** QoS 1/2 messages in flight or queued at once. */
  inflight: number;
  /** Largest QoS 1/2 PUBLISH packet a slot holds. */
  inflightBytes: number;
  /** Subscriptions held at once. */
  maxSubscriptions: number;
}

/** Options, named as Espruino's MQTT module names them, plus Wisp's own (MQTT 3.1). */
export interface Options {
  port?: number;
  client_id?: string;
  keep_alive?: number;
  clean_session?: boolean;
  username?: string;
  password?: Bytes;
  /** Connect over TLS (as a server given as "mqtts://host:port" does; port 8883 by default). */
  tls?: boolean;
  /** TLS: CA certificate, client key and certificate as Espruino's tls module takes them: DER bytes
   *  (atob of the PEM body) or a function returning them. The server certificate is not verified. */
  ca?: any;
  key?: any;
  cert?: any;
  will?: { topic: string; message?: Bytes; qos?: number; retain?: boolean };
  /** Reconnect automatically (default true), waiting reconnect_min..reconnect_max ms with jitter. */
  reconnect?: boolean;
  reconnect_min?: number;
  reconnect_max?: number;
  /** Milliseconds to wait for the TCP connection plus CONNACK (default 10,000). */
  connect_timeout?: number;
  /** Milliseconds to wait for PINGRESP (or anything) after PINGREQ (default keep_alive/2, at most 10,000). */
  ping_timeout?: number;
  /** Buffer sizes (default: module defaults; firmware bundles pass their board's). */
  limits?: Partial<Limits>;
  /** The platform to run on (default: Espruino's). */
  platform?: Platform;
}
