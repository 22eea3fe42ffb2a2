export { encodePublish, decodePacket } from "./codec/codec";
