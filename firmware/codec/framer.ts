// Resumable framing of an MQTT byte stream (MQTT 2.2: fixed header, Remaining Length, body) into whole
// packets inside one receive buffer allocated once. Chunks are appended with one native copy each
// (byte strings on Espruino, Uint8Array in Node); packets are handed out in place.
// The framer is two functions over the receiver's own fields (FrameState), not an object of its own: on
// the interpreter every object, property and function costs heap (README, "What things cost").
import { Err } from "../errors";
import { copyBytes, readLength } from "./bytes";
import { ESPRUINO } from "wisp-target";

/** The receiver the framer works for: its buffer and positions, and where whole packets go. */
export interface FrameState {
  /** Receive buffer: room for one packet (maxPacket_) plus a piece of a chunk (the rest of it). */
  rx_: Uint8Array;
  maxPacket_: number;
  /** Bytes rx_[readPos_, writePos_) are received and not yet framed; skip_ bytes of an oversize packet
   *  are still to pass over. Set all three to 0 (and count resets_) to forget the stream. */
  readPos_: number;
  writePos_: number;
  skip_: number;
  /** Counts resets: a chunk being appended in pieces stops when the stream was reset meanwhile. */
  resets_: number;
  /** The piece of the stream being framed (until push returns, or the next push when a sink threw),
   *  copied to rx_ from position chunkAt_: a packet starting at or after chunkAt_ is in it too, from
   *  start - chunkAt_ (on Espruino a substring of it costs a third of a string made from the buffer's
   *  bytes). */
  chunk_: string | Uint8Array;
  chunkAt_: number;
  /** Each whole packet as buf[start, end); valid only during the call. */
  onPacket(buf: Uint8Array, start: number, end: number): void;
  /** Err.PACKET_TOO_LARGE (the packet is skipped, the stream stays in sync; `header` is its first byte
   *  and `packetId` a QoS 1/2 PUBLISH's id, or 0 where its topic alone is too long to hold) or
   *  Err.BAD_LENGTH (the stream is lost, and reset). */
  onFrameError(err: number, header: number, packetId: number): void;
}

/** Takes the next chunk of the stream, of any length, split anywhere (call with `this` = the receiver). */
export function framePush(this: FrameState, chunk: string | Uint8Array): void {
  "ram";
  // On the interpreter every byte of a function's text is read on each call: rare work is elsewhere.
  const buf = this.rx_;
  const len = chunk.length;
  const resets = this.resets_;
  // A chunk longer than the room left is appended in pieces (transient strings), each as large as the
  // buffer holds once the partial packet is moved to the front. Nothing more of it is framed once the
  // stream is reset (the sink gave the connection up).
  for (let i = 0, n = 0; i < len && this.resets_ === resets; i += n) {
    if (this.readPos_ && this.writePos_ + len - i > buf.length) { // move the partial packet to the front
      buf.set(buf.subarray(this.readPos_, this.writePos_), 0);
      this.writePos_ -= this.readPos_;
      this.readPos_ = 0;
    }
    n = Math.min(len - i, buf.length - this.writePos_);
    const piece = n === len ? chunk : typeof chunk === "string" ? chunk.substring(i, i + n) : chunk.subarray(i, i + n);
    this.chunk_ = piece;
    this.chunkAt_ = this.writePos_;
    if (ESPRUINO) (buf as any).set(piece, this.writePos_);
    else copyBytes(buf, this.writePos_, piece);
    this.writePos_ += n;
    // Each property read costs the interpreter microseconds: the packet's start is kept in a local, and
    // re-read after each packet (the sink may have reset the stream).
    for (let start = this.readPos_, total = 0; start < this.writePos_; start = this.readPos_) {
      total = 2 + buf[start + 1]; // a one-byte Remaining Length: at most 129
      if (total > 129 || total > this.maxPacket_ || this.skip_ || start + 1 >= this.writePos_) {
        total = frameRare(this, start);
        if (total < 0) continue; // bytes skipped
        if (!total) break; // more bytes needed, or the stream is lost
      }
      if (this.writePos_ - start < total) break;
      this.onPacket(buf, start, (this.readPos_ = start + total));
    }
    if (this.readPos_ === this.writePos_) this.readPos_ = this.writePos_ = 0;
  }
  this.chunk_ = ""; // let go: a chunk holds up to 45 JsVars of an ESP8266's heap
}

/** The packet at `start` when it is not the common case: skips bytes of an oversize packet, reads a
 *  longer Remaining Length, reports packets too large. Returns its total length, or 0 when push must
 *  stop for now (more bytes needed, or the stream was reset), or -1 to go on framing. */
function frameRare(s: FrameState, start: number): number {
  const buf = s.rx_;
  if (s.skip_) {
    const n = Math.min(s.skip_, s.writePos_ - start);
    s.readPos_ += n;
    s.skip_ -= n;
    return s.readPos_ < s.writePos_ ? -1 : 0;
  }
  const r = readLength(buf, start + 1, s.writePos_);
  if (r === Err.MALFORMED) return 0; // header still incomplete
  if (r < 0) {
    s.readPos_ = s.writePos_ = s.skip_ = 0;
    s.resets_++;
    s.onFrameError(r, 0, 0);
    return 0;
  }
  const body = start + 2 + (r & 3);
  const total = body - start + (r >> 2);
  if (total <= s.maxPacket_) return total;
  // Too large to hold. A QoS 1/2 PUBLISH is still acknowledged, so that the broker's window does not
  // fill with messages never acknowledged: wait for the bytes up to its packet id when they fit.
  const header = buf[start];
  let id = 0;
  if (header >> 4 === 3 && header & 6) {
    if (s.writePos_ < body + 2) return 0;
    const idAt = body + 2 + ((buf[body] << 8) | buf[body + 1]);
    if (idAt + 2 - start <= s.maxPacket_) {
      if (s.writePos_ < idAt + 2) return 0;
      id = (buf[idAt] << 8) | buf[idAt + 1];
    }
  }
  s.skip_ = total;
  s.onFrameError(Err.PACKET_TOO_LARGE, header, id);
  return s.skip_ ? -1 : 0;
}

/** A framer standing alone (the session is its own FrameState): packets and errors go to `sink`;
 *  reset() forgets the stream, as the session does on a new connection. For the tests and benchmarks. */
export class Framer implements FrameState {
  rx_: Uint8Array;
  readPos_ = 0;
  writePos_ = 0;
  skip_ = 0;
  resets_ = 0;
  chunk_: string | Uint8Array = "";
  chunkAt_ = 0;
  /** Takes the next chunk of the stream (framePush). */
  push: (chunk: string | Uint8Array) => void = framePush;
  /** The receive buffer (rx_). */
  buf: Uint8Array;
  constructor(public maxPacket_: number, maxChunk: number, private sink_: { onPacket(b: Uint8Array, s: number, e: number): void; onFrameError(err: number, header: number, id: number): void }) {
    this.buf = this.rx_ = new Uint8Array(maxPacket_ + maxChunk);
  }
  reset(): void { this.readPos_ = this.writePos_ = this.skip_ = 0; this.resets_++; }
  onPacket(b: Uint8Array, s: number, e: number): void { this.sink_.onPacket(b, s, e); }
  onFrameError(err: number, header: number, id: number): void { this.sink_.onFrameError(err, header, id); }
}
