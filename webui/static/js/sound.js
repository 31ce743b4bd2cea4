// Cues from the phone: WebAudio tones (switched on by a tap, as browsers require), optional
// speech, and keeping the screen awake during a session where the browser allows it.
//
// Wake Lock needs a secure context (https, or localhost). A phone opening the device over plain
// http on the LAN has none, so the fallback is honest: the page says the screen may sleep and
// how to stop that (a longer auto-lock while stretching). Nothing is faked with hidden video.

const PREF = "stretchstep.sound";
const SPEAK = "stretchstep.speak";

// [frequency Hz, seconds, gap after] per cue; distinct in pitch and rhythm so each is known by ear.
const TONES = {
  hold_complete: [[660, 0.18, 0.06], [880, 0.35, 0]],
  bounce: [[220, 0.12, 0.05], [220, 0.12, 0.05], [220, 0.12, 0]],
  switch_legs: [[523, 0.15, 0.08], [659, 0.15, 0.08], [523, 0.25, 0]],
  routine_done: [[523, 0.14, 0.02], [659, 0.14, 0.02], [784, 0.14, 0.02], [1047, 0.45, 0]],
  rest_over: [[880, 0.2, 0]],
  ready: [[587, 0.12, 0]],
};
const WORDS = {
  hold_complete: "Hold complete. Ease off slowly.",
  bounce: "Don't bounce. Hold still.",
  routine_done: "Routine done. Well done.",
  rest_over: "Rest over.",
};

let ctx = null;
let wake = null;
const listeners = new Set();

export const soundOn = () => !!ctx && ctx.state === "running";
export const wantsSound = () => localStorage.getItem(PREF) === "on";
let tonesAllowed = true;   // the device's "phone sounds" setting
export const speaks = () => localStorage.getItem(SPEAK) === "on";
/** The device's settings for phone cues: spoken words, and tones at all. */
export function configure({ spoken, tones }) {
  localStorage.setItem(SPEAK, spoken ? "on" : "off");
  tonesAllowed = tones !== false;
}
export const onChange = (fn) => listeners.add(fn);
const changed = () => listeners.forEach((fn) => fn());

/** Called from a tap: create or resume the AudioContext, and play a short "ready" tone. */
export async function enable() {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return false;
  if (!ctx) ctx = new AC();
  if (ctx.state !== "running") { try { await ctx.resume(); } catch (e) { /* stays suspended */ } }
  localStorage.setItem(PREF, "on");
  play("ready");
  changed();
  return soundOn();
}

export function disable() {
  localStorage.setItem(PREF, "off");
  if (ctx) ctx.suspend();
  changed();
}

/** Play the cue's tones (when sound is on) and say its words (when speech is on). */
export function cue(kind, words) {
  play(kind);
  const text = words || WORDS[kind];
  if (speaks() && text && window.speechSynthesis) {
    const u = new SpeechSynthesisUtterance(text);
    u.rate = 0.95;
    window.speechSynthesis.speak(u);
  }
}

function play(kind) {
  const tones = TONES[kind];
  if (!tones || !soundOn() || !tonesAllowed) return;
  let at = ctx.currentTime + 0.02;
  for (const [hz, dur, gap] of tones) {
    const osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.type = kind === "bounce" ? "square" : "sine";
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(kind === "bounce" ? 0.25 : 0.45, at + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + dur + 0.02);
    at += dur + gap;
  }
}

// ---- the screen ------------------------------------------------------------------------------
export const canWake = () => window.isSecureContext && "wakeLock" in navigator;

/** Keep the screen on while someone is on the step (where the browser allows it). */
export async function keepAwake(on) {
  if (!canWake()) return false;
  if (on && !wake && document.visibilityState === "visible") {
    try {
      wake = await navigator.wakeLock.request("screen");
      wake.addEventListener("release", () => { wake = null; });
    } catch (e) { wake = null; }
  } else if (!on && wake) {
    const w = wake; wake = null; w.release();
  }
  return !!wake;
}
