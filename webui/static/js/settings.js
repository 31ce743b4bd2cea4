// Settings behind the access code: profile, body weight, tighter side, protocol and targets,
// daily goal, sounds; tare and calibrate as a guided flow with the live reading.
import { $, h, setText, fmt, say } from "./dom.js";
import { api, login, logout, newCode, session, tooManyTries, NeedsCode } from "./net.js";
import { onLive } from "./now.js";
import * as sound from "./sound.js";

const STILL_KG = 0.8;   // the spread the device accepts for a tare (firmware.calibration.STILL_KG)
const COUNT_S = 3;
let settings = {};
let stillNow = null;

const list = (data, key) => Array.isArray(data) ? data : (data[key] || []);

export async function loadSettings() {
  showAuth();
  const msg = $("settings-msg");
  try {
    const [st, protocols, profiles] = await Promise.all([api("/api/settings"), api("/api/protocols"), api("/api/profiles")]);
    settings = st.settings || st;
    fillSelect($("s-protocol"), list(protocols, "protocols"), settings.protocol);
    const profs = list(profiles, "profiles");
    const active = profiles.active ?? profiles.active_id ?? (profs.find((p) => p.active) || {}).id;
    fillSelect($("s-profile"), profs, active);
    $("s-body").value = settings.body_kg ?? "";
    showBodyInUse(settings);
    for (const r of document.querySelectorAll("input[name=tighter]")) r.checked = r.value === settings.tighter_side;
    $("s-target").value = settings.target_s ?? "";
    $("s-breaths").value = settings.target_breaths ?? 0;
    $("s-goal").value = settings.daily_goal ?? "";
    $("s-buzzer").checked = !!settings.buzzer;
    $("s-phone").checked = settings.phone_sounds !== false;
    $("s-spoken").checked = !!settings.spoken_cues;
    sound.configure({ spoken: !!settings.spoken_cues, tones: settings.phone_sounds });
  } catch (e) { say(msg, e.message, true); }
}

/** Which weight the detector is told, as firmware.routine.profiles.body_kg_in_use decides: the one
 *  entered here wins; empty falls back to the config file's [person] body_kg, if it has one. */
function showBodyInUse(st) {
  const fallback = st.body_kg_default ? `the config file's ${fmt(st.body_kg_default, 1)} kg` : "not given";
  $("s-body").dataset.empty = fallback;
  const emptied = st.body_kg_default ? `empty it to use ${fallback}` : "empty it and the step goes without one";
  const said = { profile: `The step uses ${fmt(st.body_kg_in_use, 1)} kg, entered here; ${emptied}.`,
                 config: `Empty: the step uses ${fallback}. A weight entered here wins.`,
                 none: "Empty: the step works without it. A weight makes it stricter about foot shifts." };
  setText($("s-body-use"), said[st.body_kg_from] || "");
}

function fillSelect(sel, items, current) {
  sel.replaceChildren(...items.map((p) => h("option", { value: String(p.id), selected: String(p.id) === String(current), text: p.name || String(p.id) })));
}

function showAuth() {
  const ok = session.authenticated;
  setText($("auth-state"), ok ? "This phone holds the access code: changes are allowed." : "Changing settings needs the device's access code.");
  $("auth-login").hidden = ok;
  $("auth-logout").hidden = !ok;
  $("code-change").hidden = !ok;
}

/** A new access code, shown once here (the device keeps only its hash). */
async function makeCode() {
  const msg = $("code-change-msg"), current = $("cur-code").value.trim();
  $("code-new").hidden = true;
  if (!current) { say(msg, "Type the access code in use now first.", true); return; }
  $("make-code").disabled = true;
  try {
    const r = await newCode(current);
    if (r.ok) {
      $("cur-code").value = "";
      setText($("code-new-value"), r.data.access_code);
      setText($("code-new-link"), r.data.link);
      $("code-new").hidden = false;
      say(msg, "Done: the old code no longer works.");
    } else if (r.status === 429) say(msg, tooManyTries(r.data), true);
    else say(msg, r.data.error || `The device refused (${r.status}).`, true);
  } catch (e) { say(msg, "The device did not answer. If the old code stops working, run stretchstep access-code --reset on the device.", true); }
  finally { $("make-code").disabled = false; }
}

/** The first number field outside its own min/max/step, said in the words of its label (the
 *  device's refusal names the API's field: "target_s must be seconds from 5 to 300, or null"). */
function outOfRange() {
  for (const el of $("settings-form").querySelectorAll("input[type=number]")) {
    if (el.checkValidity()) continue;
    const whole = el.step === "1" ? "a whole number " : "";
    const empty = el.dataset.empty ? `, or empty for ${el.dataset.empty}` : "";
    const typed = el.value === "" ? "what was typed" : el.value;
    const label = el.labels[0].textContent;
    if (el.validity.stepMismatch && el.step !== "1" && +el.value >= +el.min && +el.value <= +el.max) {
      return { el, text: `${label} goes in steps of ${el.step}; ${typed} is not.` };   // in range: say what is wrong
    }
    return { el, text: `${label} must be ${whole}from ${el.min} to ${el.max}${empty}; ${typed} is not.` };
  }
  return null;
}

async function save(e) {
  e.preventDefault();
  const msg = $("settings-msg");
  const bad = outOfRange();
  if (bad) { say(msg, bad.text, true); bad.el.focus(); return; }
  const num = (id) => $(id).value === "" ? null : +$(id).value;
  const side = document.querySelector("input[name=tighter]:checked");
  const json = { target_s: num("s-target"), target_breaths: num("s-breaths") ?? 0, protocol: $("s-protocol").value || undefined,
                 daily_goal: num("s-goal"), tighter_side: side ? side.value : undefined, body_kg: num("s-body"),
                 buzzer: $("s-buzzer").checked, phone_sounds: $("s-phone").checked, spoken_cues: $("s-spoken").checked };
  $("s-save").disabled = true;
  try {
    const res = await api("/api/settings", { method: "PUT", json });
    settings = res.settings || res;
    showBodyInUse(settings);
    sound.configure({ spoken: json.spoken_cues, tones: json.phone_sounds });
    say(msg, "Saved. New targets apply from the next hold.");
  } catch (err) { say(msg, err instanceof NeedsCode ? "Not saved: settings need the access code." : err.message, true); }
  finally { $("s-save").disabled = false; }
}

async function activate() {
  const msg = $("settings-msg");
  try {
    await api(`/api/profiles/${encodeURIComponent($("s-profile").value)}/activate`, { method: "POST", json: {} });
    say(msg, `Now stretching as ${$("s-profile").selectedOptions[0].textContent}.`);
    loadSettings();
  } catch (err) { say(msg, err.message, true); loadSettings(); }
}

async function addProfile() {
  const msg = $("settings-msg"), name = $("s-new-profile").value.trim();
  if (!name) { say(msg, "Type a name for the new profile first.", true); return; }
  try {
    await api("/api/profiles", { method: "POST", json: { name } });
    $("s-new-profile").value = "";
    say(msg, `Added ${name}. Choose it above to stretch as them.`);
    loadSettings();
  } catch (err) { say(msg, err.message, true); }
}

// ---- tare and calibrate --------------------------------------------------------------------
/** The calibration in use, as the sampler reports it in the live status (null: no sensor). */
function showCalibration(cal) {
  $("cal-flow").hidden = !cal;
  if (!cal) { setText($("cal-last"), "No sensor to tare or calibrate here: the input is simulated or replayed."); return; }
  const tared = cal.tared_at ? `; last tare ${cal.tared_at.replace("T", " ").slice(0, 16)}` : "";
  setText($("cal-last"), cal.calibrated
    ? `Last calibration: ${cal.calibrated_at.replace("T", " ").slice(0, 16)}${cal.known_kg ? ` with ${fmt(cal.known_kg, 1)} kg` : ""}${tared}.`
    : `Not calibrated yet: the figures use a default scale${tared}.`);
}

let stepState = null;
function watchReading(live) {
  stepState = live.status.state || null;
  showCalibration(live.status.calibration || null);
  setText($("cal-kg"), `${fmt(live.status.kg, 2)} kg`);
  const t = live.t, recent = live.points.filter((p) => p[1] !== null && p[0] >= t - 2).map((p) => p[1]);
  const el = $("cal-still");
  if (recent.length < 5) { stillNow = null; el.dataset.still = "unknown"; setText(el, "waiting for readings"); return; }
  const spread = Math.max(...recent) - Math.min(...recent);
  stillNow = spread <= STILL_KG;
  el.dataset.still = stillNow ? "still" : "moving";
  setText(el, stillNow ? `still (±${fmt(spread / 2, 2)} kg)` : `moving (${fmt(spread, 1)} kg in 2 s)`);
}

async function guided(what, call) {
  const msg = $("sensor-msg"), count = $("cal-count");
  if (!session.authenticated && !(await login())) { say(msg, `Not done: ${what} needs the access code.`, true); return; }
  for (const id of ["tare", "calibrate"]) $(id).disabled = true;
  try {
    for (let n = COUNT_S; n > 0; n--) {
      setText(count, `Keep the step still: ${n}…`);
      await new Promise((r) => setTimeout(r, 1000));
      if (stillNow === false) { say(msg, "Something moved. Wait until the reading says still, then try again.", true); return; }
    }
    setText(count, "Measuring…");
    const res = await call();
    const r = res.result || res;
    say(msg, r.message || `${what} done.`);
  } catch (err) { say(msg, err.message, true); }
  finally { setText(count, ""); for (const id of ["tare", "calibrate"]) $(id).disabled = false; }
}

export function initSettings() {
  $("settings-form").addEventListener("submit", save);
  $("s-profile").addEventListener("change", activate);
  $("s-add-profile").addEventListener("click", addProfile);
  $("make-code").addEventListener("click", makeCode);
  $("auth-logout").addEventListener("click", async () => { await logout(); say($("settings-msg"), "This phone has forgotten the code."); });
  document.addEventListener("auth-changed", showAuth);
  onLive(watchReading);
  $("tare").addEventListener("click", () => {
    if (stepState !== "empty") { say($("sensor-msg"), "Clear the step first: the device tares only an empty step.", true); return; }
    guided("Tare", () => api("/api/tare", { method: "POST", json: {} }));
  });
  $("calibrate").addEventListener("click", () => {
    const kg = +$("known").value;
    if (!(kg >= 0.5 && kg <= 500)) { say($("sensor-msg"), "Enter the known weight in kg (0.5 to 500).", true); return; }
    guided("Calibration", () => api("/api/calibrate", { method: "POST", json: { known_kg: kg } }));
  });
}
