// Resumable framing of an MQTT byte stream (MQTT 2.2: fixed header, Remaining Length, body) into whole
// packets inside one receive buffer allocated once. Chunks are appended with one native copy each
// (binary strings on Espruino, Uint8Array in Node); packets are handed out in place.
import { Err } from "../errors";
import { copyBytes, readLength, lengthOut } from "./bytes";

/** Called with each whole packet as buf[start, end); valid only during the call. */
export type PacketHandler = (buf: Uint8Array, start: number, end: number) => void;
/** Called with Err.PACKET_TOO_LARGE (packet skipped, stream still in sync) or Err.BAD_LENGTH (stream lost). */
export type FrameErrorHandler = (err: number) => void;

/** Splits a byte stream into MQTT packets of at most `maxPacket` bytes (fixed header included). */
export class Framer {
  /** Receive buffer: room for one packet plus one chunk. */
  readonly buf: Uint8Array;
  private readPos = 0;
  private writePos = 0;
  private skipBytes = 0;

  constructor(
    private readonly maxPacket: number,
    private readonly maxChunk: number,
    private readonly onPacket: PacketHandler,
    private readonly onError: FrameErrorHandler,
  ) {
    this.buf = new Uint8Array(maxPacket + maxChunk);
  }

  /** Forgets any partial packet: call on every new connection. */
  reset(): void {
    this.readPos = this.writePos = this.skipBytes = 0;
  }

  /** True while part of a packet has arrived and the rest has not (a truncated stream if it ends now). */
  get partial(): boolean {
    return this.readPos < this.writePos || this.skipBytes > 0;
  }

  /** Takes the next chunk of the stream, of any length, split anywhere. */
  push(chunk: string | Uint8Array): void {
    const len = chunk.length;
    if (this.writePos + len > this.buf.length) this.compact();
    if (this.writePos + len > this.buf.length) {
      // Only a chunk longer than maxChunk gets here (never on Espruino's ≤536-byte chunks).
      for (let i = 0; i < len; i += this.maxChunk) {
        const end = Math.min(len, i + this.maxChunk);
        this.push(typeof chunk === "string" ? chunk.substring(i, end) : chunk.subarray(i, end));
      }
      return;
    }
    copyBytes(this.buf, this.writePos, chunk);
    this.writePos += len;
    this.drain();
  }

  private compact(): void {
    const buf = this.buf;
    if (this.readPos === 0) return;
    buf.set(buf.subarray(this.readPos, this.writePos), 0);
    this.writePos -= this.readPos;
    this.readPos = 0;
  }

  private drain(): void {
    const buf = this.buf;
    while (this.readPos < this.writePos) {
      if (this.skipBytes) {
        const n = Math.min(this.skipBytes, this.writePos - this.readPos);
        this.readPos += n;
        this.skipBytes -= n;
        continue;
      }
      const start = this.readPos;
      const body = readLength(buf, start + 1, this.writePos);
      if (body === Err.MALFORMED) break; // header still incomplete
      if (body < 0) {
        this.reset();
        this.onError(body);
        return;
      }
      const total = body - start + lengthOut.value;
      if (total > this.maxPacket) {
        this.skipBytes = total;
        this.onError(Err.PACKET_TOO_LARGE);
        continue;
      }
      if (this.writePos - start < total) break;
      this.readPos = start + total;
      this.onPacket(buf, start, this.readPos);
    }
    if (this.readPos === this.writePos) this.readPos = this.writePos = 0;
  }
}
