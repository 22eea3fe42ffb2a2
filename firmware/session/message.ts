// The received-message view the session hands to handlers. Espruino-only code, like the session: its
// strings are made with E.toString.
import type { PacketView } from "../codec/codec";

/** A received message, reused for every message: topic and payload are offsets into `buf`, valid only
 *  during the handler call. Reading fields allocates nothing; topic() and text() allocate strings. It is
 *  also the client's PacketView: packets are decoded straight into it. */
export class Message implements PacketView {
  buf: Uint8Array;
  topicStart = 0;
  topicEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;
  qos = 0;
  retain = false;
  dup = false;
  type = 0;
  packetId = 0;
  sessionPresent = false;
  returnCode = 0;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  /** The topic as a string. */
  topic(): string { return E.asUTF8 ? E.asUTF8(E.toString(this.buf.subarray(this.topicStart, this.topicEnd))) : E.toString(this.buf.subarray(this.topicStart, this.topicEnd)); }
  /** The payload as a byte string, one char per byte, as Espruino's MQTT module gives it. */
  text(): string { return E.toString(this.buf.subarray(this.payloadStart, this.payloadEnd)); }
}

/** Called for each message matching a subscription's filter. */
export type MessageHandler = (m: Message) => void;
