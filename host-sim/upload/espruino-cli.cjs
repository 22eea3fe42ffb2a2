// The espruino package's CLI, able to open a serial device it cannot list: it accepts only ports that
// serialport enumerates through udev, which misses pseudo-terminals and ports inside containers. A path
// given with -p that exists is offered alongside the listed ones; everything else is the CLI unchanged.
const { existsSync } = require("node:fs");
const tools = require("espruino/index.js");

const portAt = Math.max(process.argv.indexOf("-p"), process.argv.indexOf("--port"));
const portArg = portAt >= 0 ? process.argv[portAt + 1] : "";
const init = tools.init;
tools.init = function (main) {
  init(function () {
    const serial = global.Espruino.Core.Serial.devices.find((d) => d.name === "Node Serial");
    if (serial && portArg && portArg.startsWith("/dev/") && existsSync(portArg)) {
      const getPorts = serial.getPorts;
      serial.getPorts = (callback) => getPorts((ports, instant) => {
        if (!ports.some((p) => p.path === portArg)) ports.push({ path: portArg, description: "given with -p" });
        callback(ports, instant);
      });
    }
    main();
  });
};
require("espruino/bin/espruino-cli.js");
