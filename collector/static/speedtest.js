/* The speed-test page: check the technician's code, run ndt7 both ways, file the result. */
"use strict";

(function () {
  const form = document.getElementById("speedtest");
  const status = document.getElementById("status");
  const msgs = JSON.parse(document.getElementById("messages").textContent);
  const say = (text) => { status.textContent = text; };
  const lang = document.documentElement.lang || "fr";
  const fmt = (v) => (v === null || v === undefined ? "—"
    : v.toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

  // A QR code of an enrolment code opens /speedtest#code=…: the fragment never leaves the browser.
  const given = new URLSearchParams(location.hash.slice(1)).get("code");
  if (given) document.getElementById("code").value = given;
  const base = location.href.split("#")[0];  // a WebSocket address may carry no fragment

  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {  // the collector's reason in the reader's words where the page knows it
      const detail = typeof data.detail === "string" ? data.detail : "";
      throw new Error(msgs.reasons[detail] || (r.status === 429 ? msgs.too_many
                      : fill(msgs.http, { status: r.status }) + (detail ? " — " + detail : "")));
    }
    return data;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = document.getElementById("start");
    button.disabled = true;
    const code = document.getElementById("code").value.trim();
    const room = document.getElementById("room").value.trim();
    const connection = form.querySelector("input[name=connection]:checked").value;
    const seconds = parseFloat(form.dataset.seconds) || 10;
    const figures = document.getElementById("figures");
    try {
      say(msgs.checking);
      const school = await post("/speedtest/api/check", { code });
      figures.hidden = false;
      say(school.school_name + " — " + msgs.download);
      const down = await ndt7Download(base, seconds,
                                      (r) => { document.getElementById("down").textContent = fmt(r); }, code);
      document.getElementById("down").textContent = fmt(down.mbps);
      say(school.school_name + " — " + msgs.upload);
      const up = await ndt7Upload(base, seconds,
                                  (r) => { document.getElementById("up").textContent = fmt(r); }, code);
      document.getElementById("up").textContent = fmt(up.mbps);
      const rtt = [down.minRttMs, up.minRttMs].filter((v) => v !== null);
      const minRtt = rtt.length ? Math.min(...rtt) : null;
      document.getElementById("rtt").textContent = fmt(minRtt);
      say(msgs.filing);
      const filed = await post("/speedtest/api/result", {
        code, room, connection,
        download_mbps: down.mbps, upload_mbps: up.mbps,
        download_s: down.seconds, upload_s: up.seconds, min_rtt_ms: minRtt,
        upload_source: up.source, bytes_used: down.bytes + up.bytes,
        user_agent: navigator.userAgent.slice(0, 300),
      });
      say(fill(msgs.done, { school: filed.school_name, room: filed.room }));
      status.dataset.state = "done";
    } catch (e) {
      say(fill(msgs.failed, { reason: e.message }));
      status.dataset.state = "failed";
      button.disabled = false;
    }
  });
})();
