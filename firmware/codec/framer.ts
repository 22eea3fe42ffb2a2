// Resumable framing of an MQTT byte stream (MQTT 2.2: fixed header, Remaining Length, body) into whole
// packets inside one receive buffer allocated once. Chunks are appended with one native copy each
// (byte strings on Espruino, Uint8Array in Node); packets are handed out in place.
import { Err } from "../errors";
import { copyBytes, readLength, lengthOut } from "./bytes";
import { ESPRUINO } from "wisp-target";

/** Where whole packets go: an object, not closures, so that each packet costs one interpreter call. */
export interface FrameSink {
  /** Each whole packet as buf[start, end); valid only during the call. */
  onPacket(buf: Uint8Array, start: number, end: number): void;
  /** Err.PACKET_TOO_LARGE (the packet is skipped, the stream stays in sync; `header` is its first byte
   *  and `packetId` a QoS 1/2 PUBLISH's id, or 0 where its topic alone is too long to hold) or
   *  Err.BAD_LENGTH (the stream is lost). */
  onFrameError(err: number, header: number, packetId: number): void;
}

/** Splits a byte stream into MQTT packets of at most `maxPacket` bytes (fixed header included). */
export class Framer {
  /** Receive buffer: room for one packet plus one chunk. */
  readonly buf: Uint8Array;
  /** Bytes buf[readPos_, writePos_) are received and not yet framed; skip_ bytes of an oversize packet
   *  are still to pass over. */
  readPos_ = 0;
  writePos_ = 0;
  skip_ = 0;
  /** Counts resets: a chunk being appended in pieces stops when the stream was reset meanwhile. */
  resets_ = 0;

  constructor(
    private readonly maxPacket_: number,
    private readonly maxChunk_: number,
    private readonly sink_: FrameSink,
  ) {
    this.buf = new Uint8Array(maxPacket_ + maxChunk_);
  }

  /** Forgets any partial packet and whatever the current chunk still holds: on every new connection,
   *  and when the stream is given up. */
  reset(): void {
    this.readPos_ = this.writePos_ = this.skip_ = 0;
    this.resets_++;
  }

  /** Takes the next chunk of the stream, of any length, split anywhere. */
  push(chunk: string | Uint8Array): void {
    "ram";
    // On the interpreter every byte of a function's text is read on each call: rare work is elsewhere.
    const buf = this.buf;
    const len = chunk.length;
    if (this.writePos_ + len > buf.length) {
      if (this.readPos_) { // move the partial packet to the front
        buf.set(buf.subarray(this.readPos_, this.writePos_), 0);
        this.writePos_ -= this.readPos_;
        this.readPos_ = 0;
      }
      if (this.writePos_ + len > buf.length) {
        // Only a chunk longer than maxChunk gets here: appended in maxChunk pieces (transient strings).
        // Nothing more of it is framed once the stream is reset (the session gave the connection up).
        const resets = this.resets_;
        for (let i = 0; i < len && this.resets_ === resets; i += this.maxChunk_) this.push(typeof chunk === "string" ? chunk.substring(i, i + this.maxChunk_) : chunk.subarray(i, i + this.maxChunk_));
        return;
      }
    }
    if (ESPRUINO) (buf as any).set(chunk, this.writePos_);
    else copyBytes(buf, this.writePos_, chunk);
    this.writePos_ += len;
    while (this.readPos_ < this.writePos_) {
      const start = this.readPos_;
      let total = 2 + buf[start + 1]; // a one-byte Remaining Length
      if (this.skip_ || start + 1 >= this.writePos_ || buf[start + 1] > 127 || total > this.maxPacket_) {
        total = this.frameRare_(start);
        if (total < 0) continue; // bytes skipped
        if (!total) break; // more bytes needed, or the stream is lost
      }
      if (this.writePos_ - start < total) break;
      this.readPos_ = start + total;
      this.sink_.onPacket(buf, start, this.readPos_);
    }
    if (this.readPos_ === this.writePos_) this.readPos_ = this.writePos_ = 0;
  }

  /** The packet at `start` when it is not the common case: skips bytes of an oversize packet, reads a
   *  longer Remaining Length, reports packets too large. Returns its total length, or 0 when push must
   *  stop for now (more bytes needed, or the stream was reset), or -1 to go on framing. */
  private frameRare_(start: number): number {
    const buf = this.buf;
    if (this.skip_) {
      const n = Math.min(this.skip_, this.writePos_ - start);
      this.readPos_ += n;
      this.skip_ -= n;
      return this.readPos_ < this.writePos_ ? -1 : 0;
    }
    const body = readLength(buf, start + 1, this.writePos_);
    if (body === Err.MALFORMED) return 0; // header still incomplete
    if (body < 0) {
      this.reset();
      this.sink_.onFrameError(body, 0, 0);
      return 0;
    }
    const total = body - start + lengthOut.value;
    if (total <= this.maxPacket_) return total;
    // Too large to hold. A QoS 1/2 PUBLISH is still acknowledged, so that the broker's window does not
    // fill with messages never acknowledged: wait for the bytes up to its packet id when they fit.
    const header = buf[start];
    let id = 0;
    if (header >> 4 === 3 && header & 6) {
      if (this.writePos_ < body + 2) return 0;
      const idAt = body + 2 + ((buf[body] << 8) | buf[body + 1]);
      if (idAt + 2 - start <= this.maxPacket_) {
        if (this.writePos_ < idAt + 2) return 0;
        id = (buf[idAt] << 8) | buf[idAt + 1];
      }
    }
    this.skip_ = total;
    this.sink_.onFrameError(Err.PACKET_TOO_LARGE, header, id);
    return this.skip_ ? -1 : 0;
  }
}
