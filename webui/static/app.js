// stretchstep dashboard: one EventSource for live state, fetch for history. No libraries.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const OPEN_READS = body.dataset.openReads === "true";
  const CODE_KEY = "stretchstep.access_code";
  const CHART_S = 30;
  const STATE_TEXT = { empty: "Step on", standing: "Standing", stretching: "Stretching",
                       holding: "Holding", fault: "Sensor fault" };

  let status = {};
  let points = [];        // [t, kg] for the chart
  let marks = [];         // [t, kind] events drawn on the chart
  let alertTimer = null;
  let source = null;

  // ---- access code -----------------------------------------------------------------------
  const code = () => localStorage.getItem(CODE_KEY) || "";
  function askCode() {
    return new Promise((resolve) => {
      const dlg = $("code-dialog");
      if (!dlg.showModal) { const c = prompt("Access code"); if (c) localStorage.setItem(CODE_KEY, c); resolve(!!c); return; }
      $("code-input").value = "";
      dlg.onclose = () => {
        const ok = dlg.returnValue === "ok" && $("code-input").value.trim() !== "";
        if (ok) localStorage.setItem(CODE_KEY, $("code-input").value.trim());
        resolve(ok);
      };
      dlg.showModal();
    });
  }

  async function api(path, options = {}, retried = false) {
    const headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (code()) headers["X-Access-Code"] = code();
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(options.json); }
    const res = await fetch(path, Object.assign({}, options, { headers }));
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: `HTTP ${res.status}` }; }
    if (res.status === 401 && !retried) {
      localStorage.removeItem(CODE_KEY);
      if (await askCode()) return api(path, options, true);
    }
    if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
    return data;
  }

  // ---- live state ------------------------------------------------------------------------
  // Only touch text that changed: fewer repaints, and live regions are not re-announced 10x a second.
  const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };
  const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x)) ? "–" : Number(x).toFixed(d);

  function slotText(s) {
    if (!s.leg) return "–";
    const where = s.steps ? ` (hold ${s.step} of ${s.steps})` : "";
    return `${s.leg} leg · knee ${s.knee || "–"} · rep ${s.rep || 1}${where}`;
  }

  function renderStatus(s) {
    status = s || {};
    const state = status.state || "empty";
    const el = $("state-label");
    el.dataset.state = state;
    setText(el, state === "fault" && status.fault ? `Sensor fault: ${status.fault}` : (STATE_TEXT[state] || state));
    setText($("kg"), `${fmt(status.kg)} kg`);
    const target = Number(status.target_s) || 30;
    const held = state === "holding" || state === "stretching" ? Number(status.hold_s) || 0 : 0;
    const frac = Math.min(1, held / target);
    $("ring-fg").setAttribute("stroke-dasharray", `${(frac * 100).toFixed(1)} 100`);
    $("ring-fg").style.visibility = frac > 0 ? "visible" : "hidden";  // a round cap would draw a dot at 0
    $("ring").classList.toggle("done", held >= target);
    $("ring").setAttribute("aria-valuemax", String(target));
    $("ring").setAttribute("aria-valuenow", held.toFixed(0));
    setText($("hold-time"), held.toFixed(0));
    setText($("hold-target"), `of ${target.toFixed(0)} s`);
    const breaths = state === "holding" || state === "stretching" ? Number(status.breaths) || 0 : 0;
    const tb = Number(status.target_breaths) || 0;
    setText($("breaths"), String(breaths));
    setText($("breaths-target"), tb ? ` / ${tb}` : "");
    const dots = $("breath-dots");
    const n = Math.max(tb, breaths);
    if (dots.childElementCount !== n || dots.dataset.on !== String(breaths)) {
      dots.replaceChildren(...Array.from({ length: n }, (_, i) => {
        const d = document.createElement("span"); if (i < breaths) d.className = "on"; return d; }));
      dots.dataset.on = String(breaths);
    }
    const bounces = state === "holding" || state === "stretching" ? Number(status.bounces) || 0 : 0;
    setText($("hold-bounces"), String(bounces));
    $("hold-bounces").classList.toggle("bad", bounces > 0);
    const active = state === "holding" || state === "stretching";
    setText($("next-label"), active ? "Now" : "Next");
    setText($("next"), slotText(status));
    if (status.source) $("source").textContent = `source: ${status.source}${status.speed && status.speed !== 1 ? ` ×${status.speed}` : ""}`;
  }

  function showAlert(html, good, ms) {
    const el = $("alert");
    el.innerHTML = html;
    el.classList.toggle("good", !!good);
    el.hidden = false;
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => { el.hidden = true; }, ms);
  }

  function onEvent(ev, s) {
    if (s) renderStatus(s);
    marks.push([ev.t, ev.kind]);
    if (ev.kind === "bounce") {
      showAlert("Don’t bounce!<small>Hold still and breathe slowly</small>", false, 3000);
      if (navigator.vibrate) navigator.vibrate([120, 80, 120]);
    } else if (ev.kind === "hold_complete") {
      showAlert("Hold complete<small>Ease off slowly</small>", true, 2500);
    } else if (ev.kind === "sensor_fault") {
      showAlert(`Sensor fault<small>${ev.reason || "check the cable"}</small>`, false, 4000);
    } else if (ev.kind === "stretch_end") {
      loadToday(); loadRecent(); loadDays();
    }
  }

  function addPoint(t, kg) {
    if (points.length && t < points[points.length - 1][0]) { points = []; marks = []; }
    points.push([t, kg]);
    const cut = t - CHART_S;
    while (points.length && points[0][0] < cut) points.shift();
    while (marks.length && marks[0][0] < cut) marks.shift();
  }

  // ---- chart -----------------------------------------------------------------------------
  function drawChart() {
    const canvas = $("chart");
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const css = getComputedStyle(document.documentElement);
    const good = points.filter((p) => p[1] !== null);
    if (!good.length) return;
    const tEnd = points[points.length - 1][0], tStart = tEnd - CHART_S;
    let hi = Math.max(10, ...good.map((p) => p[1])) * 1.1, lo = Math.min(0, ...good.map((p) => p[1]));
    const x = (t) => 34 + (w - 38) * (t - tStart) / CHART_S;
    const y = (kg) => h - 16 - (h - 36) * (kg - lo) / (hi - lo);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = css.getPropertyValue("--muted"); g.strokeStyle = css.getPropertyValue("--line"); g.lineWidth = 1;
    const step = hi > 80 ? 40 : hi > 40 ? 20 : 10;
    for (let v = 0; v <= hi; v += step) {
      g.beginPath(); g.moveTo(34, y(v)); g.lineTo(w, y(v)); g.stroke(); g.fillText(`${v}`, 4, y(v) + 4);
    }
    g.fillText("kg", 4, 10);
    for (const [t, kind] of marks) {
      const color = kind === "bounce" ? "--warn" : kind === "breath" ? "--ok" : kind === "hold_complete" ? "--ok" : "--accent";
      if (!["bounce", "breath", "hold_start", "hold_complete", "stretch_start", "stretch_end"].includes(kind)) continue;
      g.strokeStyle = css.getPropertyValue(color); g.lineWidth = kind === "bounce" || kind === "hold_complete" ? 2.5 : 1;
      g.setLineDash(kind === "breath" ? [3, 3] : []);
      g.beginPath(); g.moveTo(x(t), 20); g.lineTo(x(t), h - 16); g.stroke();
    }
    g.setLineDash([]);
    g.strokeStyle = css.getPropertyValue("--accent"); g.lineWidth = 2; g.beginPath();
    let pen = false;
    for (const [t, kg] of points) {
      if (kg === null) { pen = false; continue; }
      if (pen) g.lineTo(x(t), y(kg)); else { g.moveTo(x(t), y(kg)); pen = true; }
    }
    g.stroke();
  }
  let chartQueued = false;
  const queueChart = () => { if (!chartQueued) { chartQueued = true; requestAnimationFrame(() => { chartQueued = false; drawChart(); }); } };

  // ---- the stream ------------------------------------------------------------------------
  function connect() {
    if (source) source.close();
    const url = OPEN_READS || !code() ? "/api/stream" : `/api/stream?access_code=${encodeURIComponent(code())}`;
    source = new EventSource(url);
    const conn = $("conn");
    source.onopen = () => { conn.dataset.state = "live"; setText(conn, "live"); };
    source.onerror = () => {
      conn.dataset.state = "lost"; setText(conn, "reconnecting…");
      // The browser retries a dropped stream by itself, but gives up on an HTTP error (a wrong
      // code, a server shutting down): check with a plain request (which asks for the code on
      // 401), then open a fresh stream.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(async () => { try { await api("/api/health"); if (!OPEN_READS) await api("/api/state"); } catch (e) { /* retry below */ } connect(); }, 3000);
      }
    };
    source.addEventListener("state", (m) => {
      const d = JSON.parse(m.data);
      if (d.history) {
        points = []; marks = [];
        for (const [t, kg] of d.history) addPoint(t, kg);
        for (const e of d.events || []) marks.push([e.t, e.kind]);
      }
      renderStatus(d.status);
      queueChart();
    });
    source.addEventListener("sample", (m) => {
      const d = JSON.parse(m.data);
      addPoint(d.t, d.kg);
      renderStatus(d.status);
      queueChart();
    });
    source.addEventListener("event", (m) => {
      const d = JSON.parse(m.data);
      onEvent(d.event, d.status);
      queueChart();
    });
  }

  // ---- history ---------------------------------------------------------------------------
  async function loadToday() {
    try {
      const t = await api("/api/today");
      $("today-holds").textContent = t.completed_holds;
      $("today-stretches").textContent = t.stretches;
      $("today-bounces").textContent = t.bounces;
      $("today-bounces").classList.toggle("zero", !t.bounces);
      const sides = Object.entries(t.by_side || {}).filter(([k]) => k !== "unknown")
        .map(([leg, s]) => `${leg}: ${s.completed_holds} held` + (s.bounces ? `, ${s.bounces} bounce${s.bounces > 1 ? "s" : ""}` : ""));
      $("today-sides").textContent = sides.join(" · ");
    } catch (e) { $("today-sides").textContent = e.message; }
  }

  async function loadDays() {
    let days;
    try { ({ days } = await api("/api/days?days=14")); } catch (e) { return; }
    const svg = $("days");
    const NS = "http://www.w3.org/2000/svg";
    const el = (tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      return n;
    };
    const W = 340, H = 120, top = 14, bottom = H - 18, slot = W / days.length;
    const most = Math.max(4, ...days.map((d) => d.completed_holds));
    const kids = [el("line", { x1: 0, x2: W, y1: bottom, y2: bottom, class: "base" })];
    const pain = [];
    days.forEach((d, i) => {
      const h = (bottom - top) * d.completed_holds / most, x = i * slot + slot * 0.18;
      if (d.completed_holds) {
        kids.push(el("rect", { x: x.toFixed(1), y: (bottom - h).toFixed(1), width: (slot * 0.64).toFixed(1), height: h.toFixed(1), class: "bar" }));
        kids.push(el("text", { x: (i * slot + slot / 2).toFixed(1), y: (bottom - h - 3).toFixed(1), "text-anchor": "middle" }, String(d.completed_holds)));
      }
      if (i % 2 === (days.length - 1) % 2) kids.push(el("text", { x: (i * slot + slot / 2).toFixed(1), y: H - 4, "text-anchor": "middle" }, d.date.slice(8)));
      if (d.pain !== null) pain.push([i * slot + slot / 2, bottom - (bottom - top) * d.pain / 10]);
    });
    if (pain.length > 1) kids.push(el("polyline", { points: pain.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" "), class: "pain" }));
    for (const [x, y] of pain) kids.push(el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 3, class: "pain-dot" }));
    svg.replaceChildren(...kids);
  }

  const clock = (wall) => new Date(wall * 1000).toLocaleTimeString([], { hour: "numeric", minute: "2-digit", hourCycle: "h23" });

  async function loadRecent() {
    try {
      const { stretches } = await api("/api/stretches?limit=8");
      const list = $("recent");
      if (!stretches.length) { list.innerHTML = '<li class="empty">None yet.</li>'; return; }
      list.replaceChildren(...stretches.map((s) => {
        const li = document.createElement("li");
        const what = document.createElement("span");
        what.textContent = `${s.leg || "?"} ${s.knee || ""} · ${fmt(s.hold_s, 0)} s · ${s.breaths} breath${s.breaths === 1 ? "" : "s"}`;
        const verdict = document.createElement("span");
        verdict.className = s.bounces ? "bad" : s.completed ? "ok" : "short";
        verdict.textContent = s.bounces ? `${s.bounces} bounce${s.bounces > 1 ? "s" : ""}` : s.completed ? "✓ held" : "short";
        const when = document.createElement("span");
        when.className = "when"; when.textContent = clock(s.wall);
        li.append(when, what, verdict);
        return li;
      }));
    } catch (e) { $("recent").innerHTML = ""; }
  }

  async function loadPain() {
    try {
      const { entries } = await api(`/api/pain?since=${Math.floor(Date.now() / 1000) - 14 * 86400}`);
      $("pain-list").replaceChildren(...entries.slice(-7).reverse().map((p) => {
        const li = document.createElement("li");
        li.textContent = `${new Date(p.wall * 1000).toLocaleDateString([], { weekday: "short" })} ${clock(p.wall)} · pain ${p.pain}` +
          (p.stiffness !== null ? ` · stiffness ${p.stiffness}` : "") + (p.note ? ` · ${p.note}` : "");
        return li;
      }));
    } catch (e) { /* shown when the user opens the form and saves */ }
  }

  // ---- forms -----------------------------------------------------------------------------
  function wireForms() {
    for (const id of ["pain", "stiffness"]) $(id).addEventListener("input", () => { $(`${id}-out`).textContent = $(id).value; });
    $("pain-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const msg = $("pain-msg");
      try {
        await api("/api/pain", { method: "POST", json: { pain: +$("pain").value, stiffness: +$("stiffness").value, note: $("note").value } });
        msg.className = "msg"; msg.textContent = "Saved."; $("note").value = ""; loadPain(); loadDays();
      } catch (err) { msg.className = "msg err"; msg.textContent = err.message; }
    });
    const sensorMsg = (text, bad) => { $("sensor-msg").className = bad ? "msg err" : "msg"; $("sensor-msg").textContent = text; };
    $("tare").addEventListener("click", async () => {
      try { await api("/api/tare", { method: "POST", json: {} }); sensorMsg("Tared."); } catch (err) { sensorMsg(err.message, true); }
    });
    $("calibrate").addEventListener("click", async () => {
      try { await api("/api/calibrate", { method: "POST", json: { known_kg: +$("known").value } }); sensorMsg("Calibrated."); }
      catch (err) { sensorMsg(err.message, true); }
    });
    if (body.dataset.control !== "true") {
      $("sensor-buttons").hidden = true;
      $("sensor-msg").textContent = "No sensor to tare or calibrate: the input is simulated or replayed.";
    }
  }

  async function start() {
    wireForms();
    if (!OPEN_READS && !code()) await askCode();
    connect();
    loadToday(); loadRecent(); loadPain(); loadDays();
    window.addEventListener("resize", queueChart);
    setInterval(loadToday, 60000);  // the day rolls over at midnight even with no stretches
  }
  start();
})();
