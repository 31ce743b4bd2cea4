"""The real page in headless Chromium, served by waitress, with live events pushed into LiveState.

Chromium's --dump-dom prints the DOM at the load event, and an open EventSource keeps its
virtual-time budget from ever running out, so the test holds the load event instead: it adds
(to this test's app only) an image at the end of the page whose response waits until the page
has subscribed and the live messages were pushed. The DOM dumped then shows what the phone sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import pytest

from firmware import events as ev
from firmware.events import Event
from firmware.live import LiveState
from firmware.store import Store
from webui import create_app
from webui.server import build_server, shutdown_streams

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-dev-shm-usage"]


def find_chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "headless Chromium not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must install it")
        pytest.skip(reason)
    return path


def holding(**extra) -> dict:
    return {"state": "holding", "kg": 61.0, "hold_s": 21.0, "target_s": 30.0, "target_breaths": 4,
            "breaths": 3, "bounces": 0, "leg": "left", "knee": "bent", "rep": 2, "reps": 3,
            "step": 9, "steps": 14, "fault": None, "source": "simulated", "speed": 1.0, **extra}


@pytest.fixture
def served(tmp_path):
    store = Store(tmp_path / "h.sqlite")
    live = LiveState()
    now = time.time()
    for i in range(3):
        store.add_event(1, Event(ev.STRETCH_END, 40.0 * i, {
            "start": 40.0 * i - 30, "hold_start": 40.0 * i - 27, "end": 40.0 * i, "hold_s": 28.0,
            "breaths": 4, "bounces": 0, "completed": True, "peak_kg": 60.0}),
            now - 300 + 60 * i, {"leg": ("right", "left")[i % 2], "knee": "straight", "rep": 1})
    app = create_app(store, live, access_code="2468")
    pushed = threading.Event()

    @app.after_request
    def hold_load(response):  # test harness only: keep the load event waiting (see module doc)
        from flask import request

        if request.path == "/":
            html = response.get_data(as_text=True)
            response.set_data(html.replace("</body>", '<img src="/__hold" alt="" hidden></body>'))
        return response

    @app.get("/__hold")
    def hold():
        pushed.wait(20)
        time.sleep(0.5)  # real time on purpose: the browser must get the messages and paint them
        return "", 204

    def push_when_subscribed() -> None:
        deadline = time.monotonic() + 20
        while live.subscriber_count == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        for i in range(20):
            live.on_sample(100.0 + i * 0.1, 60.0 + i * 0.2, holding())
        live.on_event(Event(ev.BOUNCE, 102.1, {"hz": 2.2, "pp_kg": 9.5}), holding(bounces=2))
        pushed.set()

    server = build_server(app, "127.0.0.1", 0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    threading.Thread(target=push_when_subscribed, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}/", live
    shutdown_streams(app)
    server.close()
    store.close()


def test_page_shows_live_state_events_and_history(served, tmp_path):
    chromium = find_chromium()
    url, live = served
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,844",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=60,
    )
    dom = result.stdout
    assert "<html" in dom, result.stderr[-2000:]
    assert 'id="conn" class="conn" data-state="live"' in dom          # the stream connected
    assert 'data-state="holding"' in dom and ">Holding<" in dom      # state from live samples
    assert '<span id="breaths">3</span>' in dom and "/ 4" in dom       # breaths and their target
    assert '<text x="60" y="58" class="ring-time" id="hold-time" text-anchor="middle">21</text>' in dom
    assert "left leg · knee bent · rep 2" in dom                       # which leg/knee/rep is now
    assert '<p class="big bad" id="hold-bounces">2</p>' in dom          # bounce count, in red
    alert = dom[dom.index('<div id="alert"'):]
    alert = alert[:alert.index("</div>")]
    assert "Don’t bounce!" in alert and " hidden" not in alert.split(">")[0]  # the big red warning
    assert '<p class="num" id="today-holds">3</p>' in dom              # today's history from the store
    assert dom.count("✓ held") == 3                                    # recent stretches list
    assert dom.count('class="bar"') == 1                               # today's bar in the 14-day chart
