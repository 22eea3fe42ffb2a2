// Small async helpers for tests against real sockets.
import { nodePlatform } from "../../dist/node-platform.mjs";

/** Resolves when cond() is true; rejects with `what` after timeoutMs. */
export async function waitFor(cond, what, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** nodePlatform() that remembers its sockets, so a test can cut them abruptly. */
export function recordingPlatform() {
  const base = nodePlatform();
  const sockets = [];
  return {
    ...base,
    sockets,
    connect(options, onOpen) {
      const s = base.connect(options, onOpen);
      sockets.push(s);
      return s;
    },
  };
}

/** Records a Wisp client's events as [name, a, b]. */
export function recordEvents(client, names = ["connected", "disconnected", "error", "subscribed", "subscribed_fail", "puback", "message"]) {
  const events = [];
  for (const e of names) client.on(e, (a, b) => events.push([e, a, b]));
  return events;
}
