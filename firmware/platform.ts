// The platform a session runs on: a TCP socket, one periodic timer, a clock. Injected at start-up so the
// session never imports Node or Espruino APIs; firmware/espruino.ts and host-sim implement it.

/** Receives the events of one connection opened with Platform.open; `conn` says which one. */
export interface NetHandler {
  onOpen(conn: any): void;
  onData(conn: any, chunk: string | Uint8Array): void;
  /** The socket's send buffer is empty again. */
  onDrain(conn: any): void;
  /** Closed, refused or failed; may come more than once per connection. */
  onClose(conn: any): void;
}

/** What the session needs from the device. */
export interface Platform {
  /** Opens a TCP connection; returns its handle, passed back to every NetHandler call. */
  open(host: string, port: number, handler: NetHandler): any;
  /** Writes buf[start, end) to the connection (the bytes are copied before it returns). */
  send(conn: any, buf: Uint8Array, start: number, end: number): void;
  /** Closes the connection; late events from it may still arrive. */
  close(conn: any): void;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Calls fn every `ms` milliseconds until cancel(handle). */
  every(fn: () => void, ms: number): any;
  cancel(handle: any): void;
  /** A number in [0, 1) for reconnect jitter. */
  random(): number;
  /** A client identifier unique to this device (MQTT 3.1.3.1: ≤ 23 characters of [0-9a-zA-Z]). */
  deviceId(): string;
}
