// Resumable framing of an MQTT byte stream (MQTT 2.2: fixed header, Remaining Length, body) into whole
// packets inside one receive buffer allocated once. Chunks are appended with one native copy each
// (binary strings on Espruino, Uint8Array in Node); packets are handed out in place.
import { Err } from "../errors";
import { copyBytes, readLength, lengthOut } from "./bytes";

/** Where whole packets go: an object, not closures, so that each packet costs one interpreter call. */
export interface FrameSink {
  /** Each whole packet as buf[start, end); valid only during the call. */
  onPacket(buf: Uint8Array, start: number, end: number): void;
  /** Err.PACKET_TOO_LARGE (packet skipped, stream still in sync) or Err.BAD_LENGTH (stream lost). */
  onFrameError(err: number): void;
}

/** Splits a byte stream into MQTT packets of at most `maxPacket` bytes (fixed header included). */
export class Framer {
  /** Receive buffer: room for one packet plus one chunk. */
  readonly buf: Uint8Array;
  private readPos_ = 0;
  private writePos_ = 0;
  private skipBytes_ = 0;

  constructor(
    private readonly maxPacket_: number,
    private readonly maxChunk_: number,
    private readonly sink_: FrameSink,
  ) {
    this.buf = new Uint8Array(maxPacket_ + maxChunk_);
  }

  /** Forgets any partial packet: call on every new connection. */
  reset(): void {
    this.readPos_ = this.writePos_ = this.skipBytes_ = 0;
  }

  /** True while part of a packet has arrived and the rest has not (a truncated stream if it ends now). */
  get partial(): boolean {
    return this.readPos_ < this.writePos_ || this.skipBytes_ > 0;
  }

  /** Takes the next chunk of the stream, of any length, split anywhere. */
  push(chunk: string | Uint8Array): void {
    "ram";
    const len = chunk.length;
    if (this.writePos_ + len > this.buf.length) this.compact_();
    if (this.writePos_ + len > this.buf.length) {
      // Only a chunk longer than maxChunk gets here.
      for (let i = 0; i < len; i += this.maxChunk_) {
        const end = Math.min(len, i + this.maxChunk_);
        this.push(typeof chunk === "string" ? chunk.substring(i, end) : chunk.subarray(i, end));
      }
      return;
    }
    copyBytes(this.buf, this.writePos_, chunk);
    this.writePos_ += len;
    this.drain_();
  }

  private compact_(): void {
    const buf = this.buf;
    if (this.readPos_ === 0) return;
    buf.set(buf.subarray(this.readPos_, this.writePos_), 0);
    this.writePos_ -= this.readPos_;
    this.readPos_ = 0;
  }

  /** Passes over the bytes of a packet too large to hold. */
  private skip_(): void {
    const n = Math.min(this.skipBytes_, this.writePos_ - this.readPos_);
    this.readPos_ += n;
    this.skipBytes_ -= n;
  }

  // On the interpreter every byte of a function's text is read on each call, taken path or not: the
  // per-packet loop keeps rare work in other methods.
  private drain_(): void {
    "ram";
    const buf = this.buf;
    while (this.readPos_ < this.writePos_) {
      if (this.skipBytes_) {
        this.skip_();
        continue;
      }
      const start = this.readPos_;
      let total: number;
      if (start + 1 < this.writePos_ && buf[start + 1] < 128) total = 2 + buf[start + 1]; // one-byte length
      else {
        const body = readLength(buf, start + 1, this.writePos_);
        if (body === Err.MALFORMED) break; // header still incomplete
        if (body < 0) {
          this.reset();
          this.sink_.onFrameError(body);
          return;
        }
        total = body - start + lengthOut.value;
      }
      if (total > this.maxPacket_) {
        this.skipBytes_ = total;
        this.sink_.onFrameError(Err.PACKET_TOO_LARGE);
        continue;
      }
      if (this.writePos_ - start < total) break;
      this.readPos_ = start + total;
      this.sink_.onPacket(buf, start, this.readPos_);
    }
    if (this.readPos_ === this.writePos_) this.readPos_ = this.writePos_ = 0;
  }
}
