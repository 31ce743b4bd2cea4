"""The sampler-web link in one process: a real unix socket, a LiveState on one end and a
LiveMirror on the other, commands forwarded by name. Waits are bounded polls, never fixed sleeps."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from firmware import events as ev
from firmware.control import ControlUnavailable, DeviceControl
from firmware.events import Event
from firmware.live import LiveState
from firmware.service.link import CommandRefused, LinkClient, LinkServer, RemoteControl, _encode


class SamplerControl:
    """Stands in for DeviceControl on the sampler side (same method names)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def tare(self) -> dict:
        self.calls.append(("tare",))
        return {"ok": True, "offset": 12.5}

    def calibrate(self, known_kg: float) -> dict:
        if known_kg > 100:
            raise ValueError("the step is moving: wait until it is still")
        self.calls.append(("calibrate", known_kg))
        return {"ok": True, "scale": float("nan")}

    def status(self) -> dict:
        raise ControlUnavailable("no sensor to calibrate")


@pytest.fixture
def link(tmp_path, until):
    live = LiveState(sample_hz=1000.0)
    control = SamplerControl()
    health = {"loop_state": "running", "problems": []}
    server = LinkServer(str(tmp_path / "s.sock"), live, control, lambda: health)
    client = LinkClient(server.path)
    until(lambda: client.connected)
    yield live, control, server, client
    client.close()
    server.close()


def test_the_web_mirror_shows_what_the_sampler_sees_and_streams_it(link, until):
    live, _, _, client = link
    live.on_sample(1.0, 40.0, {"state": "standing"})
    sub = client.live.subscribe()
    live.on_sample(1.1, 52.5, {"state": "holding"})
    live.on_event(Event(ev.BREATH, 1.05, {"n": 1}), {"state": "holding", "breaths": 1})
    kinds = []
    until(lambda: kinds.append(sub.get(timeout=0.1)) or {"event"} <= {m["type"] for m in kinds if m})
    snap = client.live.snapshot()
    assert snap["kg"] == 52.5 and snap["status"]["state"] == "holding"
    assert snap["events"][-1]["kind"] == ev.BREATH
    event = next(m for m in kinds if m and m["type"] == "event")
    assert event["data"]["emitted_at"] <= time.time()      # the sampler's clock, not the web's


def test_a_web_that_connects_late_starts_from_the_sampler_snapshot(link, until):
    live, _, server, _ = link
    for i in range(30):
        live.on_sample(i / 10, float(i), {"state": "standing"})
    late = LinkClient(server.path)
    try:
        until(lambda: late.live.snapshot()["kg"] == 29.0)
        assert len(late.live.snapshot()["history"]) >= 20
    finally:
        late.close()


def test_commands_cross_by_name_with_positional_arguments_bound(link):
    _, control, _, client = link
    remote = RemoteControl(client.call)
    assert remote.tare() == {"ok": True, "offset": 12.5}
    assert remote.calibrate(20.0) == {"ok": True, "scale": None}   # JSON-safe on the way back
    assert control.calls == [("tare",), ("calibrate", 20.0)]
    with pytest.raises(CommandRefused, match="moving") as refused:
        remote.calibrate(known_kg=150.0)
    assert refused.value.http_status == 409
    with pytest.raises(ValueError, match="no sensor") as unavailable:
        remote.status()
    assert unavailable.value.http_status == 503
    with pytest.raises(AttributeError):
        remote.format_disk()                    # not a DeviceControl method: never sent
    assert callable(DeviceControl.tare)


def test_health_tells_when_the_sampler_is_lost_and_recovers(link, until):
    live, control, server, client = link
    until(lambda: client.health()["loop_state"] == "running")
    assert client.health()["ok"] is True
    server.close()
    until(lambda: not client.connected)
    assert client.health()["ok"] is False
    assert "lost its sampler" in " ".join(client.health()["problems"])
    until(lambda: client.live.snapshot()["status"].get("fault") == "sampler_lost")
    with pytest.raises(ValueError):
        RemoteControl(client.call).tare()
    again = LinkServer(server.path, live, control, lambda: {"loop_state": "running", "problems": []})
    try:
        until(lambda: client.connected and client.health()["ok"])
        assert client.connects == 2
    finally:
        again.close()


def test_health_is_not_ok_until_the_sampler_has_sent_its_figures(tmp_path, until):
    """A web process (re)started beside a running sampler knows nothing of the loop until the
    first figures arrive: connected is not the same as ok (a sampler that sent its snapshot and
    nothing yet of its health)."""
    path = str(tmp_path / "quiet.sock")
    quiet = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    quiet.bind(path)
    quiet.listen(1)
    client = LinkClient(path)
    conn, _ = quiet.accept()
    try:
        conn.sendall(_encode({"type": "snapshot", "data": LiveState().snapshot()}))
        until(lambda: client.connected)
        health = client.health()
        assert health["ok"] is False and "first figures" in " ".join(health["problems"])
    finally:
        client.close()
        conn.close()
        quiet.close()


def test_an_event_reaches_the_web_only_after_the_store_committed_it(tmp_path, until):
    """The sender waits on `settle` (the StoreWriter's wait_written) before an event: what a phone
    has seen is on disk, so a kill -9 of the sampler cannot take it back. Samples do not wait."""
    live = LiveState(sample_hz=1000.0)
    committed, asked = threading.Event(), threading.Event()

    def settle(timeout: float) -> bool:
        asked.set()
        return committed.wait(timeout)

    server = LinkServer(str(tmp_path / "s.sock"), live, SamplerControl(),
                        lambda: {"loop_state": "running", "problems": []}, settle=settle)
    client = LinkClient(server.path)
    try:
        until(lambda: client.connected)
        live.on_event(Event(ev.STRETCH_END, 5.0, {"breaths": 4}), {"state": "standing"})
        until(asked.is_set)          # the sender is held in settle(): nothing after it was sent
        assert all(e["kind"] != ev.STRETCH_END for e in client.live.snapshot()["events"])
        committed.set()
        until(lambda: any(e["kind"] == ev.STRETCH_END for e in client.live.snapshot()["events"]))
    finally:
        client.close()
        server.close()
