// The History page: today against the goal, four weeks of per-day bars with pain and
// stiffness on their own axis, per side and knee trends, and each day's sessions with the
// device's force-trace plot.
import { $, h, s, say, setText, fmt, plural, clock, dayName, fitWidth, slotShort, niceStep } from "./dom.js";
import { api, answer, NeedsCode } from "./net.js";

const DAYS = 28;
const PHONE_PLOT_PX = 720;   // below this width of screen, the plot is asked for 720 px wide

/** The export links work as links (a long press can still save one), but a tap fetches the file
 *  with this browser's session and saves what came: with closed reads and no session (the device
 *  restarted, the code was changed) a plain link would save the device's refusal under the
 *  export's name. A refusal asks for the code like any read; a failure is said beside the links. */
export function initHistory() {
  for (const id of ["dl-csv", "dl-json"]) $(id).addEventListener("click", download);
}

async function download(e) {
  e.preventDefault();
  const link = e.currentTarget, msg = $("dl-msg");
  say(msg, "Getting the file from the step…");
  try {
    const res = await answer(link.getAttribute("href"));
    saveAs(await res.blob(), fileName(res) || link.dataset.file);
    say(msg, "");
  } catch (err) {
    say(msg, err instanceof NeedsCode ? "Not downloaded: the history needs the access code." : `Not downloaded: ${err.message}`, true);
  }
}

function fileName(res) {
  const m = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  return m ? m[1] : null;
}

function saveAs(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);   // the save has its copy by then
}

export async function loadHistory() {
  let data;
  try { data = await api(`/api/history?days=${DAYS}`); } catch (e) {
    const empty = $("weeks-empty");
    empty.classList.add("err"); empty.textContent = e.message; empty.hidden = false; return;
  }
  const days = data.days || [];
  const today = days[days.length - 1] || {};
  setText($("t-routines"), String(today.routines ?? 0));
  setText($("t-goal"), today.goal ? `of ${today.goal}` : "");
  setText($("t-streak"), String(data.streak ?? 0));
  setText($("t-clean"), String(today.clean ?? 0));
  setText($("t-bounced"), String(today.bounced ?? 0));
  $("t-bounced").classList.toggle("bad", (today.bounced || 0) > 0);
  drawWeeks(days);
  showTrends(data.trends || {});
  showDays(days);
}

// ---- four weeks of bars ------------------------------------------------------------------
function drawWeeks(days) {
  const svg = $("weeks");
  const H = 170, L = 30, R = 30, T = 24, B = 24, W = fitWidth(svg, H);
  const any = days.some((d) => d.holds || d.pain !== null && d.pain !== undefined || d.stiffness != null);
  $("weeks-empty").hidden = any;
  const empty = $("weeks-empty");
  empty.classList.remove("err");
  empty.textContent = "Nothing recorded in the last 4 weeks yet. Stretches show here as bars once the step has seen them, and pain you log shows as dots.";
  const most = Math.max(4, ...days.map((d) => d.holds || 0));
  const step = niceStep(most / 4, 2);   // at most ~5 labels up the side, however busy the day
  const top = Math.ceil(most / step) * step;
  const slot = (W - L - R) / Math.max(1, days.length);
  const yH = (n) => H - B - (H - B - T) * n / top;
  const yP = (v) => H - B - (H - B - T) * v / 10;
  const kids = [];
  for (let v = 0; v <= top; v += step) {
    kids.push(s("line", { x1: L, x2: W - R, y1: yH(v), y2: yH(v), class: "grid" }));
    kids.push(s("text", { x: L - 4, y: yH(v) + 4, "text-anchor": "end" }, String(v)));
  }
  for (let v = 0; v <= 10; v += 5) kids.push(s("text", { x: W - R + 4, y: yP(v) + 4, class: "pain-axis" }, String(v)));
  kids.push(s("text", { x: 2, y: 12, class: "unit" }, "holds"));
  kids.push(s("text", { x: W - 2, y: 12, "text-anchor": "end", class: "unit pain-axis" }, "pain 0–10"));
  days.forEach((d, i) => {
    const x = L + i * slot + slot * 0.15, w = slot * 0.7;
    const clean = d.clean || 0, bounced = d.bounced || 0;
    if (clean) kids.push(s("rect", { x, y: yH(clean), width: w, height: yH(0) - yH(clean), class: "bar" }));
    if (bounced) kids.push(s("rect", { x, y: yH(clean + bounced), width: w, height: yH(0) - yH(bounced), class: "bar-bad" }));
    if (i % 7 === (days.length - 1) % 7) kids.push(s("text", { x: x + w / 2, y: H - 8, "text-anchor": "middle" }, dayName(d.day).replace(/^\w+,? /, "")));
  });
  kids.push(s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  for (const [key, cls] of [["pain", "pain"], ["stiffness", "stiff"]]) {
    let run = [];  // consecutive days with an entry are joined; a day without one is a gap
    const flush = () => { if (run.length > 1) kids.push(s("polyline", { points: run.map((p) => p.join(",")).join(" "), class: `${cls}-line` })); run = []; };
    days.forEach((d, i) => {
      const v = d[key];
      if (v === null || v === undefined) { flush(); return; }
      const p = [+(L + i * slot + slot / 2).toFixed(1), +yP(v).toFixed(1)];
      run.push(p);
      kids.push(s("circle", { cx: p[0], cy: p[1], r: 3, class: `${cls}-dot` }));
    });
    flush();
  }
  svg.replaceChildren(...kids);
}

// ---- per side and knee -------------------------------------------------------------------
/** {side: {knee: [{day, share, holds}]}} -> a row per side and knee: holds, the last week's share,
 *  and whether it is rising (the calf giving more) comparing the older half of the days with the newer. */
function showTrends(trends) {
  const rows = [];
  for (const [side, knees] of Object.entries(trends)) {
    for (const [knee, points] of Object.entries(knees || {})) {
      if (!Array.isArray(points) || !points.length) continue;
      const holds = points.reduce((n, p) => n + (p.holds || 0), 0);
      const recent = points.slice(-7).filter((p) => p.share !== null);
      const share = recent.length ? recent.reduce((a, p) => a + p.share, 0) / recent.length : null;
      const half = Math.floor(points.length / 2);
      const mean = (ps) => ps.reduce((a, p) => a + p.share, 0) / ps.length;
      const slope = half ? mean(points.slice(half)) - mean(points.slice(0, half)) : null;
      rows.push([`${side} leg, knee ${knee}`, holds, share, slope]);
    }
  }
  const body = $("trends").tBodies[0];
  body.replaceChildren(...rows.map(([name, holds, share, slope]) => {
    const arrow = slope === null ? "too few days" : slope > 0.01 ? "↑ rising" : slope < -0.01 ? "↓ falling" : "→ steady";
    return h("tr", {}, h("th", { scope: "row", text: name }), h("td", { text: String(holds) }),
             h("td", { text: share === null ? "–" : `${Math.round(share * 100)} %` }), h("td", { text: arrow }));
  }));
  $("trends-empty").hidden = rows.length > 0;
  $("trends").hidden = rows.length === 0;
}

// ---- days, their sessions, a session's plot ---------------------------------------------------
function dayLine(d) {
  const parts = [];
  if (d.goal) parts.push(`${d.routines || 0} of ${d.goal} routines`);
  parts.push(plural(d.holds || 0, "hold") + (d.bounced ? ` (${d.bounced} bounced)` : ""));
  if (d.pain !== null && d.pain !== undefined) parts.push(`pain ${d.pain}`);
  if (d.stiffness !== null && d.stiffness !== undefined) parts.push(`stiffness ${d.stiffness}`);
  return parts.join(" · ");
}

function showDays(days) {
  const shown = days.filter((d) => d.holds || d.pain != null || d.stiffness != null).reverse();
  const list = $("day-list");
  if (!shown.length) { list.replaceChildren(h("li", { class: "empty", text: "No days with stretches or pain entries yet." })); return; }
  list.replaceChildren(...shown.map((d) => {
    const btn = h("button", { type: "button", class: "day", "aria-expanded": "false" },
                  h("b", { text: dayName(d.day) }), h("span", { text: dayLine(d) }));
    const box = h("div", { class: "sessions", hidden: true });
    btn.addEventListener("click", () => toggleDay(d, btn, box));
    return h("li", {}, btn, box);
  }));
}

async function toggleDay(d, btn, box) {
  const open = btn.getAttribute("aria-expanded") !== "true";
  btn.setAttribute("aria-expanded", String(open));
  box.hidden = !open;
  if (!open || box.childElementCount) return;
  box.append(h("p", { class: "label", text: "Loading…" }));
  try {
    const day = await api(`/api/history/${d.day}`);
    box.replaceChildren();
    if (!day.sessions.length) { box.append(h("p", { class: "label", text: "No stretches on this day." })); return; }
    for (const sess of day.sessions) box.append(sessionRow(sess.id, day.stretches.filter((x) => x.session_id === sess.id), d.day));
  } catch (e) { box.replaceChildren(h("p", { class: "msg err", text: e.message })); }
}

function sessionRow(id, items, day) {
  const clean = items.filter((x) => x.completed && !x.bounces).length;
  const bounced = items.filter((x) => x.bounces).length;
  const btn = h("button", { type: "button", class: "session", "aria-expanded": "false" },
                h("b", { text: `${clock(items[0].wall)}–${clock(items[items.length - 1].wall)}` }),
                h("span", { text: `${plural(items.length, "stretch")}`.replace("stretchs", "stretches") + `, ${clean} clean, ${bounced} bounced` }));
  const detail = h("div", { class: "session-detail", hidden: true });
  btn.addEventListener("click", () => {
    const open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    detail.hidden = !open;
    if (open && !detail.childElementCount) {
      // a phone gets a narrower plot drawn at its own size, scrolled sideways: the 1200 px one
      // shrunk to the screen made its labels 3 px high
      const narrow = matchMedia(`(max-width: ${PHONE_PLOT_PX}px)`).matches;
      const img = h("img", { src: `/api/sessions/${id}/plot.svg?day=${day}${narrow ? `&width=${PHONE_PLOT_PX}` : ""}`,
                             alt: `force on the step during session ${id}, with its stretches, breaths and bounces marked`,
                             class: narrow ? "plot natural" : "plot" });
      const link = h("a", { href: img.getAttribute("src"), target: "_blank", rel: "noopener", class: "plot-link",
                            "aria-label": "open the force trace full size" }, img);
      img.addEventListener("error", () => link.replaceWith(h("p", { class: "label", text: "No force trace was kept for this session (the device keeps raw samples for a few days)." })));
      detail.append(link,
                    h("ol", { class: "recent" }, ...items.map((x) => h("li", {},
                      h("span", { class: "when", text: clock(x.wall) }),
                      h("span", { class: "what", text: `${slotShort(x)} · ${fmt(x.hold_s, 0)} s · ${x.breaths_sure === false ? "~" : ""}${x.breaths} breaths` }),
                      h("span", { class: x.bounces ? "bad" : x.completed ? "ok" : "short", text: x.bounces ? plural(x.bounces, "bounce") : x.completed ? "✓ held" : "short" })))));
    }
  });
  return h("div", { class: "session-box" }, btn, detail);
}
