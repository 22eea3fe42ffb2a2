// The codec as the tests load it (dist/test/codec.mjs for Node, dist/test/codec.es5.js for the Espruino
// stand-ins): the codec layer plus the Err enum as a runtime table, so tests read error numbers from the build.
export * from "../../firmware/codec/index";
export { Err } from "../../firmware/errors";
export { ESPRUINO } from "wisp-target";

import { framePush, FrameState } from "../../firmware/codec/framer";

/** The framer as a standalone object for the tests (the session is its own FrameState): packets and
 *  errors go to `sink`; reset() forgets the stream as the session does on a new connection. */
export class Framer implements FrameState {
  rx_: Uint8Array;
  readPos_ = 0;
  writePos_ = 0;
  skip_ = 0;
  resets_ = 0;
  push = framePush;
  constructor(public maxPacket_: number, public maxChunk_: number, private sink: { onPacket(b: Uint8Array, s: number, e: number): void; onFrameError(err: number, header: number, id: number): void }) {
    this.rx_ = new Uint8Array(maxPacket_ + maxChunk_);
  }
  get buf(): Uint8Array { return this.rx_; }
  reset(): void { this.readPos_ = this.writePos_ = this.skip_ = 0; this.resets_++; }
  onPacket(b: Uint8Array, s: number, e: number): void { this.sink.onPacket(b, s, e); }
  onFrameError(err: number, header: number, id: number): void { this.sink.onFrameError(err, header, id); }
}
