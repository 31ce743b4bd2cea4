"""`stretchstep tare` / `calibrate` while a stretchstep runs: they go through its API on loopback.

The running device is the real web app (waitress on 127.0.0.1, a free port) with the real
CalibrationControl over an emulated HX711 (no hardware); its detector's word is a stand-in
function so the test says what the step is doing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from firmware.calibration import CalibrationControl, calibration_path, load_calibration
from firmware.calibration.emulated import EmulatedHX711Source
from firmware.calibration.model import Calibration
from firmware.cli import main
from firmware.live import LiveState
from firmware.running_service import find_running, local_url
from firmware.store import Store

CODE = "4321"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield from _serve(tmp_path, open_reads=True)


@pytest.fixture
def running_closed(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The same with `open_reads = false`: its health tells a caller without the code only `ok`."""
    yield from _serve(tmp_path, open_reads=False)


def _serve(tmp_path: Path, *, open_reads: bool, source: str = "hx711-emulated") -> Iterator[dict[str, Any]]:
    from webui import create_app
    from webui.server import build_server

    data = tmp_path / "data"
    data.mkdir()
    emulated = EmulatedHX711Source(lambda t: 0.0, calibration=Calibration(offset=80_000, scale=21_000,
                                                                           date="2026-01-01"))
    samples = emulated.samples()
    for _ in range(300):          # the loop has been reading an empty step
        next(samples)
    state = {"now": "empty"}
    control = CalibrationControl(emulated.source, data, step_state=lambda: state["now"])
    store = Store(data / "history.sqlite")
    app = create_app(store, LiveState(), control=control, access_code=CODE, open_reads=open_reads,
                     config_view={"source": source, "data_dir": str(data)})
    server = build_server(app, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    config = tmp_path / "config.toml"
    config.write_text(f"[web]\nhost = '127.0.0.1'\nport = {server.effective_port}\n"
                      f"[store]\ndata_dir = '{data}'\n[sensor]\nsource = 'hx711-emulated'\n")
    yield {"config": config, "data": data, "state": state, "emulated": emulated}
    server.close()
    thread.join(timeout=5)
    store.close()


def invoke(*args: str, code: str = CODE) -> Any:
    """The command as a person runs it: the access code typed at its prompt, then Enter."""
    return CliRunner().invoke(main, list(args), input=f"{code}\n\n")


def test_tare_goes_through_the_running_service(running) -> None:
    done = invoke("tare", "--config", str(running["config"]))
    assert done.exit_code == 0, done.output
    assert f"config: {running['config']}; data dir: {running['data']}" in done.output
    assert "holds the sensor: asking it" in done.output and "Done: tared" in done.output
    saved = load_calibration(running["data"], "hx711-emulated")
    assert saved.offset == pytest.approx(85_000, abs=30)          # the running source's zero
    assert running["emulated"].calibration == saved               # applied to the live source too
    assert f"Saved to {calibration_path(running['data'], 'hx711-emulated')}" in done.output


def test_with_closed_reads_tare_asks_for_the_code_and_still_goes_through_the_service(running_closed) -> None:
    """Found trying it: with `open_reads = false` the health the command read said only "ok", so
    it read the chip itself, behind the service's back (on a Pi: fighting it for the pins)."""
    running = running_closed
    done = invoke("tare", "--config", str(running["config"]))
    assert done.exit_code == 0, done.output
    assert "readings behind the access code" in done.output and "holds the sensor: asking it" in done.output
    assert running["emulated"].calibration == load_calibration(running["data"], "hx711-emulated")
    wrong = invoke("tare", "--config", str(running["config"]), code="0000")
    assert wrong.exit_code == 2 and "did not accept that access code" in wrong.output
    bringup = invoke("bringup", "--config", str(running["config"]), "--source", "hx711")
    assert bringup.exit_code == 2 and "holds the sensor; stop it first" in bringup.output


def test_a_service_holding_the_data_dir_elsewhere_is_never_worked_around(tmp_path) -> None:
    """A stretchstep on this data dir that does not answer at the configured port (started with
    another --port): tare and calibrate refuse, naming its pid, and save nothing."""
    from firmware.config import Config
    from firmware.datalock import DataDirLock

    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(f"[web]\nport = 9\n[store]\ndata_dir = '{data}'\n[sensor]\nsource = 'hx711-emulated'\n")
    history = Config().with_values("store", data_dir=str(data)).with_values(
        "sensor", source="hx711-emulated").history_dir()
    with DataDirLock(history):
        for args in (["tare"], ["calibrate", "--known-kg", "20"]):
            done = invoke(*args, "--config", str(config))
            assert done.exit_code == 2, done.output
            assert f"refused: a stretchstep (pid {os.getpid()}) is running on {data}" in done.output
        assert not calibration_path(data, "hx711-emulated").exists()
    assert DataDirLock(history).holder() is None
    done = invoke("tare", "--config", str(config))                 # once it is gone: read directly
    assert done.exit_code == 0 and calibration_path(data, "hx711-emulated").exists(), done.output


def test_a_service_started_on_another_port_is_found_through_the_lock_it_holds(running, tmp_path) -> None:
    """`stretchstep run --port N` by hand while the config says another port: the service notes
    its address in the data dir's lock, so `tare` and `doctor` find it without being told N."""
    from firmware.config import load
    from firmware.datalock import DataDirLock

    url = local_url(load(running["config"]))
    moved = tmp_path / "moved.toml"             # the same device, but the config names port 9
    moved.write_text(running["config"].read_text().replace(f"port = {url.rsplit(':', 1)[1]}", "port = 9"))
    assert local_url(load(moved)) == "http://127.0.0.1:9"
    with DataDirLock(load(moved).history_dir()) as lock:
        assert find_running(load(moved)) is None             # the lock names no address yet
        lock.note_address(url)
        assert find_running(load(moved)).base_url == url
        done = invoke("tare", "--config", str(moved))
        assert done.exit_code == 0 and f"running at {url} holds the sensor" in done.output, done.output
        doctor = invoke("doctor", "--config", str(moved))
        assert f"answers at {url}" in doctor.output
        assert "nothing answers on port 9" not in doctor.output, doctor.output


def test_the_services_refusal_is_one_clear_line(running) -> None:
    running["state"]["now"] = "holding"
    done = invoke("tare", "--config", str(running["config"]))
    assert done.exit_code == 2                                   # a user's error: exit 2, one line
    assert "Error: tare refused: the step is not empty right now (the detector says 'holding')" in done.output
    assert done.output.count("refused") == 1
    assert not calibration_path(running["data"], "hx711-emulated").exists()


def test_a_wrong_access_code_says_so(running) -> None:
    done = invoke("calibrate", "--known-kg", "20", "--config", str(running["config"]), code="0000")
    assert done.exit_code == 2 and "access code" in done.output
    assert not calibration_path(running["data"], "hx711-emulated").exists()


def test_the_code_can_come_from_the_environment(running, monkeypatch) -> None:
    monkeypatch.setenv("STRETCHSTEP_ACCESS_CODE", CODE)
    done = CliRunner().invoke(main, ["tare", "--config", str(running["config"])], input="\n")
    assert done.exit_code == 0, done.output and "Access code" not in done.output


def test_a_service_running_another_source_does_not_hold_this_sensor(tmp_path) -> None:
    """`./dev run` (the simulated person) on the default port while the emulated chip is tared:
    its open health hides the data dir but names its source, which is not the one asked for."""
    serving = _serve(tmp_path, open_reads=True, source="simulated")
    running = next(serving)
    try:
        done = invoke("tare", "--config", str(running["config"]), "--source", "hx711-emulated")
    finally:
        serving.close()
    assert done.exit_code == 0, done.output
    assert "runs the simulated source, not hx711-emulated: reading the sensor directly" in done.output
    assert "asking it" not in done.output and "Access code" not in done.output
    assert "Done: zero is 85000 counts" in done.output


def test_nothing_running_means_reading_the_sensor_directly(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[web]\nhost = '127.0.0.1'\nport = 9\n[store]\ndata_dir = '{tmp_path}'\n")
    from firmware.config import load

    assert local_url(load(config)) == "http://127.0.0.1:9" and find_running(load(config)) is None
    done = invoke("tare", "--config", str(config), "--source", "hx711-emulated")
    assert done.exit_code == 0, done.output
    assert "asking it" not in done.output and "Done: zero is 85000 counts" in done.output


def test_bringup_never_fights_the_running_service_for_the_pins(running) -> None:
    done = invoke("bringup", "--config", str(running["config"]), "--source", "hx711")
    assert done.exit_code == 2 and "holds the sensor; stop it first" in done.output


def test_bringup_on_the_emulated_chip_reports_rate_and_pins(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[web]\nport = 0\n[store]\ndata_dir = '{tmp_path}'\n[sensor]\nrate_hz = 10\n")
    done = invoke("bringup", "--config", str(config), "--source", "hx711-emulated", "--seconds", "3")
    assert done.exit_code == 0, done.output
    assert f"config: {config}" in done.output and "10 SPS" in done.output
    assert "chip answered: 10.0 readings/s (RATE pin says 10)" in done.output


def test_the_real_service_carries_the_calibration_and_takes_a_tare_from_the_cli(tmp_path) -> None:
    """`stretchstep run --source hx711-emulated` (supervisor, sampler and web processes, the
    panel on MockFactory) and `stretchstep tare` against it: the command reaches the sampler's
    detector-gated control through the web API; the live status says the step is uncalibrated."""
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:            # a free loopback port the config can name
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(f"[web]\nhost = '127.0.0.1'\nport = {port}\naccess_code = '{CODE}5678'\n"
                      f"[store]\ndata_dir = '{data}'\n[sensor]\nsource = 'hx711-emulated'\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "xdg"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "firmware", "run", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        base, status = f"http://127.0.0.1:{port}", None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status is None:
            try:
                state = json.load(urllib.request.urlopen(base + "/api/state", timeout=2))
                status = state["status"] if "calibration" in state.get("status", {}) else None
            except OSError:
                pass
            time.sleep(0.2)
        assert status is not None, "the service never showed a status with its calibration"
        calibration = status["calibration"]
        assert calibration["calibrated"] is False and "not calibrated" in calibration["warning"]
        done = CliRunner().invoke(main, ["tare", "--config", str(config)], input=f"{CODE}5678\n\n")
        assert "holds the sensor: asking it" in done.output, done.output
        tared = "Done: tared" in done.output
        # the simulated person may be on the step: then the sampler's control refuses, in words
        refused = any(f"tare refused: {why}" in done.output for why in (
            "the step is not empty right now", "the load was not still during the tare"))
        assert tared or refused, done.output
        assert calibration_path(data, "hx711-emulated").exists() == tared
        from firmware.config import load
        from firmware.datalock import DataDirLock

        assert DataDirLock(load(config).history_dir()).address() == base   # `run --port N` is found
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "WARNING: the step is not calibrated" not in out    # emulated: its true scale is known
