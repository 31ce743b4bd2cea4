// Init script for the browser tests: records every oscillator the page starts (pitch, type and
// the AudioContext's state, so a cue really played) and every word the Now page showed, in order.
window.__tones = [];
const AC = window.AudioContext || window.webkitAudioContext;
if (AC) {
  const make = AC.prototype.createOscillator;
  AC.prototype.createOscillator = function () {
    const osc = make.call(this), ctx = this, start = osc.start.bind(osc);
    osc.start = (when) => {
      window.__tones.push({ hz: osc.frequency.value, type: osc.type, state: ctx.state });
      return start(when);
    };
    return osc;
  };
}
window.__states = [];
document.addEventListener("DOMContentLoaded", () => {
  const word = document.getElementById("state-word");
  new MutationObserver(() => {
    const s = word.dataset.state;
    if (window.__states[window.__states.length - 1] !== s) window.__states.push(s);
  }).observe(word, { attributes: true, childList: true, characterData: true, subtree: true });
});
window.__wake = 0;
if (navigator.wakeLock) {
  const request = navigator.wakeLock.request.bind(navigator.wakeLock);
  navigator.wakeLock.request = (kind) => { window.__wake += 1; return request(kind); };
}
