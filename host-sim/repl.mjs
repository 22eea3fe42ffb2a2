// A simulated board's console on a TCP port, as Espruino's network console (telnet) offers it, so the
// upload tools can be driven end to end without hardware: lines are evaluated in the board's context,
// "\x10" turns echo off for a line, Ctrl-C clears the line, and the prompt is ">".
import net from "node:net";
import { SimBoard } from "./board.mjs";

/** Starts a bare simulated board (running only what is flashed into its Storage) with its console on
 *  127.0.0.1:`port` (0 = any free port). Returns {port, board, received, close()}. */
export async function startSimRepl({ board = "esp32", port = 0, log = () => {} } = {}) {
  const clients = new Set();
  const say = (text) => { for (const c of clients) c.write(text); };
  const sim = new SimBoard({ board, fromStorage: true, log: (line) => { log(line); say(`${line}\r\n`); } }).boot();
  const received = [];
  const server = net.createServer((sock) => {
    clients.add(sock);
    let line = "";
    sock.on("close", () => clients.delete(sock));
    sock.on("error", () => {});
    sock.write("\r\n>");
    sock.on("data", (d) => {
      for (const ch of d.toString("latin1")) {
        if (ch === "\x03") { line = ""; continue; }
        if (ch !== "\n") { line += ch; continue; }
        const echo = !line.startsWith("\x10");
        const code = line.replace(/^\x10/, "").replace(/\r$/, "");
        line = "";
        received.push(code);
        if (echo) sock.write(`${code}\r\n`);
        if (!code.trim()) { sock.write("\r\n>"); continue; }
        try {
          const value = sim.eval(code);
          if (echo && value !== undefined) sock.write(`=${JSON.stringify(value)}\r\n`);
        } catch (e) {
          sock.write(`Uncaught ${e.message}\r\n`);
        }
        sock.write(">");
      }
    });
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    port: server.address().port,
    board: sim,
    received,
    async close() {
      sim.powerOff();
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
