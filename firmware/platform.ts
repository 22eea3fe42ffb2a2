// The platform a session runs on, shaped as Espruino's own API so that on a board it is made of
// natives (no function objects): net.connect, tls.connect, getTime, setInterval. Injected at start-up: tests give a
// scripted socket and a fake clock, the host runs the same bundle on stand-ins of these natives.

/** A TCP connection as Espruino's net module gives it. */
export interface Socket {
  /** Events: "data" (a byte string, as Espruino gives it: the client tells its events apart by the
   *  argument's type, so data of any other type is taken for an error), "drain" (the send buffer is
   *  empty), "close" (a boolean), "error" (an object). Listeners are called with `this` = the socket. */
  on(event: string, fn: (this: Socket, data?: any) => void): void;
  /** Queues a byte string (one char per byte) to send. */
  write(data: string): void;
  /** Closes the connection; late events may still arrive. */
  end(): void;
  /** The session riding on the socket (set by the session). */
  h?: any;
}

/** What the session needs from the device. */
export interface Platform {
  /** Opens a TCP connection; `onOpen` is called with `this` = the socket once it is up. May throw at
   *  once when the connection is refused (Espruino's Linux build does). */
  connect(options: { host: string; port: number }, onOpen: (this: Socket) => void): Socket;
  /** Opens a TLS connection as Espruino's `require("tls").connect` does (ca/key/cert: DER byte strings
   *  or functions returning them); absent where the board has no TLS (an ESP8266). */
  tls?(options: { host: string; port: number; ca?: any; key?: any; cert?: any }, onOpen: (this: Socket) => void): Socket;
  /** Seconds on a clock that does not go back (Espruino's getTime). */
  time(): number;
  /** Calls fn(arg) every ms milliseconds (the argument as Espruino's setInterval passes it). */
  setInterval(fn: (arg: any) => void, ms: number, arg: any): any;
  clearInterval(handle: any): void;
  /** A number in [0, 1), for reconnect jitter. */
  random(): number;
}
