// Espruino's tls module, over node:tls, as a board with TLS (ESP32, the Linux build) has it; an ESP8266
// has none (env.mjs leaves it out, so require("tls") fails there as on the board). Read from Espruino
// 2v29's libs/network/network.c (mbedTLS 2.1.1) and measured on its Linux build (test/tls.test.mjs):
// - tls.connect(options, cb) is shaped as net.connect: the same socket, `this` = the socket in cb,
//   which runs once the handshake is done.
// - options.ca, options.key, options.cert are DER bytes (atob of the PEM body) as a byte string, or a
//   function returning them; PEM text is not parsed (mbedTLS wants it NUL-terminated), a bad one throws
//   "HTTPS init failed! mbedtls_x509_crt_parse of 'ca': …" at once.
// - The server certificate is NOT verified (MBEDTLS_SSL_VERIFY_NONE, a FIXME there): the stand-in
//   does not verify it either, and says so once on the board's console.
// - TLS 1.2 only (mbedTLS 2.1.1 has no 1.3): a broker that wants a client certificate refuses one
//   without it during the handshake, which the socket reports as `error`, then `close`.
import tls from "node:tls";
import crypto from "node:crypto";
import vm from "node:vm";

/** The tls module of one board, on that board's `net` (net.mjs); `log` is its console. */
export function createTls({ net, context, log }) {
  const ContextError = vm.runInContext("Error", context);
  const fail = (message) => {
    const e = new ContextError(message);
    e.name = "InternalError";
    return e;
  };
  /** The DER bytes of an option (a byte string or a function returning one), as a Buffer. */
  const der = (value, what) => {
    const v = typeof value === "function" ? value() : value;
    const bytes = Buffer.from(String(v), "latin1");
    if (/^-----BEGIN/.test(String(v))) throw fail(`HTTPS init failed! mbedtls_x509_crt_parse of '${what}': PEM text given, DER bytes (atob of the PEM body) expected`);
    return bytes;
  };
  const certificate = (value, what) => {
    try {
      return new crypto.X509Certificate(der(value, what)).toString();
    } catch (e) {
      throw e instanceof ContextError ? e : fail(`HTTPS init failed! mbedtls_x509_crt_parse of '${what}': not a DER certificate`);
    }
  };
  const privateKey = (value) => {
    const bytes = der(value, "key");
    for (const type of ["pkcs8", "pkcs1", "sec1"]) {
      try {
        return crypto.createPrivateKey({ key: bytes, format: "der", type }).export({ format: "pem", type: "pkcs8" });
      } catch { /* try the next encoding, as mbedtls_pk_parse_key does */ }
    }
    throw fail("HTTPS init failed! mbedtls_pk_parse_key: not a DER private key");
  };
  let warned = false;
  const module = {
    connect(options, onConnect) {
      const host = options.host;
      const port = options.port || 443;
      const secure = {
        host, port, rejectUnauthorized: false, maxVersion: "TLSv1.2",
        ...(options.ca ? { ca: certificate(options.ca, "ca") } : {}),
        ...(options.cert ? { cert: certificate(options.cert, "cert") } : {}),
        ...(options.key ? { key: privateKey(options.key) } : {}),
      };
      const failing = net.unreachable(host, port);
      if (failing) return failing;
      if (!warned) {
        warned = true;
        log("tls: the server's certificate is not verified (as on Espruino, whose mbedTLS runs with MBEDTLS_SSL_VERIFY_NONE)");
      }
      return net.simSocket(host, port, onConnect, tls.connect(secure), "secureConnect");
    },
  };
  return { module };
}
