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
