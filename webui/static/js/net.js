// Talking to the device: JSON requests, the access-code session (an HttpOnly cookie the device
// sets, plus a CSRF token sent on every write), and the dialog that asks for the code.
import { $ } from "./dom.js";

const auth = { authenticated: false, csrf: null, openReads: true };
export const session = auth;
const WRITES = document.body.dataset.writes === "true";

/** Thrown when a change needs the code and the person chose not to give it. */
export class NeedsCode extends Error {}

function announce() { document.dispatchEvent(new CustomEvent("auth-changed")); }

/** Ask the device whether this browser already holds a session (GET /api/session). */
export async function loadSession() {
  const res = await fetch("/api/session", { headers: { Accept: "application/json" } });
  const d = await res.json();
  Object.assign(auth, { authenticated: !!d.authenticated, csrf: d.csrf_token || null, openReads: d.open_reads !== false });
  announce();
  return auth;
}

export async function logout() {
  try { await fetch("/api/session", { method: "DELETE", headers: headers({}, true) }); } catch (e) { /* offline: forget locally */ }
  auth.authenticated = false; auth.csrf = null; announce();
}

function headers(extra, write) {
  const out = Object.assign({ Accept: "application/json" }, extra);
  if (write && auth.csrf) out["X-CSRF-Token"] = auth.csrf;
  return out;
}

async function body(res) {
  try { return await res.json(); } catch (e) { return {}; }
}

/** fetch + JSON. A write refused for want of the code opens the dialog once, then retries. */
export async function api(path, options = {}) {
  return body(await answer(path, options));
}

/** The device's answer when it is a yes (any kind: a file for a download); else the error that
 *  says why not, after the code dialog for a refusal a code would lift (once, then retried). */
export async function answer(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const write = method !== "GET";
  for (let attempt = 0; ; attempt++) {
    const init = { method, headers: headers({}, write), credentials: "same-origin" };
    if (options.json !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(options.json); }
    let res;
    try { res = await fetch(path, init); } catch (e) { throw new Error("The device did not answer. Is it on, and is this phone on the same network?"); }
    if (res.ok) return res;
    const data = await body(res);
    if ((res.status === 401 || res.status === 403) && attempt === 0) {
      if (write && !WRITES) throw new Error("Changes are switched off on this device: it has no access code set.");
      auth.authenticated = false; announce();
      if (await login()) continue;
      throw new NeedsCode(write ? "Not saved: changes need the access code." : "This needs the access code.");
    }
    if (res.status === 429) throw new Error(tooManyTries(data));
    if (res.status === 404 && (!data.error || data.error.startsWith("no such endpoint"))) throw new Error("This device's software does not offer that yet.");
    throw new Error(data.error || `The device refused (${res.status}).`);
  }
}

/** A write whose refusal is the caller's to explain (no dialog): {ok, status, data}. */
export async function send(path, json) {
  const res = await fetch(path, { method: "POST", credentials: "same-origin",
                                  headers: headers({ "Content-Type": "application/json" }, true), body: JSON.stringify(json) });
  const data = await body(res);
  return { ok: res.ok, status: res.status, data };
}

/** `send`, where an answer that lets this browser in (a new session's cookie and CSRF token) is kept. */
async function sendForSession(path, json) {
  const r = await send(path, json);
  if (r.ok) { auth.csrf = r.data.csrf_token || null; auth.authenticated = true; announce(); }
  return r;
}

/** A new access code made on the page: this browser holds the new session the answer set. */
export function newCode(current) { return sendForSession("/api/access-code", { current_code: current }); }

/** What to tell a person the device makes wait (429) before the next code from this phone. */
export function tooManyTries(data) {
  return `Too many wrong codes from this phone. Try again in ${Math.ceil(data.retry_after_s || 60)} s.`;
}

// ---- the access code: from the link, or typed into the dialog ------------------------------
/** POST the code to /api/session; on success this browser holds the session. {ok, status, data} */
function sendCode(code) { return sendForSession("/api/session", { access_code: code }); }

/** What to tell a person whose code was refused. */
function refusal(r) {
  if (r.status === 429) return tooManyTries(r.data);
  if (r.status === 403 || r.status === 401) return "That code is not right. Check it and try again.";
  return r.data.error || `The device refused (${r.status}).`;
}

/** The code `stretchstep run` put in the link (#code=…), taken out of the address bar at once so
 * it is not left in the history, a bookmark or a screenshot; null when there is none. */
export function takeLinkCode() {
  const m = /^#code=([^&]*)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search);
  try { return decodeURIComponent(m[1]).trim() || null; } catch (e) { return null; }
}

/** Log in with the link's code. "" when let in (or already in, or no code); else the message the
 * sign-in dialog shows. */
export async function loginWithLinkCode(code) {
  if (!code || auth.authenticated) return "";
  let r;
  try { r = await sendCode(code); } catch (e) { return "The device did not answer the link's code. Type the code to try again."; }
  if (r.ok) return "";
  if (r.status === 403 || r.status === 401) return "The code in the link you opened is not this device's access code (an old link?). Type the current code.";
  return refusal(r);
}

let pending = null;

/** Show the dialog (with `message`, if any); resolves true once the device accepted a code, false on Cancel. */
export function login(message = "") {
  if (pending) return pending;
  const dlg = $("code-dialog"), input = $("code-input"), msg = $("code-msg");
  pending = new Promise((resolve) => {
    const done = (ok) => {
      dlg.removeEventListener("cancel", onCancel); $("code-cancel").removeEventListener("click", onCancel);
      $("code-form").removeEventListener("submit", onSubmit);
      if (dlg.open) dlg.close();
      pending = null; resolve(ok);
    };
    const onCancel = (e) => { e.preventDefault(); done(false); };
    const onSubmit = async (e) => {
      e.preventDefault();
      const code = input.value.trim();
      if (!code) { msg.textContent = "Type the code first."; return; }
      msg.textContent = "";
      $("code-ok").disabled = true;
      try {
        const r = await sendCode(code);
        if (r.ok) done(true);
        else { msg.textContent = refusal(r); input.select(); }
      } catch (err) {
        msg.textContent = "The device did not answer. Try again in a moment.";
      } finally { $("code-ok").disabled = false; }
    };
    dlg.addEventListener("cancel", onCancel);
    $("code-cancel").addEventListener("click", onCancel);
    $("code-form").addEventListener("submit", onSubmit);
    input.value = ""; msg.textContent = message;
    dlg.showModal();
    input.focus();
  });
  return pending;
}
