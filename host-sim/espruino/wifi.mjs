// Espruino's Wifi module and the radio link it rides on. The link outlives a board's boots (it is the
// access point being there or not); tests cut it with env.wifi.drop(ms), or down() and up().
// Not measured on a board (the Linux build has no Wi-Fi): connect answers after 50 ms with the
// callback (null) and a `connected` event, or the error "No network" while the link is down.

/** The radio link a board connects through: {connected}. */
export function createLink() {
  return { connected: true };
}

/** The Wifi module of one board on `loop`, over `link`; losing the link kills `net`'s sockets. */
export function createWifi({ loop, link, net }) {
  const { call, later } = loop;
  const module = loop.emitter({
    connect(ssid, options, cb) {
      setTimeout(() => {
        if (!link.connected) return cb && call(cb, null, "No network");
        if (cb) call(cb, null, null);
        module.emit("connected", { ip: "192.168.4.2" });
      }, 50);
    },
    disconnect(cb) { link.connected = false; if (cb) later(cb); },
    getIP(cb) { const r = { ip: link.connected ? "192.168.4.2" : "0.0.0.0" }; if (cb) later(() => cb(null, r)); return r; },
    getStatus() { return { station: link.connected ? "connected" : "off" }; },
  });
  const wifi = {
    /** What require("Wifi") returns. */
    module,
    /** Whether the link is up. */
    get connected() { return link.connected; },
    /** Loses the link: every socket dies at once and new ones fail until up(). */
    down() { link.connected = false; net.destroyAll(); },
    /** The link is back. */
    up() { link.connected = true; },
    /** Loses the link for `ms`, then it comes back. */
    drop(ms) { wifi.down(); setTimeout(wifi.up, ms); },
  };
  return wifi;
}
