// Log pain: two 0–10 sliders that start unset (a default value would be a made-up answer), a
// note, one tap to save; recent entries can be edited and deleted (both need the access code).
import { $, h, clock, say } from "./dom.js";
import { api, NeedsCode } from "./net.js";

let editing = null;   // the entry id being edited, or null for a new entry

const slider = (id) => $(id);
const isSet = (id) => !slider(id).classList.contains("unset");
function setSlider(id, value) {
  const el = slider(id);
  if (value === null || value === undefined) { el.classList.add("unset"); el.value = "5"; $(`${id}-out`).textContent = "not set"; el.removeAttribute("aria-valuetext"); return; }
  el.classList.remove("unset"); el.value = String(value);
  $(`${id}-out`).textContent = `${value} of 10`;
  el.setAttribute("aria-valuetext", `${value} of 10`);
}

function resetForm() {
  editing = null;
  setSlider("pain", null); setSlider("stiffness", null);
  $("note").value = "";
  $("pain-save").textContent = "Save";
  $("pain-cancel").hidden = true;
}

export async function loadPain() {
  const list = $("pain-list");
  try {
    const { entries } = await api(`/api/pain?since=${Math.floor(Date.now() / 1000) - 14 * 86400}`);
    if (!entries.length) { list.replaceChildren(h("li", { class: "empty", text: "Nothing logged in the last two weeks." })); return; }
    list.replaceChildren(...entries.slice(-10).reverse().map(entryRow));
  } catch (e) { list.replaceChildren(h("li", { class: "msg err", text: e.message })); }
}

function entryRow(p) {
  const when = `${new Date(p.wall * 1000).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" })} ${clock(p.wall)}`;
  const what = `pain ${p.pain}` + (p.stiffness !== null && p.stiffness !== undefined ? ` · stiffness ${p.stiffness}` : "");
  const edit = h("button", { type: "button", class: "small", "aria-label": `Edit the entry of ${when}`, text: "Edit" });
  const del = h("button", { type: "button", class: "small danger", "aria-label": `Delete the entry of ${when}`, text: "Delete" });
  const li = h("li", { "data-id": String(p.id) },
               h("div", { class: "entry-text" }, h("span", { class: "when", text: when }), h("span", { text: what }),
                 p.note ? h("span", { class: "note", text: p.note }) : ""),
               h("div", { class: "entry-buttons" }, edit, del));
  edit.addEventListener("click", () => {
    editing = p.id;
    setSlider("pain", p.pain); setSlider("stiffness", p.stiffness);
    $("note").value = p.note || "";
    $("pain-save").textContent = "Save changes";
    $("pain-cancel").hidden = false;
    say($("pain-msg"), `Editing the entry of ${when}.`);
    $("pain").focus();
  });
  del.addEventListener("click", () => confirmDelete(li, p, when));
  return li;
}

function confirmDelete(li, p, when) {
  const yes = h("button", { type: "button", class: "small danger", text: "Yes, delete" });
  const no = h("button", { type: "button", class: "small", text: "Keep it" });
  const ask = h("div", { class: "confirm", role: "group", "aria-label": "confirm delete" }, h("span", { text: "Delete this entry?" }), yes, no);
  li.append(ask);
  yes.focus();
  no.addEventListener("click", () => ask.remove());
  yes.addEventListener("click", async () => {
    try {
      await api(`/api/pain/${p.id}`, { method: "DELETE" });
      say($("pain-msg"), `Deleted the entry of ${when}.`);
      if (editing === p.id) resetForm();
      loadPain();
    } catch (e) { ask.remove(); say($("pain-msg"), e.message, true); }
  });
}

export function initPain(onSaved) {
  for (const id of ["pain", "stiffness"]) {
    const el = slider(id);
    const touch = () => setSlider(id, +el.value);
    el.addEventListener("input", touch);
    el.addEventListener("change", touch);
    el.addEventListener("pointerdown", () => setTimeout(touch, 0));  // a tap on the unset thumb's own spot sets it too
  }
  $("pain-cancel").addEventListener("click", () => { resetForm(); say($("pain-msg"), ""); });
  $("pain-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const msg = $("pain-msg");
    if (!isSet("pain")) { say(msg, "Set your back pain first: tap or slide the first bar.", true); $("pain").focus(); return; }
    const json = { pain: +$("pain").value, stiffness: isSet("stiffness") ? +$("stiffness").value : null, note: $("note").value.trim() };
    $("pain-save").disabled = true;
    try {
      const res = editing === null ? await api("/api/pain", { method: "POST", json })
        : await api(`/api/pain/${editing}`, { method: "PUT", json });
      say(msg, editing !== null ? "Changes saved." : res.message ? `Saved: ${res.message}.` : "Saved.");
      resetForm();
      loadPain();
      if (onSaved) onSaved();
    } catch (err) { say(msg, err instanceof NeedsCode ? "Not saved: logging pain needs the access code." : err.message, true); }
    finally { $("pain-save").disabled = false; }
  });
  resetForm();
}
