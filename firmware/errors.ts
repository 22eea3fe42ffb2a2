/** Every error Wisp reports: codec, framer and session share this one enum; all are negative so
 *  "offset or error" results need one `< 0` test. Numbers are stable: they appear in `error` events. */
export const enum Err {
  /** Encoding: the packet does not fit between the offset and the end of the buffer. */
  BUFFER_TOO_SMALL = -1,
  /** Remaining Length needs a fifth byte or exceeds 268,435,455 (MQTT 2.2.3). */
  BAD_LENGTH = -2,
  /** Reserved fixed-header flag bits are wrong for the packet type (MQTT 2.2.2, MQTT-2.2.2-2). */
  BAD_FLAGS = -3,
  /** QoS is not 0, 1 or 2 (MQTT-3.3.1-4), or a QoS a packet may not carry. */
  BAD_QOS = -4,
  /** Packet identifier is 0 or above 65535 (MQTT-2.3.1-1). */
  BAD_PACKET_ID = -5,
  /** Topic name empty, with a wildcard, or with U+0000 (MQTT-4.7.3-1, MQTT-3.3.2-2, MQTT-1.5.3-2). */
  BAD_TOPIC = -6,
  /** Topic filter empty or with a misplaced `#` / `+` (MQTT-4.7.1-2, MQTT-4.7.1-3). */
  BAD_FILTER = -7,
  /** A string is not well-formed UTF-8 or is longer than 65,535 bytes (MQTT 1.5.3, MQTT-1.5.3-1). */
  BAD_STRING = -8,
  /** Decoding: the packet ends before its fields do, or has bytes after them (malformed). */
  MALFORMED = -9,
  /** A packet type a client never receives (CONNECT, SUBSCRIBE, …, or reserved 0 / 15). */
  UNEXPECTED_PACKET = -10,
  /** Framer: the packet is larger than the receive buffer; it was skipped byte-exactly. */
  PACKET_TOO_LARGE = -11,
  /** A CONNACK or SUBACK return code outside the spec (MQTT 3.2.2.3, MQTT 3.9.3). */
  BAD_RETURN_CODE = -12,
  /** An argument of the wrong type or out of range (not a string topic, bad option). */
  BAD_ARGUMENT = -13,
  /** No free in-flight slot or queue space: nothing was sent, retry after a `puback`. */
  BUSY = -14,
  /** The operation needs a connection the client does not have. */
  NOT_CONNECTED = -15,
  /** The broker refused the connection (CONNACK return code 1..5, MQTT 3.2.2.3). */
  REFUSED = -16,
  /** Keepalive: no PINGRESP or other traffic from the broker in time (MQTT 3.1.2.10). */
  TIMEOUT = -17,
  /** The network connection closed or could not be opened. */
  CONNECTION_LOST = -18,
  /** The broker broke the protocol (e.g. session present with a refusal, MQTT-3.2.2-4). */
  PROTOCOL = -19,
}

/** Words for an Err code, as carried by `error` and `disconnected` events: the -code'th of the words
 *  in one literal (no table stays in the heap, and the module's text stays short). */
export function errorText(code: number): string {
  const words = "buffer too small|bad remaining length|bad header flags|bad QoS|bad packet id|bad topic|bad topic filter|bad UTF-8 string|malformed packet|unexpected packet|packet too large|bad return code|bad argument|busy|not connected|connection refused|timeout|connection lost|protocol violation|";
  if (!(code < 0 && code > -20 && code % 1 === 0)) return "error";
  let at = 0;
  while (++code < 0) at = words.indexOf("|", at) + 1;
  return words.slice(at, words.indexOf("|", at));
}
