// The live telemetry page: plots the selected board with uPlot, lists a fleet, and sends gait
// commands to wisp/<device>/cmd. MQTT (the npm mqtt package's browser build, over WebSockets) and the
// checking of every payload run in a Web Worker (worker.js), which hands over batches of checked
// messages; anything malformed on a topic is a line in the event log, never an exception that stops
// the page.
"use strict";
(function () {
  const QUADRUPED_WINDOW_S = 30;
  const SENSOR_WINDOW_S = 600;
  const MAX_DEVICES = 256;
  const MAX_LOG_LINES = 200;
  const MAX_COMMAND_LINES = 30;
  const COMMAND_TIMEOUT_MS = 10000;
  const LEGS = ["front-left", "front-right", "back-left", "back-right"];
  const JOINTS = ["hip", "thigh", "knee"];
  const COLORS = ["#e4572e", "#29a3d1", "#76b041", "#b07cc6"];
  const $ = (id) => document.getElementById(id);

  const devices = new Map();
  let known = []; // device ids from the server; empty: devices are discovered from their topics
  let selected = null;
  let worker = null;
  let frameRequested = false;
  let fleetDirty = true;
  const logQueue = [];
  const charts = {};

  // ---- data -------------------------------------------------------------------------------------

  /** The page's record of one board. */
  function device(id) {
    let d = devices.get(id);
    if (d) return d;
    d = { id, status: "unknown", app: null, last: null, cols: null, times: [], rate: 0, pending: [], dirty: true, row: null };
    devices.set(id, d);
    fleetDirty = true;
    return d;
  }

  /** Column arrays for uPlot (x in seconds), one set per board. */
  function columns(app) {
    const n = app === "quadruped" ? 1 + 12 + 6 + 1 : 1 + 4;
    return Array.from({ length: n }, () => []);
  }

  function addTelemetry(d, t, at) {
    if (d.app !== t.app) {
      if (d.app) log(d.id, `now runs the ${t.app} app`);
      d.app = t.app;
      d.cols = columns(t.app);
      fleetDirty = true;
    }
    const c = d.cols;
    const x = at / 1000;
    // A quadruped silent for over a second (offline): a row of nulls, so the lines break at the gap.
    if (t.app === "quadruped" && c[0].length && x - c[0][c[0].length - 1] > 1) {
      c[0].push(c[0][c[0].length - 1] + 0.001);
      for (let i = 1; i < c.length; i++) c[i].push(null);
    }
    c[0].push(x);
    if (t.app === "quadruped") {
      for (let i = 0; i < 12; i++) c[1 + i].push(t.j[i]);
      for (let i = 0; i < 6; i++) c[13 + i].push(t.imu[i]);
      c[19].push(t.bat);
    } else {
      c[1].push(t.t);
      c[2].push(t.h);
      c[3].push(t.p);
      c[4].push(t.bat);
    }
    // Drop what has scrolled out, a few seconds at a time.
    const keep = t.app === "quadruped" ? QUADRUPED_WINDOW_S : SENSOR_WINDOW_S;
    if (c[0][0] < x - keep - 5) {
      let k = 0;
      while (k < c[0].length && c[0][k] < x - keep) k++;
      for (const col of c) col.splice(0, k);
    }
    if (d.last && d.last.safe !== t.safe) fleetDirty = true;
    d.last = t;
    d.times.push(at);
    d.dirty = true;
  }

  // ---- messages from the worker -----------------------------------------------------------------

  /** One checked message (see worker.js). */
  function onItem(m) {
    if (m.kind === "bad") return log(null, m.text, "bad");
    if (m.kind === "broker") {
      $("broker-state").textContent = m.state;
      $("broker").className = "broker " + m.cls;
      return;
    }
    if (m.kind === "sent") return sent(m.ref, m.error);
    if (!devices.has(m.id)) {
      if (known.length || devices.size >= MAX_DEVICES) return unknownDevice(m.id);
      device(m.id);
      if (!selected) select(m.id);
    }
    const d = devices.get(m.id);
    if (m.kind === "telemetry") addTelemetry(d, m.t, m.at);
    else if (m.kind === "status") {
      if (m.status !== d.status) log(d.id, m.status === "online" ? "online" : "offline (its will, or it said goodbye)", m.status === "online" ? "ok" : "warn");
      d.status = m.status;
      d.dirty = true;
      fleetDirty = true;
    } else if (m.kind === "event") onEvent(d, m.e);
  }

  const warned = new Set();
  function unknownDevice(id) {
    if (warned.has(id) || warned.size > 50) return;
    warned.add(id);
    log(null, `ignored wisp/${clip(printable(id), 60)}/…: not one of this simulator's devices`, "bad");
  }

  function onEvent(d, e) {
    if (e.ack !== undefined) {
      const detail = `ack: gait ${e.ack}` + (e.speed !== null ? `, speed ${e.speed.toFixed(2)}` : "") + (e.heading !== null ? `, heading ${e.heading}°` : "");
      return answer(d, "ack", detail);
    }
    if (e.error !== undefined) return answer(d, "error", `error: ${e.error}`);
    log(d.id, `${e.event}${e.detail ? " (" + e.detail + ")" : ""}`, e.event === "failsafe" ? "warn" : "ok");
  }

  /** An ack or error from a board answers the oldest command still waiting for it. */
  function answer(d, kind, detail) {
    const c = d.pending.shift();
    if (!c) return log(d.id, `${detail} (to a command from elsewhere)`, kind === "ack" ? "ok" : "warn");
    c.li.className = kind;
    c.result.textContent = detail;
  }

  function connect(wsUrl) {
    $("broker-url").textContent = wsUrl;
    worker = new Worker("/worker.js");
    worker.onmessage = (m) => {
      for (const item of m.data) {
        try {
          onItem(item);
        } catch (e) {
          log(null, `could not handle a ${item && item.kind} message: ${e.message}`, "bad");
        }
      }
      requestFrame();
    };
    worker.onerror = (e) => log(null, `MQTT worker: ${e.message}`, "bad");
    worker.postMessage({ type: "connect", wsUrl });
  }

  // ---- commands ---------------------------------------------------------------------------------

  const commands = new Map();
  let commandRef = 0;

  function sendCommand(cmd) {
    const d = selected && devices.get(selected);
    if (!d || !worker) return;
    const text = JSON.stringify(cmd);
    const li = document.createElement("li");
    li.className = "pending";
    const what = document.createElement("span");
    what.textContent = `${time(Date.now())} ${d.id} ← ${text} `;
    const result = document.createElement("span");
    result.className = "result";
    result.textContent = "sent, waiting for an answer…";
    li.append(what, result);
    const list = $("commands");
    list.prepend(li);
    while (list.children.length > MAX_COMMAND_LINES) list.lastChild.remove();
    const c = { li, result, at: Date.now(), device: d };
    d.pending.push(c);
    commands.set(++commandRef, c);
    worker.postMessage({ type: "publish", topic: `wisp/${d.id}/cmd`, text, ref: commandRef });
  }

  /** The broker took the command (QoS 1), or it could not be sent. */
  function sent(ref, error) {
    const c = commands.get(ref);
    commands.delete(ref);
    if (!c || !error) return;
    const i = c.device.pending.indexOf(c);
    if (i >= 0) c.device.pending.splice(i, 1);
    c.li.className = "error";
    c.result.textContent = `not sent: ${error}`;
  }

  function expireCommands(now) {
    for (const d of devices.values()) {
      while (d.pending.length && now - d.pending[0].at > COMMAND_TIMEOUT_MS) {
        const c = d.pending.shift();
        c.li.className = "error";
        c.result.textContent = `no answer in ${COMMAND_TIMEOUT_MS / 1000} s`;
      }
    }
  }

  // ---- event log --------------------------------------------------------------------------------

  const clip = (s, n) => (s.length > n ? s.slice(0, n) + "…" : s);
  const time = (ms) => new Date(ms).toTimeString().slice(0, 8);
  const printable = (s) => s.replace(/[\x00-\x1f\x7f-\x9f\ufffd]/g, "·");

  function log(id, text, cls = "") {
    logQueue.push({ at: Date.now(), text: (id ? id + ": " : "") + text, cls });
    requestFrame();
  }

  function flushLog() {
    if (!logQueue.length) return;
    const list = $("log");
    const lines = logQueue.splice(0);
    const shown = lines.length > 50 ? lines.slice(-50) : lines;
    if (shown.length < lines.length) shown.unshift({ at: lines[0].at, text: `… ${lines.length - shown.length} more lines`, cls: "bad" });
    for (const l of shown) {
      const li = document.createElement("li");
      li.className = l.cls;
      li.textContent = `${time(l.at)} ${l.text}`;
      list.prepend(li);
    }
    while (list.children.length > MAX_LOG_LINES) list.lastChild.remove();
  }

  // ---- plots ------------------------------------------------------------------------------------

  const CHART_HEIGHT = 190;
  const axisStyle = { stroke: "#8a97a6", grid: { stroke: "#2d3640", width: 1 }, ticks: { stroke: "#2d3640", width: 1 } };

  /** Room for the longest y tick label (pressure needs "1013.25"). */
  const yAxisWidth = (u, values) => (values ? Math.max(3, ...values.map((v) => String(v).length)) * 7 + 20 : 50);

  /** A uPlot chart in #plot-<key>: x is the last `windowS` seconds, labelled relative to now;
   *  `ySplits`: fixed y ticks (their ends are the range), else the range follows the data. */
  function chart(key, title, labels, windowS, ySplits) {
    const el = $("plot-" + key);
    const minutes = windowS >= 120;
    const opts = {
      title,
      width: Math.max(200, el.clientWidth),
      height: CHART_HEIGHT,
      pxAlign: false,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: {
        x: { time: false, range: () => { const now = Date.now() / 1000; return [now - windowS, now]; } },
        y: ySplits
          ? { range: [ySplits[0], ySplits[ySplits.length - 1]] }
          : { range: (u, min, max) => (min === null || min === max ? [(min || 0) - 1, (max || 0) + 1] : uPlot.rangeNum(min, max, 0.1, true)) },
      },
      axes: [
        Object.assign({ space: 50, incrs: minutes ? [60, 120, 300] : [5, 10], values: (u, splits) => {
          const now = Date.now() / 1000;
          return splits.map((v) => (minutes ? `${Math.round((v - now) / 60)} min` : `${Math.round(v - now)} s`));
        } }, axisStyle),
        Object.assign({ size: yAxisWidth }, ySplits ? { splits: () => ySplits } : {}, axisStyle),
      ],
      series: [{}].concat(labels.map((l, i) => ({ label: l, stroke: COLORS[i], width: 1.5, points: { show: false } }))),
    };
    charts[key] = { plot: new uPlot(opts, [[]].concat(labels.map(() => [])), el), el };
  }

  function createCharts(app) {
    if (app === "quadruped" && !charts.leg0) {
      LEGS.forEach((leg, i) => chart("leg" + i, `${leg} leg, joint angles (°)`, JOINTS, QUADRUPED_WINDOW_S, [-90, -45, 0, 45, 90]));
      chart("accel", "IMU acceleration (g)", ["x", "y", "z"], QUADRUPED_WINDOW_S);
      chart("gyro", "IMU rotation rate (°/s)", ["x", "y", "z"], QUADRUPED_WINDOW_S);
      chart("battery", "battery (V)", ["volts"], QUADRUPED_WINDOW_S);
    } else if (app === "sensor" && !charts.temperature) {
      chart("temperature", "temperature (°C)", ["°C"], SENSOR_WINDOW_S);
      chart("humidity", "relative humidity (%)", ["%"], SENSOR_WINDOW_S);
      chart("pressure", "pressure (hPa)", ["hPa"], SENSOR_WINDOW_S);
    }
  }

  /** Each chart's series as columns of a board's data (column 0 is x). */
  const CHART_COLUMNS = {
    quadruped: { leg0: [1, 2, 3], leg1: [4, 5, 6], leg2: [7, 8, 9], leg3: [10, 11, 12], accel: [13, 14, 15], gyro: [16, 17, 18], battery: [19] },
    sensor: { temperature: [1], humidity: [2], pressure: [3] },
  };
  /** Charts waiting to be redrawn; a frame redraws at most CHARTS_PER_FRAME of them, so no single
   *  frame pays for every plot. */
  const staleCharts = new Set();
  const CHARTS_PER_FRAME = 2;

  function drawStaleCharts() {
    const d = selected && devices.get(selected);
    let n = 0;
    for (const key of staleCharts) {
      if (n++ === CHARTS_PER_FRAME) return requestFrame();
      staleCharts.delete(key);
      const cols = d && d.cols && CHART_COLUMNS[d.app][key];
      if (!cols || !charts[key]) continue;
      charts[key].plot.setData([d.cols[0]].concat(cols.map((i) => d.cols[i])));
      charts[key].el.dataset.points = String(d.cols[0].length);
    }
  }

  /** The robot from above: body, the four legs (thigh swing forward/back, knee bend shortens the
   *  leg's reach), heading arrow. */
  function drawTopView(t) {
    const cv = $("topview");
    const g = cv.getContext("2d");
    const w = cv.width;
    const h = cv.height;
    g.clearRect(0, 0, w, h);
    g.save();
    g.translate(w / 2, h / 2);
    g.fillStyle = "#2b3440";
    g.strokeStyle = "#8aa0b8";
    g.lineWidth = 2;
    g.fillRect(-30, -50, 60, 100);
    g.strokeRect(-30, -50, 60, 100);
    for (let leg = 0; leg < 4; leg++) {
      const side = leg % 2 === 0 ? -1 : 1;
      const hx = 30 * side;
      const hy = leg < 2 ? -40 : 40;
      const rad = Math.PI / 180;
      const hip = t.j[leg * 3] * rad;
      const thigh = t.j[leg * 3 + 1] * rad;
      const knee = t.j[leg * 3 + 2] * rad;
      const reach = 22 + 28 * Math.cos(knee);
      const fwd = -40 * Math.sin(thigh);
      const ox = side * reach * Math.cos(hip) - fwd * Math.sin(hip) * side;
      const oy = fwd * Math.cos(hip) + reach * Math.sin(hip);
      g.strokeStyle = COLORS[leg];
      g.lineWidth = 5;
      g.beginPath();
      g.moveTo(hx, hy);
      g.lineTo(hx + ox, hy + oy);
      g.stroke();
      g.fillStyle = COLORS[leg];
      g.beginPath();
      g.arc(hx + ox, hy + oy, 5, 0, 2 * Math.PI);
      g.fill();
    }
    // Heading: 0° straight ahead (up), positive to the right.
    const a = (t.heading * Math.PI) / 180;
    g.strokeStyle = "#f0f3f6";
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(0, 0);
    g.lineTo(35 * Math.sin(a), -35 * Math.cos(a));
    g.stroke();
    g.restore();
    g.fillStyle = "#8aa0b8";
    g.font = "11px sans-serif";
    g.fillText("front", w / 2 - 13, 12);
  }

  // ---- views ------------------------------------------------------------------------------------

  function select(id) {
    selected = id;
    const d = devices.get(id);
    if (d) d.dirty = true;
    $("device-name").textContent = id;
    $("commands").replaceChildren();
    if (d && d.last && d.app === "quadruped") syncSliders(d.last);
    fleetDirty = true;
    if (location.hash !== "#" + encodeURIComponent(id)) history.replaceState(null, "", "#" + encodeURIComponent(id));
    requestFrame();
  }

  function syncSliders(t) {
    $("speed-in").value = String(t.speed);
    $("speed-out").textContent = t.speed.toFixed(2);
    $("heading-in").value = String(t.heading);
    $("heading-out").textContent = `${t.heading}°`;
  }

  function renderDevice(d) {
    d.dirty = false;
    const st = $("status");
    st.textContent = d.status;
    st.className = "badge " + d.status;
    const t = d.last;
    $("waiting").hidden = !!t;
    $("quadruped").hidden = d.app !== "quadruped";
    $("sensor").hidden = d.app !== "sensor";
    $("failsafe").hidden = !(t && t.safe);
    $("rate").textContent = t ? `${d.rate} msg/s` : "";
    if (!t) return;
    createCharts(d.app);
    if (d.app === "quadruped") {
      $("gait").textContent = t.gait;
      $("speed").textContent = t.speed.toFixed(2);
      $("heading").textContent = `${t.heading}°`;
      $("battery").textContent = `${t.bat.toFixed(2)} V`;
      $("seq").textContent = String(t.n);
      for (const b of document.querySelectorAll("[data-gait]")) b.classList.toggle("active", b.dataset.gait === t.gait);
      drawTopView(t);
    } else {
      $("temperature").textContent = `${t.t.toFixed(2)} °C`;
      $("humidity").textContent = `${t.h.toFixed(1)} %`;
      $("pressure").textContent = `${t.p.toFixed(2)} hPa`;
      $("sensor-battery").textContent = `${t.bat.toFixed(2)} V`;
      $("sensor-seq").textContent = String(t.n);
    }
    for (const key in CHART_COLUMNS[d.app]) staleCharts.add(key);
  }

  function renderFleet() {
    fleetDirty = false;
    $("fleet").hidden = devices.size < 2;
    if (devices.size < 2) return;
    const body = $("fleet-rows");
    let online = 0;
    let total = 0;
    for (const d of devices.values()) {
      if (!d.row) {
        d.row = document.createElement("tr");
        d.row.dataset.device = d.id;
        for (let i = 0; i < 9; i++) d.row.appendChild(document.createElement("td"));
        d.row.addEventListener("click", () => select(d.id));
        body.appendChild(d.row);
      }
      const t = d.last;
      const q = t && d.app === "quadruped";
      const cells = [d.id, d.status, d.app || "–", q ? t.gait : "–", q ? t.speed.toFixed(2) : "–", q ? `${t.heading}°` : "–", t ? `${t.bat.toFixed(2)} V` : "–", String(d.rate), q && t.safe ? "FAILSAFE" : ""];
      cells.forEach((v, i) => { if (d.row.cells[i].textContent !== v) d.row.cells[i].textContent = v; });
      d.row.className = (d.id === selected ? "selected " : "") + d.status;
      if (d.status === "online") online++;
      total += d.rate;
    }
    $("fleet-summary").textContent = `${devices.size} boards, ${online} online, ${total} msg/s`;
  }

  function requestFrame() {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(frame);
  }

  function frame() {
    frameRequested = false;
    const d = selected && devices.get(selected);
    if (d && d.dirty) renderDevice(d);
    if (fleetDirty) renderFleet();
    drawStaleCharts();
    flushLog();
  }

  /** Twice a second: message rates, command timeouts, and the plots scroll on without new data. */
  function tick() {
    const now = Date.now();
    for (const d of devices.values()) {
      while (d.times.length && d.times[0] < now - 1000) d.times.shift();
      if (d.rate !== d.times.length) { d.rate = d.times.length; fleetDirty = true; }
    }
    expireCommands(now);
    const d = selected && devices.get(selected);
    if (d && d.last) d.dirty = true;
    requestFrame();
  }

  // ---- start ------------------------------------------------------------------------------------

  function wire() {
    for (const b of document.querySelectorAll("[data-gait]")) b.addEventListener("click", () => sendCommand({ gait: b.dataset.gait }));
    $("stop").addEventListener("click", () => sendCommand({ stop: true }));
    $("speed-in").addEventListener("input", (e) => ($("speed-out").textContent = Number(e.target.value).toFixed(2)));
    $("speed-in").addEventListener("change", (e) => sendCommand({ speed: Number(e.target.value) }));
    $("heading-in").addEventListener("input", (e) => ($("heading-out").textContent = `${e.target.value}°`));
    $("heading-in").addEventListener("change", (e) => sendCommand({ heading: Number(e.target.value) }));
    window.addEventListener("resize", () => {
      for (const c of Object.values(charts)) c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: CHART_HEIGHT });
    });
    window.addEventListener("error", (e) => log(null, `page error: ${e.message}`, "bad"));
    setInterval(tick, 500);
  }

  async function start() {
    wire();
    let config = { devices: [], wsUrl: null, sameOrigin: false };
    try {
      config = await (await fetch("/config.json")).json();
    } catch (e) {
      log(null, `could not read /config.json: ${e.message}`, "bad");
    }
    const params = new URLSearchParams(location.search);
    known = Array.isArray(config.devices) ? config.devices.filter((id) => typeof id === "string") : [];
    for (const id of known) device(id);
    let wanted = "";
    try {
      wanted = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      log(null, `ignored the address's #${clip(location.hash.slice(1), 40)}: not a device id`, "bad");
    }
    if (known.length) select(known.includes(wanted) ? wanted : known[0]);
    const wsUrl = params.get("ws") || config.wsUrl || (config.sameOrigin ? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/mqtt` : null);
    if (!wsUrl) {
      $("broker-state").textContent = "no WebSocket URL: start with --ws-url ws://host:port (the broker's WebSocket listener)";
      $("broker").className = "broker bad";
      return;
    }
    connect(wsUrl);
  }

  start();
})();
