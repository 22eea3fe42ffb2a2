// A pseudo-terminal for driving serial upload tools without hardware: util-linux `script` allocates it (raw, no echo)
// and relays its master side to our pipes, while a child holds the device open. Whatever a tool writes
// to `path` (as it would to /dev/ttyUSB0) arrives on `output`; what we write to `input` it reads back.
import { spawn, spawnSync } from "node:child_process";

/** Opens a pty; resolves with {path, input (writable), output (readable), close()}. */
export function openPty() {
  const child = spawn("script", ["-qfec", "stty raw -echo; tty; exec sleep 86400", "/dev/null"], { stdio: ["pipe", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    let first = "";
    const onData = (d) => {
      first += d.toString("latin1");
      const m = first.match(/^(\/dev\/\S+)\r?\n/);
      if (!m) return;
      child.stdout.off("data", onData);
      resolve({
        path: m[1],
        input: child.stdin,
        output: child.stdout,
        close() {
          // The process holding the device is in a session of its own: end it by its terminal.
          spawnSync("pkill", ["-KILL", "-t", m[1].replace(/^\/dev\//, "")]);
          child.kill("SIGKILL");
        },
      });
    };
    child.stdout.on("data", onData);
    child.on("error", reject);
    child.on("exit", () => reject(new Error(`no pseudo-terminal (script exited): ${first}`)));
  });
}
