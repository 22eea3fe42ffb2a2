// A TCP proxy on loopback that misbehaves on request: split every chunk into single bytes, delay,
// blackhole (stop forwarding but keep both sockets open: a half-open link), or cut every connection.
import net from "node:net";

/** Proxies 127.0.0.1:<port> to targetPort. `onClientData(connection, data)`, if given, sees every chunk
 *  the client sends as it arrives (connection counts from 1), whatever the mode does with it. */
export async function startProxy(targetPort, { onClientData } = {}) {
  const pairs = new Set();
  const state = { mode: "pass", delayMs: 0, connections: 0 };
  const forward = (from, to, tap) => {
    from.on("data", (d) => {
      if (tap) tap(d);
      if (state.mode === "blackhole") return;
      const send = () => {
        if (to.destroyed) return;
        if (state.mode === "split") for (const b of d) to.write(Buffer.from([b]));
        else to.write(d);
      };
      if (state.delayMs) setTimeout(send, state.delayMs);
      else send();
    });
  };
  const server = net.createServer((down) => {
    const connection = ++state.connections;
    const up = net.connect(targetPort, "127.0.0.1");
    down.setNoDelay(true);
    up.setNoDelay(true);
    const pair = { down, up };
    pairs.add(pair);
    const end = () => { down.destroy(); up.destroy(); pairs.delete(pair); };
    // While blackholed, the client's side hears nothing, not even the broker closing (half-open).
    const upEnd = () => { if (state.mode !== "blackhole") end(); };
    down.on("close", end); down.on("error", end); up.on("close", upEnd); up.on("error", upEnd);
    forward(down, up, onClientData && ((d) => onClientData(connection, d)));
    forward(up, down);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  return {
    port, url: `127.0.0.1:${port}`, state,
    /** Destroys every proxied connection (both sides), as a dropped link would. */
    cut() { for (const p of pairs) { p.down.destroy(); p.up.destroy(); } pairs.clear(); },
    async stop() { this.cut(); await new Promise((r) => server.close(r)); },
  };
}
