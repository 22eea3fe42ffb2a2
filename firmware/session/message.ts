// The received-message view the session hands to handlers. Espruino-only code, like the session: its
// strings are made with E.toString (through toByteString).
import type { PacketView } from "../codec/codec";
import { toByteString, UNICODE } from "../codec/bytes";

/** A received message, reused for every message: topic and payload are offsets into `buf`, valid only
 *  during the handler call. Reading fields allocates nothing; text() allocates a string, and so does
 *  topic() but for a plain ASCII topic, which the decoder already made one of. It is
 *  also the client's PacketView: packets are decoded straight into it. */
export interface Message extends PacketView {
  buf: Uint8Array;
  /** The topic as a string. */
  topic(): string;
  /** The payload as a byte string, one char per byte, as Espruino's MQTT module gives it. */
  text(): string;
}

/** What every Message view inherits (Object.create): its two methods, one copy, no constructor. */
export const MESSAGE_METHODS = {
  topic: function (this: Message): string {
    // A plain ASCII topic is already a string (decodePacket's).
    if (this.plainTopic_) return this.plainTopic_;
    const t = toByteString(this.buf.subarray(this.topicStart, this.topicEnd));
    return UNICODE ? E.asUTF8!(t) : t;
  },
  text: function (this: Message): string { return toByteString(this.buf.subarray(this.payloadStart, this.payloadEnd)); },
};

/** Called for each message matching a subscription's filter. */
export type MessageHandler = (m: Message) => void;
