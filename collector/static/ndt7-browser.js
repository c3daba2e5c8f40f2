/* A small ndt7 client for the browser (M-Lab ndt7 protocol, spec v0.9), written for Socle.
 *
 * ndt7Download(baseUrl, seconds, onRate) and ndt7Upload(baseUrl, seconds, onRate) each
 * resolve to {mbps, seconds, minRttMs, source, bytes}. Rates are the median of the
 * 250 ms interval rates after the first second (the ramp-up), counted by the receiver:
 * this browser on download, the server (its TCPInfo.BytesReceived, else AppInfo.NumBytes)
 * on upload, as the spec asks. Nothing here talks to any host but the collector.
 */
"use strict";

const NDT7_PROTOCOL = "net.measurementlab.ndt.v7";
const NDT7_INTERVAL_MS = 250;
const NDT7_RAMP_MS = 1000;

function ndt7Median(values) {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/* (elapsed ms, cumulative bytes) points -> median Mbit/s of the steady intervals. */
function ndt7SteadyRate(points) {
  const rates = [];
  for (let i = 1; i < points.length; i++) {
    const [t0, b0] = points[i - 1];
    const [t1, b1] = points[i];
    if (t0 >= NDT7_RAMP_MS && t1 > t0) rates.push(((b1 - b0) * 8) / ((t1 - t0) * 1000));
  }
  if (rates.length >= 2) return ndt7Median(rates);
  const last = points[points.length - 1];
  return last && last[0] > 0 ? (last[1] * 8) / (last[0] * 1000) : null;
}

function ndt7Url(base, test, token) {
  const u = new URL(base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = "/ndt/v7/" + test;
  // A collector that asks for a credential takes the speed-test code here: a browser cannot set
  // headers on a WebSocket.
  u.search = token ? "access_token=" + encodeURIComponent(token) : "";
  return u.toString();
}

function ndt7MinRtt(msg, current) {
  const rtt = msg && msg.TCPInfo && msg.TCPInfo.MinRTT;
  if (typeof rtt === "number" && rtt > 0) {
    const ms = rtt / 1000;
    return current === null ? ms : Math.min(current, ms);
  }
  return current;
}

function ndt7Download(base, seconds, onRate, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(ndt7Url(base, "download", token), NDT7_PROTOCOL);
    ws.binaryType = "arraybuffer";
    let start = null, bytes = 0, minRtt = null, timer = null, next = NDT7_INTERVAL_MS;
    const points = [[0, 0]];
    const finish = () => {
      if (timer) clearTimeout(timer);
      const elapsed = start === null ? 0 : performance.now() - start;
      points.push([elapsed, bytes]);
      resolve({ mbps: ndt7SteadyRate(points), seconds: elapsed / 1000, minRttMs: minRtt,
                source: "client", bytes });
    };
    ws.onopen = () => {
      start = performance.now();
      timer = setTimeout(() => ws.close(), seconds * 1000);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        bytes += ev.data.length;
        try { minRtt = ndt7MinRtt(JSON.parse(ev.data), minRtt); } catch (e) { /* not JSON: ignored */ }
      } else {
        bytes += ev.data.byteLength;
      }
      const t = performance.now() - start;
      if (t >= next) {
        points.push([t, bytes]);
        next = t + NDT7_INTERVAL_MS;
        if (onRate) onRate((bytes * 8) / (t * 1000));
      }
    };
    ws.onerror = () => { if (start === null) reject(new Error("download: cannot connect")); };
    ws.onclose = () => { if (start !== null) finish(); };
  });
}

function ndt7Upload(base, seconds, onRate, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(ndt7Url(base, "upload", token), NDT7_PROTOCOL);
    const MAX = 1 << 20;
    const payload = new Uint8Array(MAX);
    for (let i = 0; i < MAX; i += 65536) crypto.getRandomValues(payload.subarray(i, i + 65536));
    let start = null, sent = 0, size = 1 << 13, minRtt = null, done = false;
    const server = [[0, 0]];
    let tcpSeen = false;
    const finish = () => {
      if (done) return;
      done = true;
      const elapsed = start === null ? 0 : performance.now() - start;
      let mbps = ndt7SteadyRate(server), source = tcpSeen ? "server_tcp_info" : "server_app_info";
      if (server.length < 2) {
        mbps = elapsed > 0 ? ((sent - ws.bufferedAmount) * 8) / (elapsed * 1000) : null;
        source = "client";
      }
      resolve({ mbps, seconds: elapsed / 1000, minRttMs: minRtt, source, bytes: sent });
    };
    const pump = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const elapsed = performance.now() - start;
      if (elapsed >= seconds * 1000) { ws.close(); return; }
      while (ws.bufferedAmount < 7 * size && sent < 1e12) {
        ws.send(payload.subarray(0, size));
        sent += size;
        if (size < MAX && size <= sent / 16) size *= 2;
      }
      setTimeout(pump, 0);
    };
    ws.onopen = () => { start = performance.now(); pump(); };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      minRtt = ndt7MinRtt(msg, minRtt);
      const tcp = msg.TCPInfo, app = msg.AppInfo;
      let t = null, b = null;
      if (tcp && typeof tcp.BytesReceived === "number" && typeof tcp.ElapsedTime === "number") {
        t = tcp.ElapsedTime / 1000; b = tcp.BytesReceived; tcpSeen = true;
      } else if (app && typeof app.NumBytes === "number") {
        t = app.ElapsedTime / 1000; b = app.NumBytes;
      }
      if (t !== null && t > 0) {
        server.push([t, b]);
        if (onRate) onRate((b * 8) / (t * 1000));
      }
    };
    ws.onerror = () => { if (start === null) reject(new Error("upload: cannot connect")); };
    ws.onclose = () => { if (start !== null) finish(); };
  });
}
