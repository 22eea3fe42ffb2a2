// TLS for the tests: a CA, a server certificate for 127.0.0.1 and a client certificate made here with
// openssl, and Mosquitto with two TLS listeners (one wanting only TLS, one also a client certificate),
// passwords and an ACL (Mosquitto's dynamic security plugin); and Mosquitto configured as README shows.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import crypto from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MOSQUITTO, freePort, waitForPort } from "./brokers.mjs";

/** Mosquitto's dynamic security plugin: it checks subscriptions against the ACL (SUBACK 0x80 when
 *  denied), where an acl_file only filters what is delivered. */
const DYNSEC = ["/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so", "/usr/lib/mosquitto_dynamic_security.so", "/usr/local/lib/mosquitto_dynamic_security.so"].find((f) => existsSync(f));
/** Why the TLS broker tests cannot run here, or false. */
export const skipWithoutTlsTools = spawnSync("openssl", ["version"]).error !== undefined ? "openssl is not installed"
  : !DYNSEC ? "Mosquitto's dynamic security plugin (mosquitto_dynamic_security.so) is not installed" : false;

function openssl(dir, args) {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** Makes ca.pem, server.pem/server.key (for 127.0.0.1) and client.pem/client.key (CN robot1) in a new
 *  folder; returns {dir, path(name), pem(name), der(name): the DER bytes as a byte string}. */
export function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), "wisp-tls-"));
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=wisp test CA"]);
  for (const [name, cn, ext] of [["server", "127.0.0.1", "subjectAltName=IP:127.0.0.1"], ["client", "robot1", "extendedKeyUsage=clientAuth"]]) {
    openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
  }
  const path = (name) => join(dir, name);
  const pem = (name) => readFileSync(path(name), "utf8");
  // As a board takes them: atob of the PEM body (Buffer's base64 decoding, as a byte string).
  const der = (name) => Buffer.from(pem(name).replace(/-----[^-]+-----|\s/g, ""), "base64").toString("latin1");
  return { dir, path, pem, der };
}

/** Users and passwords the broker knows; `watcher` may read everything, `fleet` use all of wisp/#. */
export const USERS = { robot1: "robot1-secret", operator: "operator-secret", watcher: "watcher-secret", fleet: "fleet-secret", alice: "alice-secret", mallory: "mallory-secret" };

/** Mosquitto configured as README's Security section shows (TLS with client certificates, a password
 *  file, an acl_file letting only robot1 and alice touch wisp/robot1/#), on a free port; also knows
 *  mallory, who may touch nothing. stop() kills it. */
export async function startReadmeMosquitto(certs) {
  const port = await freePort();
  const dir = mkdtempSync(join(certs.dir, "readme-"));
  for (const [i, u] of ["robot1", "alice", "mallory"].entries()) spawnSync("mosquitto_passwd", [...(i ? [] : ["-c"]), "-b", join(dir, "passwd"), u, USERS[u]]);
  writeFileSync(join(dir, "acl"), "user robot1\ntopic readwrite wisp/robot1/#\n\nuser alice\ntopic readwrite wisp/robot1/#\n");
  const user = process.getuid && process.getuid() === 0 ? "user root\n" : "";
  writeFileSync(join(dir, "mosquitto.conf"), `${user}persistence false\nlistener ${port} 127.0.0.1\ncafile ${certs.path("ca.pem")}\ncertfile ${certs.path("server.pem")}\n` +
    `keyfile ${certs.path("server.key")}\nrequire_certificate true\nallow_anonymous false\npassword_file ${join(dir, "passwd")}\nacl_file ${join(dir, "acl")}\n`);
  return run(join(dir, "mosquitto.conf"), { port });
}

/** Runs Mosquitto on `conf`; resolves once every port in `ports` accepts connections. */
async function run(conf, ports) {
  const child = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await Promise.race([Promise.all(Object.values(ports).map((p) => waitForPort(p))), exited.then(() => { throw new Error(`mosquitto exited: ${log}`); })]);
  return {
    ...ports,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** A dynamic-security client entry: the password as Mosquitto stores it (PBKDF2-SHA512, 101 rounds). */
function dynsecClient(username, roles) {
  const salt = crypto.randomBytes(12);
  const password = crypto.pbkdf2Sync(USERS[username], salt, 101, 64, "sha512").toString("base64");
  return { username, password, salt: salt.toString("base64"), iterations: 101, roles: roles.map((rolename) => ({ rolename })) };
}

/** Mosquitto with TLS on `port` (CA and server certificate) and on `certPort` (a client certificate
 *  signed by the CA required too), passwords required, and an ACL (dynamic security) letting only
 *  robot1 and operator publish and subscribe to wisp/robot1/#; watcher may subscribe to everything,
 *  fleet (the simulator's boards) use wisp/#.
 *  stop() kills it. */
export async function startSecureMosquitto(certs) {
  const [port, certPort] = [await freePort(), await freePort()];
  const dir = certs.dir;
  const topics = (rolename, topic) => ({ rolename, acls: ["publishClientSend", "publishClientReceive", "subscribePattern"].map((acltype) => ({ acltype, topic, allow: true })) });
  writeFileSync(join(dir, "dynsec.json"), JSON.stringify({
    clients: [dynsecClient("robot1", ["robot"]), dynsecClient("operator", ["robot"]), dynsecClient("watcher", ["watch"]), dynsecClient("fleet", ["fleet"])],
    roles: [topics("robot", "wisp/robot1/#"), topics("fleet", "wisp/#"), { rolename: "watch", acls: [{ acltype: "subscribePattern", topic: "#", allow: true }] }],
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
  }));
  const tls = `cafile ${certs.path("ca.pem")}\ncertfile ${certs.path("server.pem")}\nkeyfile ${certs.path("server.key")}\n`;
  const user = process.getuid && process.getuid() === 0 ? "user root\n" : "";
  writeFileSync(join(dir, "mosquitto.conf"), `${user}persistence false\nplugin ${DYNSEC}\nplugin_opt_config_file ${join(dir, "dynsec.json")}\n` +
    `listener ${port} 127.0.0.1\n${tls}require_certificate false\n` +
    `listener ${certPort} 127.0.0.1\n${tls}require_certificate true\n`);
  return run(join(dir, "mosquitto.conf"), { port, certPort });
}
