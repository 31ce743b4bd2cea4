"""`stretchstep run`: the one place that joins the sampling loop and the web server.

One process: the loop owns its thread (restarted with a fresh source and detector if it ever
crashes, so history and the dashboard survive), waitress serves the dashboard from its own
threads in the main thread, and SIGTERM/SIGINT stop both cleanly, flushing history to disk.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from firmware.access import AccessCode, describe, ensure_access_code, link
from firmware.calibration import already_filtered
from firmware.config import Config
from firmware.cues import BuzzerCues, make_buzzer
from firmware.detector import DetectorConfig, HoldDetector
from firmware.device import Device
from firmware.routine import Routine
from firmware.sources import open_source

RESTART_DELAY_S = 2.0


class ServiceError(RuntimeError):
    """The service cannot start for a reason the user can fix (e.g. the port is taken)."""


def lan_addresses() -> list[str]:
    """IPv4 addresses a phone on the LAN may reach this machine at (asks the OS; sends nothing)."""
    found: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    try:  # Raspberry Pi OS / Debian: every configured address, when the host name maps to loopback
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=2).stdout
        found.extend(word for word in out.split() if "." in word)
    except (OSError, subprocess.SubprocessError):
        pass
    return [addr for i, addr in enumerate(found) if not addr.startswith("127.") and addr not in found[:i]]


def make_detector(cfg: Config, *, reject_glitches: bool = True) -> HoldDetector:
    """`reject_glitches=False` where the source already drops glitches on raw codes (hardware),
    so a genuine jump does not lose its first sample twice."""
    body = cfg.person.body_kg or None
    return HoldDetector(DetectorConfig(body_kg=body, target_s=cfg.detector.target_s,
                                       target_breaths=cfg.detector.target_breaths,
                                       reject_glitches=reject_glitches))


def make_routine(cfg: Config) -> Routine:
    r = cfg.routine
    return Routine(r.reps, r.first_leg, r.knees, cfg.detector.target_s, cfg.detector.target_breaths)


def make_cues(cfg: Config) -> BuzzerCues | None:
    if not cfg.cues.enabled:
        return None
    on_pi = cfg.sensor.source == "hx711"
    return BuzzerCues(make_buzzer(cfg.cues.buzzer_pin, active_high=cfg.cues.active_high, mock=not on_pi))


def make_control(cfg: Config, runner: LoopRunner) -> Any:
    """Tare/calibrate for the web API, on whatever calibrated source the loop runs now (or None)."""
    if cfg.sensor.source not in ("hx711", "hx711-iio", "hx711-emulated"):
        return None
    from firmware.calibration import CalibrationControl

    def current() -> Any:
        device = runner.device
        return device.source if device is not None else None

    def step_state() -> str | None:
        device = runner.device
        return device.detector.state if device is not None else None

    return CalibrationControl(current, cfg.data_dir(), step_state=step_state)


class LoopRunner:
    """Runs Device loops in a thread until stopped; a crash is logged and the loop restarted."""

    def __init__(self, cfg: Config, *, routine: Routine, writer: Any, live: Any, session_id: int) -> None:
        self.cfg = cfg
        self.routine = routine
        self.writer = writer
        self.live = live
        self.session_id = session_id
        self.stop = threading.Event()
        self.crashes = 0
        self.device: Device | None = None
        self.thread = threading.Thread(target=self._run, name="sampling-loop", daemon=True)

    def health(self) -> dict[str, Any]:
        """Loop and history-writer figures for GET /api/health."""
        device = self.device
        return {"loop": device.stats.summary() if device is not None else {}, "loop_crashes": self.crashes,
                "store_writer": self.writer.stats() if self.writer is not None else {}}

    def _run(self) -> None:
        speed = self.cfg.simulation.speed
        while not self.stop.is_set():
            try:
                source = open_source(self.cfg.sensor.source, self.cfg)
                detector = make_detector(self.cfg, reject_glitches=not already_filtered(source))
                self.device = Device(
                    source, detector, routine=self.routine, cues=make_cues(self.cfg),
                    writer=self.writer, live=self.live, session_id=self.session_id, speed=speed,
                    status_extra={"source": self.cfg.sensor.source, "speed": speed},
                )
                self.device.run(self.stop)
                if not self.stop.is_set():
                    print("source ended; the dashboard stays up (Ctrl-C to quit)", file=sys.stderr)
                return
            except Exception:
                self.crashes += 1
                print("sampling loop crashed; restarting it:\n" + traceback.format_exc(), file=sys.stderr)
                self.stop.wait(RESTART_DELAY_S)


def run_service(cfg: Config, *, ready: threading.Event | None = None) -> int:
    from firmware.history import history_context
    from firmware.live import LiveState
    from firmware.store import Store, StoreWriter
    from webui import create_app
    from webui.server import build_server, shutdown_streams

    data_dir = cfg.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / "history.sqlite")
    live = LiveState()
    code = ensure_access_code(data_dir, cfg.web.access_code)
    runner = LoopRunner(cfg, routine=make_routine(cfg), writer=None, live=live, session_id=0)
    app = create_app(store, live, control=make_control(cfg, runner), access_code=code,
                     open_reads=cfg.web.open_reads, stats=lambda: runner.health(),
                     allowed_hosts=cfg.web.allowed_hosts,
                     config_view={"source": cfg.sensor.source, "data_dir": str(data_dir)},
                     history=history_context(cfg))
    try:
        server = build_server(app, cfg.web.host, cfg.web.port, threads=cfg.web.threads)
    except OSError as exc:
        store.close()
        raise ServiceError(
            f"cannot listen on {cfg.web.host}:{cfg.web.port}: {exc.strerror}; is another stretchstep "
            "running? Stop it or choose another --port"
        ) from None
    writer = runner.writer = StoreWriter(store)
    session_id = runner.session_id = store.start_session(cfg.sensor.source, time.time())

    def stop(signum: int, _frame: object) -> None:
        runner.stop.set()
        shutdown_streams(app)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.thread.start()
    _announce(cfg, data_dir, code, server)
    if ready is not None:
        ready.set()
    try:
        server.run()
    finally:
        runner.stop.set()
        shutdown_streams(app)
        server.close()
        runner.thread.join(timeout=5)
        writer.flush(timeout=5)
        store.end_session(session_id, time.time())
        writer.close()
        store.close()
        print("stopped; history kept in " + str(data_dir / "history.sqlite"), file=sys.stderr)
    return 0


def _announce(cfg: Config, data_dir: Path, code: AccessCode, server: Any) -> None:
    """Where to open the page; a code made just now rides in the link's #fragment (shown once)."""
    port = getattr(server, "effective_port", cfg.web.port)
    print(f"stretchstep running: source {cfg.sensor.source}, data in {data_dir}", flush=True)
    if cfg.web.host in ("0.0.0.0", "::", ""):
        hosts = lan_addresses() or ["<this machine's address>"]
        for host in hosts:
            print(f"open on your phone: {link(host, port, code.fresh)}", flush=True)
        print(f"on this machine:    {link('127.0.0.1', port, code.fresh)}", flush=True)
    else:
        print(f"open: {link(cfg.web.host, port, code.fresh)}", flush=True)
    print(describe(code), flush=True)
    if code.warning:
        print(f"warning: {code.warning}", file=sys.stderr, flush=True)
