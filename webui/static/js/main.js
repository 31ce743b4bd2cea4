// stretchstep dashboard: pages by the URL's #hash, one EventSource for the live state, fetch for
// the rest. No libraries: all of it is served by the device.
import { $ } from "./dom.js";
import { api, loadSession, login, loginWithLinkCode, session, takeLinkCode } from "./net.js";
import { configure } from "./sound.js";
import { connState, connect, initNow, loadToday } from "./now.js";
import { initHistory, loadHistory } from "./history.js";
import { initPain, loadPain } from "./pain.js";
import { initSettings, loadSettings } from "./settings.js";

const PAGES = { now: loadToday, history: loadHistory, pain: loadPain, settings: loadSettings };
let started = false;

function route() {
  const name = (location.hash || "#now").slice(1);
  const page = PAGES[name] ? name : "now";
  for (const key of Object.keys(PAGES)) $(`page-${key}`).hidden = key !== page;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.body.dataset.page = page;
  if (started) PAGES[page]();
}

function begin() {
  $("locked").hidden = true;
  document.body.classList.remove("is-locked");
  document.querySelector("main").hidden = false;
  if (started) return;
  started = true;
  connect();
  route();
  // the device's phone-cue settings (spoken words, tones) apply on every page, not only Settings
  api("/api/settings").then((s) => configure({ spoken: !!s.spoken_cues, tones: s.phone_sounds })).catch(() => {});
}

async function start() {
  const linkCode = takeLinkCode();   // first: out of the address bar before anything else runs
  initNow();
  initPain(() => { if (document.body.dataset.page === "history") loadHistory(); });
  initSettings();
  initHistory();
  for (const b of document.querySelectorAll("[data-action=login]")) {
    // After a login, a locked page starts; an open one keeps what the person was typing.
    b.addEventListener("click", async () => { if (await login() && !started) { begin(); route(); } });
  }
  window.addEventListener("hashchange", async () => {
    const code = takeLinkCode();        // the link opened again in this tab: only the hash changed
    if (code === null) { route(); return; }
    route();
    await enter(code);
  });
  route();
  try { await loadSession(); } catch (e) { /* the stream's reconnect shows the device is unreachable */ }
  await enter(linkCode);
}

/** Start the page, or keep it locked. The link `stretchstep run` prints carries the code (`code`,
 * null when none): it logs this phone in, and a wrong one opens the dialog saying why. */
async function enter(code) {
  const refused = await loginWithLinkCode(code);
  if (started || session.openReads || session.authenticated) {
    begin();                            // a page already started stays as it is
    if (refused) login(refused);
    return;
  }
  // Reads are closed: ask once. Cancel leaves a button to ask again, never a dialog on a timer.
  document.querySelector("main").hidden = true;
  $("locked").hidden = false;
  document.body.classList.add("is-locked");
  connState("locked", "locked");
  if (await login(refused)) begin();
}
start();
