// The codec layer as one import, for the Node tests and benchmarks (dist/test/codec.mjs).
export * from "./bytes";
export * from "./codec";
export * from "./framer";
export * from "./topic";
