// The Now page: one EventSource for the live state, the hold timer, breaths, the force line,
// bounce warnings and the routine's slot, rest and cues.
import { $, h, s, setText, fmt, plural, clock, say, fitWidth, slotShort, niceStep } from "./dom.js";
import { api } from "./net.js";
import * as sound from "./sound.js";

const CHART_S = 20;
const BOUNCE_SHOW_S = 3;     // "Bounce!" stays up this long (sample time) after an episode
const WORDS = { empty: "Step on", ready: "Ready", in: "Stretching in", holding: "Holding", done: "Hold complete",
                off: "Easing off", bounce: "Bounce!", fault: "Sensor fault" };

const live = {
  status: {}, t: null, points: [], marks: [], held: false, complete: false, lastBounce: -Infinity,
  holdStart: null, holdEnd: null, cueId: undefined, source: null, retry: null, lastMessage: 0, listeners: new Set(),
};
export const liveState = live;
export const onLive = (fn) => live.listeners.add(fn);

// ---- the state in one word ---------------------------------------------------------------------
export function phase(st) {  // exported for the browser tests
  const state = st.state || "empty";
  if (state === "fault") return "fault";
  if (live.t !== null && live.t - live.lastBounce < BOUNCE_SHOW_S && (state === "holding" || state === "stretching")) return "bounce";
  if (state === "holding") return live.complete || (+st.hold_s >= targetS(st)) ? "done" : "holding";
  if (state === "stretching") return live.held ? "off" : "in";
  return state === "standing" ? "ready" : "empty";
}

const targetS = (st) => Number(st.target_s) || 30;

// An empty, tared step reads 0 ± the cell's noise (DESIGN §2: σ 0.02-0.15 kg), so the figure
// would flicker "-0.1 kg". Within 2σ of the noisiest cell it shows 0.0 while the detector says
// empty. Only the figure: status.kg (health, MQTT, the tare flow's reading) stays the reading, and
// a load further from zero (a wrong tare, a fault's reading) or anything on a step in use shows as is.
export const ZERO_BAND_KG = 0.3;
export function kgShown(kg, state) {  // exported for the browser tests
  const quiet = state === "empty" && typeof kg === "number" && Math.abs(kg) < ZERO_BAND_KG;
  return `${fmt(quiet ? 0 : kg)} kg`;
}
// A hold the routine did not count is asked for again: the slot line says so, and why.
const AGAIN = { bounced: "that one bounced", early: "that one ended before the target" };
const routineOf = (st) => st.routine || null;

/** "right leg, knee straight, 2 of 3", from the routine's label or the older flat fields. */
export function slotLabel(slot) {
  if (!slot) return "";
  if (slot.label) return slot.label;
  if (!slot.leg) return "";
  return `${slot.leg} leg, knee ${slot.knee || "–"}, ${slot.rep || 1} of ${slot.reps || "?"}`;
}
const cap = (t) => t ? t[0].toUpperCase() + t.slice(1) : t;

function render() {
  const st = live.status;
  const p = phase(st);
  const word = $("state-word");
  word.dataset.state = p;
  setText(word, p === "fault" && st.fault ? `Sensor fault: ${st.fault}` : WORDS[p]);
  setText($("kg"), kgShown(st.kg, st.state));

  const target = targetS(st);
  const inHold = st.state === "holding" || (st.state === "stretching" && live.held);
  const held = inHold ? Number(st.hold_s) || 0 : 0;
  const frac = Math.min(1, held / target);
  const fg = $("ring-fg");
  fg.setAttribute("stroke-dasharray", `${(frac * 100).toFixed(1)} 100`);
  fg.classList.toggle("empty", frac <= 0);  // a round cap would draw a dot at 0
  $("ring").classList.toggle("done", held >= target || live.complete);
  setText($("hold-time"), String(Math.floor(held)));
  setText($("hold-target"), `of ${target.toFixed(0)} s`);
  setText($("hold-label"), `hold time ${Math.floor(held)} of ${target.toFixed(0)} seconds`);

  const breaths = inHold ? Number(st.breaths) || 0 : 0;
  const unsure = inHold && st.breaths_sure === false;
  const tb = Number(st.target_breaths) || 0;
  setText($("breaths"), `${unsure ? "~" : ""}${breaths}`);
  setText($("breaths-target"), tb ? ` / ${tb}` : "");
  setText($("breath-note"), unsure ? "~ the count is a best guess: the presses are small beside your sway" : "");
  const dots = $("breath-dots");
  const n = Math.max(tb, breaths);
  if (dots.childElementCount !== n || dots.dataset.on !== String(breaths)) {
    dots.replaceChildren(...Array.from({ length: n }, (_, i) => h("span", { class: i < breaths ? "on" : "" })));
    dots.dataset.on = String(breaths);
  }
  const bounces = inHold || st.state === "stretching" ? Number(st.bounces) || 0 : 0;
  setText($("hold-bounces"), String(bounces));
  $("hold-bounces").classList.toggle("bad", bounces > 0);

  const r = routineOf(st);
  const slot = r ? r.slot : (st.leg ? { leg: st.leg, knee: st.knee, rep: st.rep, reps: st.reps } : null);
  const next = r ? r.next : null;
  if (r && r.done) setText($("slot"), `Routine done${r.goal ? `: ${r.routines_today} of ${r.goal} today` : ""}`);
  else {
    const last = r && r.last_hold, again = !inHold && last && slot && slot.label && last.label === slot.label && AGAIN[last.outcome];
    setText($("slot"), slot ? `${again ? "Again" : inHold ? "Now" : "Next"}: ${slotLabel(slot)}${again ? ` (${again})` : ""}` : "–");
  }
  const switching = next && slot && next.leg !== slot.leg;
  setText($("then"), next ? `${switching && p === "done" ? "Then switch legs: " : "Then: "}${slotLabel(next)}` : "");
  const rest = r && r.rest_s_left > 0 ? r.rest_s_left : null;
  $("rest").hidden = rest === null;
  if (rest !== null) setText($("rest"), `Rest ${Math.ceil(rest)} s${slot ? `, then ${slotLabel(slot)}` : ""}`);
  if (r) {  // a cue sounds when its id moves on; the one current on connecting is only remembered
    const id = r.cue_id ?? null;
    if (live.cueId === undefined) live.cueId = id;
    else if (id !== live.cueId) { live.cueId = id; if (r.cue) routineCue(r); }
  }
  const sug = r && r.suggested_profile;
  $("suggest").hidden = !sug;
  // a profile switch waits for an empty step (the button's rule, POST .../activate answers 409)
  const later = st.state && st.state !== "empty" ? " Step off, then switch." : "";
  if (sug) { setText($("suggest-text"), `By the weight on the step this looks like ${sug.name}, not ${r.profile.name}.${later}`); $("suggest-yes").dataset.id = sug.id; }
  sound.keepAwake(st.state && st.state !== "empty");
  showTodayLine();
}

// ---- cues and warnings -------------------------------------------------------------------
let alertTimer = null;
function showAlert(title, detail, kind, ms) {
  const el = $("alert");
  $("alert-title").textContent = title;
  $("alert-detail").textContent = detail;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { el.hidden = true; }, ms);
}

/** With a routine, its cues are the phone's cues (it times hold complete on a breath target, and
 *  knows when to switch legs); without one, the detector's events are. */
function routineCue(r) {
  const slot = slotLabel(r.slot), leg = r.slot && r.slot.leg;
  if (r.cue === "switch_legs") {
    showAlert("Switch legs", slot ? `Now the ${slot}` : "", "info", 3500);
    sound.cue("switch_legs", leg ? `Switch legs. Now the ${leg} leg.` : "Switch legs.");
  } else if (r.cue === "routine_done") {
    showAlert("Routine done", r.goal ? `${r.routines_today} of ${r.goal} today` : "Well done", "good", 4000);
    sound.cue("routine_done");
  } else if (r.cue === "wrong_leg") {
    showAlert("Other leg, please", slot ? `The plan says: ${slot}` : "", "info", 3500);
    sound.cue("bounce", leg ? `Other leg please: the ${leg} leg.` : undefined);
  } else if (r.cue === "hold_complete") {
    const bounced = Number(live.status.bounces) > 0;   // it will not count: say so now, not after
    showAlert("Hold complete", bounced ? "Ease off slowly. It bounced, so this one comes again." : "Ease off slowly", "good", 2500);
    sound.cue("hold_complete");
  } else if (r.cue === "bounce") sound.cue("bounce");
  else if (r.cue === "rest_over" || r.cue === "ready") sound.cue(r.cue, slot ? `Now the ${slot}.` : undefined);
}

/** The per-stretch flags the state word needs, from one event (live, or replayed on connecting). */
function track(e) {
  live.marks.push([e.t, e.kind, e]);
  if (e.kind === "stretch_start") { live.held = false; live.complete = false; live.holdStart = null; live.holdEnd = null; }
  else if (e.kind === "hold_start") { live.held = true; live.holdStart = e.t; live.holdEnd = null; }
  else if (e.kind === "hold_complete") live.complete = true;
  else if (e.kind === "bounce") live.lastBounce = e.t;
  else if (e.kind === "stretch_end" || e.kind === "step_off") {
    if (live.holdStart !== null && live.holdEnd === null) live.holdEnd = e.t;
    live.held = false; live.complete = false;
  }
}

function onEvent(e) {
  track(e);
  const routed = !!routineOf(live.status);  // the routine sounds its own cues (routineCue)
  if (e.kind === "hold_complete" && !routed) {
    showAlert("Hold complete", "Ease off slowly", "good", 2500);
    sound.cue("hold_complete");
  } else if (e.kind === "bounce") {
    const what = e.hz && e.pp_kg ? `${fmt(e.hz)} bounces a second, ${fmt(e.pp_kg)} kg up and down. ` : "";
    showAlert("Don’t bounce!", `${what}Hold still and breathe slowly.`, "bad", 3500);
    if (!routed) sound.cue("bounce");
    if (navigator.vibrate) navigator.vibrate([120, 80, 120]);
  } else if (e.kind === "stretch_end") { showLastHold(e); loadToday(); }
  else if (e.kind === "sensor_fault") showAlert("Sensor fault", e.reason || "Check the sensor's cable.", "bad", 5000);
}

/** The stretch just ended, in one line: its hold, its breaths ("~" when the count is a best
 *  guess: the detector's final recount is unsure), and the verdict. */
function showLastHold(e) {
  if (e.hold_start === null || e.hold_start === undefined) { setText($("last-hold"), "Last stretch: too short to count as a hold."); return; }
  const b = `${e.breaths_sure === false ? "~" : ""}${e.breaths}`;
  const verdict = e.bounces ? `, ${plural(e.bounces, "bounce")}` : e.completed ? ", held ✓" : ", released early";
  setText($("last-hold"), `Last hold: ${fmt(e.hold_s, 0)} s, ${b} breath${e.breaths === 1 ? "" : "s"}${verdict}`);
}

/** Rebuild the per-stretch flags from the snapshot's last events (after a reconnect). */
function replay(events) {
  live.held = false; live.complete = false; live.holdStart = null; live.holdEnd = null;
  for (const e of events) track(e);
}

function addPoint(t, kg) {
  if (live.t !== null && t < live.t - 1) { live.points = []; live.marks = []; live.lastBounce = -Infinity; }  // a new source
  live.t = t;
  live.points.push([t, kg]);
  const cut = t - CHART_S - 1;
  while (live.points.length && live.points[0][0] < cut) live.points.shift();
  while (live.marks.length && live.marks[0][0] < cut) live.marks.shift();
}

// ---- the force line ------------------------------------------------------------------------
const H = 160, L = 34, R = 8, T = 18, B = 22;
let W = 360;
function drawChart() {
  const svg = $("chart");
  W = fitWidth(svg, H);
  const pts = live.points.filter((p) => p[1] !== null);
  const kids = [];
  const tEnd = live.t === null ? 0 : live.t, tStart = tEnd - CHART_S;
  const kgs = pts.map((p) => p[1]);
  const hi = Math.max(10, ...kgs) * 1.08, lo = Math.min(0, ...kgs);
  const x = (t) => L + (W - L - R) * (t - tStart) / CHART_S;
  const y = (kg) => H - B - (H - B - T) * (kg - lo) / (hi - lo);
  if (live.holdStart !== null) {
    const a = Math.max(tStart, live.holdStart), b = live.holdEnd === null ? tEnd : live.holdEnd;
    if (b > tStart) kids.push(s("rect", { x: x(a), y: T, width: Math.max(0, x(b) - x(a)), height: H - B - T, class: "band" }));
  }
  const step = niceStep((hi - lo) / 5, 5);
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    kids.push(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    kids.push(s("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  kids.push(s("text", { x: 2, y: 12, class: "unit" }, "kg"));
  for (let ago = CHART_S; ago >= 0; ago -= 5) {
    const tx = x(tEnd - ago);
    kids.push(s("line", { x1: tx, x2: tx, y1: H - B, y2: H - B + 4, class: "axis" }));
    kids.push(s("text", { x: tx, y: H - 6, "text-anchor": ago === CHART_S ? "start" : ago === 0 ? "end" : "middle" },
                ago === 0 ? "now" : `−${ago} s`));
  }
  kids.push(s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  if (pts.length > 1) {
    let d = "", pen = false;
    for (const [t, kg] of live.points) {
      if (t < tStart) continue;
      if (kg === null) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${x(t).toFixed(1)} ${y(kg).toFixed(1)}`; pen = true;
    }
    kids.push(s("path", { d, class: "line" }));
  }
  const near = (t) => { let best = null; for (const p of pts) if (best === null || Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p; return best; };
  for (const [t, kind] of live.marks) {
    if (t < tStart) continue;
    if (kind === "breath") { const p = near(t); if (p) kids.push(s("circle", { cx: x(t), cy: y(p[1]), r: 4, class: "breath" })); }
    else if (kind === "bounce") {
      kids.push(s("line", { x1: x(t), x2: x(t), y1: T, y2: H - B, class: "bounce" }));
      const late = x(t) > W - R - 48;   // near "now" the word goes to the line's left, inside the chart
      kids.push(s("text", { x: x(t) + (late ? -3 : 3), y: T + 10, "text-anchor": late ? "end" : "start", class: "bounce-label" }, "bounce"));
    } else if (kind === "hold_complete") {
      kids.push(s("line", { x1: x(t), x2: x(t), y1: T, y2: H - B, class: "complete" }));
      kids.push(s("text", { x: x(t) - 3, y: T + 10, "text-anchor": "end", class: "complete-label" }, "target"));
    }
  }
  svg.replaceChildren(...kids);
}
let queued = false;
const queue = () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; render(); drawChart(); live.listeners.forEach((fn) => fn(live)); }); } };

// ---- the stream ----------------------------------------------------------------------------
export function connState(state, text) { const c = $("conn"); c.dataset.state = state; setText(c, text); document.body.classList.toggle("stale", state === "lost"); }

export function connect() {
  if (live.source) live.source.close();
  clearTimeout(live.retry);
  const src = live.source = new EventSource("/api/stream");  // the session cookie goes with it
  src.onopen = () => connState("live", "live");
  src.onerror = () => {
    connState("lost", "connection lost, retrying…");
    // The browser retries a dropped stream itself (retry: 2 s), but gives up after an HTTP error
    // (a device restarting answers 503): then open a fresh stream every 3 s until one holds.
    if (src.readyState === EventSource.CLOSED) live.retry = setTimeout(connect, 3000);
  };
  const got = () => { live.lastMessage = Date.now(); };
  src.addEventListener("state", (m) => {
    got();
    const d = JSON.parse(m.data);
    if (d.history) {
      live.points = []; live.marks = []; live.t = null;
      for (const [t, kg] of d.history) addPoint(t, kg);
      replay(d.events || []);
      live.cueId = undefined;
    }
    live.status = d.status || {};
    queue();
  });
  src.addEventListener("sample", (m) => { got(); const d = JSON.parse(m.data); addPoint(d.t, d.kg); live.status = d.status || {}; queue(); });
  src.addEventListener("event", (m) => { got(); const d = JSON.parse(m.data); if (d.status) live.status = d.status; onEvent(d.event); queue(); });
}

setInterval(() => {  // an open stream that has gone quiet: say so rather than show old numbers as live
  if ($("conn").dataset.state === "live" && live.lastMessage && Date.now() - live.lastMessage > 15000) connState("quiet", "no news from the step");
  else if ($("conn").dataset.state === "quiet" && Date.now() - live.lastMessage < 15000) connState("live", "live");
}, 2000);

// ---- today, on the Now page ----------------------------------------------------------------------
let todayText = "";
/** Today's line under the live view, from the same daily history the History page shows; a bounce
 *  in the hold under way is said apart (it counts once the stretch ends). */
function showTodayLine() {
  const st = live.status, now = (st.state === "holding" || st.state === "stretching") ? Number(st.bounces) || 0 : 0;
  setText($("now-today"), todayText + (now ? ` · this hold has ${plural(now, "bounce")}: it will count as bounced` : ""));
}

export async function loadToday() {
  const list = $("recent");
  try {
    const { days } = await api("/api/history?days=1");
    const d = days[days.length - 1];
    const { stretches } = await api(`/api/history/${d.day}`);
    const goal = d.goal ? `${d.routines} of ${d.goal} routines · ` : "";
    todayText = `${goal}${d.clean} clean, ${d.bounced} bounced ${d.clean + d.bounced === 1 ? "hold" : "holds"}`;
    showTodayLine();
    if (!stretches.length) { list.replaceChildren(h("li", { class: "empty", text: "No stretches yet today." })); return; }
    list.replaceChildren(...stretches.slice(-12).reverse().map((x) => {
      const b = x.breaths_sure === false ? `~${x.breaths}` : String(x.breaths);
      const verdict = x.bounces ? plural(x.bounces, "bounce") : x.completed ? "✓ held" : "short";
      return h("li", {},
        h("span", { class: "when", text: clock(x.wall) }),
        h("span", { class: "what", text: `${slotShort(x)} · ${fmt(x.hold_s, 0)} s · ${b} breath${x.breaths === 1 ? "" : "s"}` }),
        h("span", { class: x.bounces ? "bad" : x.completed ? "ok" : "short", text: verdict }));
    }));
  } catch (e) { say($("now-today"), e.message, true); }
}

export function initNow() {
  const btn = $("sound");
  const show = () => {
    const on = sound.soundOn();
    btn.setAttribute("aria-pressed", String(on));
    setText(btn, on ? "Sound on" : sound.wantsSound() ? "Tap for sound" : "Sound off");
  };
  btn.addEventListener("click", async () => { if (sound.soundOn()) sound.disable(); else await sound.enable(); show(); });
  sound.onChange(show);
  show();
  const note = $("wake-note");
  note.textContent = sound.canWake() ? "The screen stays on while you are on the step."
    : "This browser cannot keep the screen on here (the page is not on https). Set your phone's auto-lock to a few minutes while you stretch.";
  $("suggest-yes").addEventListener("click", async () => {
    try { await api(`/api/profiles/${$("suggest-yes").dataset.id}/activate`, { method: "POST", json: {} }); }
    catch (e) { showAlert("Not switched", e.message, "bad", 3500); }
  });
  window.addEventListener("resize", queue);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") render(); });
}
