// Small DOM helpers shared by every page. Text goes in with textContent, never as markup, so
// nothing from an event or a note can become markup.
export const $ = (id) => document.getElementById(id);

export const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };

/** An element with attributes (and optional text / children). */
export function h(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "text") n.textContent = v; else n.setAttribute(k, v === true ? "" : v);
  }
  n.append(...kids);
  return n;
}

const SVG = "http://www.w3.org/2000/svg";
/** An SVG element; numbers are rounded so the markup stays small. */
export function s(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, typeof v === "number" ? +v.toFixed(1) : v);
  if (text !== undefined) n.textContent = text;
  return n;
}

export const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(+x)) ? "–" : Number(x).toFixed(d);
/** A stretch's leg and knee for a list ("left bent"); "stretch" when no routine slot was known. */
export const slotShort = (x) => x.leg ? `${x.leg} ${x.knee || ""}`.trim() : "stretch";
export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
export const clock = (wall) => new Date(wall * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
export const dayName = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });

/** A message line: text, and whether it is an error. */
export function say(el, text, bad = false) {
  el.classList.toggle("err", !!bad);
  el.classList.toggle("ok", !bad && !!text);
  el.textContent = text;
}

/** An axis step: the first of 1, 2, 5, 10, 20, 50, … at least `raw` and `least` (so a chart
 *  gets a handful of round labels, however big its numbers). */
export function niceStep(raw, least = 1) {
  const want = Math.max(least, raw);
  for (let mag = 1; ; mag *= 10) for (const m of [1, 2, 5]) if (m * mag >= want) return m * mag;
}

/** The viewBox width that keeps text its size in a box the stylesheet shapes (phone or desktop). */
export function fitWidth(svg, height) {
  const r = svg.getBoundingClientRect();
  const w = r.width && r.height ? Math.max(300, Math.round(height * r.width / r.height)) : 360;
  svg.setAttribute("viewBox", `0 0 ${w} ${height}`);
  return w;
}
