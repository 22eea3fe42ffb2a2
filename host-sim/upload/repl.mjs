// A simulated board's console, as Espruino offers it on USB serial and on its network console (telnet),
// so the upload tools can be driven end to end without hardware: lines are evaluated in the board's
// context, "\x10" turns echo off for a line, Ctrl-C clears the line, and the prompt is ">".
import net from "node:net";
import { SimBoard } from "../sim/board.mjs";
import { openPty } from "./pty.mjs";

/** Starts a bare simulated board (running only what is flashed into its Storage) with its console on
 *  127.0.0.1:`port` (0 = any free port), or on a pseudo-terminal when `pty` is set. Returns {port or
 *  path, board, received, close()}. */
export async function startSimRepl({ board = "esp32", port = 0, pty = false, log = () => {} } = {}) {
  const outputs = new Set();
  const say = (text) => { for (const o of outputs) o.write(text); };
  const sim = new SimBoard({ board, fromStorage: true, log: (line) => { log(line); say(`${line}\r\n`); } }).boot();
  const received = [];

  /** Serves the console to one connection: bytes in from `input`, answers out to `output`. */
  const serve = (input, output) => {
    outputs.add(output);
    let line = "";
    output.write("\r\n>");
    input.on("data", (d) => {
      for (const ch of d.toString("latin1")) {
        if (ch === "\x03") { line = ""; continue; }
        if (ch !== "\n") { line += ch; continue; }
        const echo = !line.startsWith("\x10");
        const code = line.replace(/^\x10/, "").replace(/\r$/, "");
        line = "";
        received.push(code);
        if (echo) output.write(`${code}\r\n`);
        if (!code.trim()) { output.write("\r\n>"); continue; }
        try {
          const value = sim.eval(code);
          if (echo && value !== undefined) output.write(`=${JSON.stringify(value)}\r\n`);
        } catch (e) {
          output.write(`Uncaught ${e.message}\r\n`);
        }
        output.write(">");
      }
    });
  };

  if (pty) {
    const tty = await openPty();
    serve(tty.output, tty.input);
    return { path: tty.path, board: sim, received, async close() { sim.powerOff(); tty.close(); } };
  }
  const sockets = new Set();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => { sockets.delete(sock); outputs.delete(sock); });
    sock.on("error", () => {});
    serve(sock, sock);
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    port: server.address().port,
    board: sim,
    received,
    async close() {
      sim.powerOff();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
