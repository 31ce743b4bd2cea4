"""The dashboard in a real browser (Chromium through pytest-playwright) against `stretchstep run`
on a simulated person, at phone size (390x844) unless a test says otherwise.

Time: the simulated person runs at --speed 8, so a 30 s hold takes ~4 s; waits are on what the
page shows (Playwright's auto-waiting), never fixed sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from firmware.store import Store
from tests.conftest import SCREENS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

SPY = Path(__file__).parent / "browser_js" / "spy.js"


@pytest.fixture
def phone(browser) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    context.add_init_script(path=SPY)
    page = context.new_page()
    watch_errors(page)
    yield page
    context.close()


def watch_errors(page: Page) -> None:
    """page.errors: uncaught script errors and anything the Content-Security-Policy refused."""
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on("console", lambda m: page.errors.append(m.text)  # type: ignore[attr-defined]
            if m.type == "error" and "Content Security Policy" in m.text else None)


def screenshot(page: Page, name: str) -> None:
    """The whole page at phone width, for a person to look at (bench/out/screens/)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    tall = page.evaluate("document.documentElement.scrollHeight")
    # as tall as the page, so the fixed tab bar sits at its foot and not across the middle
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], tall)})
    page.screenshot(path=str(SCREENS / f"{name}.png"))
    page.set_viewport_size(size)


def tones(page: Page) -> list[dict]:
    return page.evaluate("window.__tones")


def test_a_hold_counts_up_completes_with_a_tone_and_shows_breaths(device, phone):
    dev = device("simulated:good_routine", speed=8)
    phone.goto(dev.url)
    expect(phone.locator("#conn")).to_have_text("live")
    phone.locator("#sound").click()                       # the tap browsers need before sound
    expect(phone.locator("#sound")).to_have_text("Sound on")
    word = phone.locator("#state-word")
    expect(word).to_have_text("Holding", timeout=20_000)
    first = int(phone.locator("#hold-time").text_content())
    expect(phone.locator("#hold-time")).not_to_have_text(str(first))   # it counts up
    assert int(phone.locator("#hold-time").text_content()) > first
    expect(phone.locator("#hold-target")).to_have_text("of 30 s")
    expect(phone.locator("#breath-dots span.on").first).to_be_visible(timeout=10_000)
    assert re.fullmatch(r"~?[1-9]\d*", phone.locator("#breaths").text_content())
    assert phone.evaluate("window.__wake") >= 1          # 127.0.0.1 is a secure context: Wake Lock asked
    expect(phone.locator("#wake-note")).to_have_text("The screen stays on while you are on the step.")
    expect(word).to_have_text("Hold complete", timeout=10_000)
    expect(phone.locator("#alert-title")).to_have_text("Hold complete")
    played = [t for t in tones(phone) if t["state"] == "running"]
    assert {660, 880} <= {round(t["hz"]) for t in played}, played   # the hold-complete pair
    chart = phone.locator("#chart")
    expect(chart.locator("path.line")).to_have_count(1)
    expect(chart.locator("text", has_text="now")).to_have_count(1)
    expect(chart.locator("rect.band")).to_have_count(1)           # the hold band
    expect(word).to_have_text("Ready", timeout=15_000)
    expect(phone.locator("#last-hold")).to_contain_text("Last hold:")
    dev.wait_for_stretches(1)
    store = Store(dev.store_path())
    last = store.stretches(limit=1)[0]                              # what the device recorded
    store.close()
    shown = f"{'~' if last['breaths_sure'] is False else ''}{last['breaths']} breath"
    expect(phone.locator("#last-hold")).to_contain_text(shown)       # "~4" only when unsure
    expect(word).to_have_text("Holding", timeout=20_000)                # the next hold, seen from its start
    seen = ",".join(phone.evaluate("window.__states"))            # every word the page showed, in order
    # "Stretching in" never shows on the way out. Easing off lasts a fraction of a second at
    # speed 8 and the page draws once a frame, so on a loaded machine it may fall between two
    # frames: whether the page calls it "Easing off" is asserted below without the clock.
    assert re.search(r"holding,done,(bounce,)?(off,)?ready,(.*,)?in,holding", seen), seen
    words = phone.evaluate("""() => import('/static/js/now.js').then((m) => {
        const held = m.liveState.held, out = {};
        m.liveState.held = true;  out.after_hold = m.phase({ state: 'stretching' });
        m.liveState.held = false; out.before_hold = m.phase({ state: 'stretching' });
        m.liveState.held = held;
        return out; })""")
    assert words == {"after_hold": "off", "before_hold": "in"}
    screenshot(phone, "now")
    assert not phone.errors


def test_a_bouncy_stretch_raises_a_warning_that_names_it(device, phone):
    dev = device("simulated:bouncy", speed=6)
    phone.goto(dev.url)
    phone.evaluate("""() => { const detail = document.getElementById('alert-detail'); window.__alerts = [];
        new MutationObserver(() => window.__alerts.push(detail.textContent))
          .observe(detail, {childList: true, characterData: true, subtree: true}); }""")
    phone.locator("#sound").click()
    expect(phone.locator("#alert-title")).to_have_text("Don’t bounce!", timeout=30_000)
    named = re.compile(r"bounces a second, [\d.]+ kg up and down")
    expect(phone.locator("#alert-detail")).to_contain_text(named)
    phone.set_viewport_size({"width": 844, "height": 390})            # landscape: the alert stays small
    box = phone.locator("#alert").bounding_box()
    assert box is not None and box["height"] < 0.3 * 390, box
    phone.set_viewport_size(PHONE)
    expect(phone.locator("#chart text.bounce-label").first).to_be_visible()
    assert any(t["type"] == "square" and round(t["hz"]) == 220 for t in tones(phone))
    screenshot(phone, "now-bounce")
    # the routine does not count a bounced hold: the page asks for the same slot again, saying why
    again = re.compile(r"^Again: \w+ leg, knee \w+, \d of \d .*\(that one bounced\)$")
    expect(phone.locator("#slot")).to_have_text(again, timeout=30_000)
    said = phone.evaluate("window.__alerts")
    assert "Ease off slowly. It bounced, so this one comes again." in said, said   # told at the target
    assert not phone.errors


SMALL_PHONE = {"width": 360, "height": 740}


def test_on_a_small_phone_a_cue_banner_leaves_the_state_word_readable(device, browser):
    """At 360x740 the banner (role alert) sits above the tab bar, not over the state word: both
    are read from the same frame while a cue shows (the first one, "Ready" or "Hold complete")."""
    dev = device("simulated:good_routine", speed=8)
    context = browser.new_context(viewport=SMALL_PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    watch_errors(page)
    page.goto(dev.url)
    seen = page.wait_for_function("""() => {
        const banner = document.getElementById('alert'), word = document.getElementById('state-word');
        if (banner.hidden) return null;
        const a = banner.getBoundingClientRect(), w = word.getBoundingClientRect();
        return {banner: [a.top, a.bottom], word: [w.top, w.bottom, w.left, w.right], text: word.textContent,
                role: banner.getAttribute('role'), title: document.getElementById('alert-title').textContent,
                height: innerHeight, width: innerWidth}; }""", polling="raf", timeout=30_000).json_value()
    (a_top, a_bottom), (w_top, w_bottom, w_left, w_right) = seen["banner"], seen["word"]
    assert seen["role"] == "alert" and seen["title"] and seen["text"], seen
    assert w_top >= 0 and w_bottom <= seen["height"] and w_left >= 0 and w_right <= seen["width"], seen
    assert w_bottom <= a_top or a_bottom <= w_top, seen                  # no overlap
    assert a_bottom <= page.locator("nav.tabs").bounding_box()["y"] + 0.5, seen   # nor over the tabs
    screenshot(page, "now-cue-small-phone")
    assert not page.errors
    context.close()


def test_an_empty_step_reads_zero_not_minus_a_tenth_and_a_real_negative_load_still_shows(device, phone):
    """The simulated cell's noise (σ 0.05 kg) on the empty step: every figure the page draws as
    "Step on" is "0.0 kg", though the readings themselves (status.kg, what health and MQTT get)
    go past ±0.05 kg. The state word and the figure come from one render, so each frame's pair
    of them is read from the page together."""
    dev = device("simulated:step_on_off", speed=1)
    phone.goto(dev.url)
    expect(phone.locator("#conn")).to_have_text("live")
    phone.evaluate("""() => import('/static/js/now.js').then((m) => {
        window.__kg = []; window.__band = m.ZERO_BAND_KG;
        const look = () => { const st = m.liveState.status;
            window.__kg.push([document.getElementById('state-word').dataset.state,
                              document.getElementById('kg').textContent, st.state, st.kg]);
            requestAnimationFrame(look); };
        requestAnimationFrame(look); })""")
    phone.wait_for_function("""() => window.__kg.filter(([, , state, kg]) => state === 'empty'
        && Math.abs(kg) >= 0.05 && Math.abs(kg) < window.__band).length >= 10""", timeout=30_000)
    drawn = [text for word, text, _, _ in phone.evaluate("window.__kg") if word == "empty"]
    assert drawn and all(text in ("0.0 kg", "– kg") or abs(float(text.split()[0])) >= 0.3  # –: no reading yet
                         for text in drawn), \
        sorted(set(drawn))
    words = phone.evaluate("""() => import('/static/js/now.js').then((m) => [
        m.kgShown(-0.1, 'empty'), m.kgShown(0.29, 'empty'), m.kgShown(-0.6, 'empty'),
        m.kgShown(-0.1, 'standing'), m.kgShown(-0.1, 'fault'), m.kgShown(null, 'empty'),
        m.kgShown(41.26, 'standing')])""")
    assert words == ["0.0 kg", "0.0 kg", "-0.6 kg", "-0.1 kg", "-0.1 kg", "– kg", "41.3 kg"]
    assert not phone.errors
