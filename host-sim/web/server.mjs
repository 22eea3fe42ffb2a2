// The live telemetry page's server: serves host-sim/web/ and the browser builds of mqtt and uPlot
// from node_modules on 127.0.0.1, tells the page which broker WebSocket to use and which devices to
// show, and, given the embedded Aedes, carries MQTT over WebSockets to it at /mqtt.
import http from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, createWebSocketStream } from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const uplotDist = dirname(require.resolve("uplot"));

/** Every path the server answers, with its file and type; nothing else is served. */
const FILES = {
  "/": [join(here, "index.html"), "text/html; charset=utf-8"],
  "/app.js": [join(here, "app.js"), "text/javascript; charset=utf-8"],
  "/worker.js": [join(here, "worker.js"), "text/javascript; charset=utf-8"],
  "/style.css": [join(here, "style.css"), "text/css; charset=utf-8"],
  "/vendor/mqtt.min.js": [join(dirname(require.resolve("mqtt/package.json")), "dist", "mqtt.min.js"), "text/javascript; charset=utf-8"],
  "/vendor/uPlot.iife.min.js": [join(uplotDist, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
  "/vendor/uPlot.min.css": [join(uplotDist, "uPlot.min.css"), "text/css; charset=utf-8"],
};

/** The web options of `npm start` ({http, "no-http", "ws-url"} as parsed) checked: {port, wsUrl};
 *  throws an Error whose message is one line naming the bad flag. */
export function webOptions(args) {
  let port = 0;
  if (args.http !== undefined) {
    port = Number(args.http);
    if (!/^\d+$/.test(args.http) || port > 65535) throw new Error(`--http: "${args.http}" is not a port number (0–65535)`);
  }
  const wsUrl = args["ws-url"];
  if (wsUrl !== undefined && !/^wss?:\/\/[^/\s]+/.test(wsUrl)) throw new Error(`--ws-url: "${wsUrl}" is not a ws:// or wss:// URL`);
  return { port, wsUrl };
}

/** Starts the page's server on 127.0.0.1:`port` (0: a free one). `devices`: the device ids to show;
 *  `wsUrl`: the broker's MQTT-over-WebSocket URL for the page, or, with `aedes`, none: the page then
 *  talks to that broker through this server's /mqtt. Resolves to {url, wsUrl, close()}; rejects with a
 *  one-line Error when the port cannot be had. */
export async function startWebServer({ port = 0, devices = [], wsUrl, aedes } = {}) {
  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "method not allowed\n");
    if (path === "/config.json") {
      return send(res, 200, "application/json", JSON.stringify({ wsUrl: wsUrl || null, sameOrigin: !wsUrl && !!aedes, devices }));
    }
    const file = FILES[path];
    if (!file) return send(res, 404, "text/plain", "not found\n");
    try {
      send(res, 200, file[1], await readFile(file[0]));
    } catch (e) {
      send(res, 500, "text/plain", `cannot read ${path}: ${e.code || e.message}\n`);
    }
  });
  const sockets = new Set();
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  let wss = null;
  if (aedes && !wsUrl) {
    // As Aedes documents it: each WebSocket becomes a stream that the broker handles like a TCP client.
    wss = new WebSocketServer({ server, path: "/mqtt" });
    wss.on("connection", (websocket, req) => {
      const stream = createWebSocketStream(websocket);
      stream.on("error", () => websocket.terminate());
      aedes.handle(stream, req);
    });
    wss.on("error", () => {});
  }
  await new Promise((resolve, reject) => {
    server.once("error", (e) => reject(new Error(e.code === "EADDRINUSE" ? `--http: port ${port} on 127.0.0.1 is in use` : `--http: cannot listen on 127.0.0.1:${port}: ${e.code || e.message}`)));
    server.listen(port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return {
    url,
    /** What the page connects to. */
    wsUrl: wsUrl || (wss ? `ws://127.0.0.1:${server.address().port}/mqtt` : null),
    /** Stops serving and drops the page's connections. */
    close() {
      if (wss) for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
