// The layered session as the firmware of a board with "session": "layered" makes it (rollup.config.js,
// "board-session"): the same call as the compact session's create.
import { Client } from "./client";
import type { Limits, Options } from "./types";

/** A client for `server` with the board's limits. */
export function create(server: string | string[], options?: Options, limits?: Partial<Limits>): Client {
  return new Client(server, options, limits);
}
