"""The sampler process: sensor -> calibration -> detector -> routine -> cues, store writer, sinks.

Nothing of the web runs here (DESIGN §4): on a Pi the HX711 is bit-banged and a web thread
holding the interpreter would stretch its clock pulses. The web gets live state and sends
commands over `firmware.service.link`; history reaches it through SQLite.

Faults are sorted by whether waiting can fix them. Opening the source, the history file and
the calibration happens before the service says it is running: a bad replay, an unknown
scenario, a corrupt calibration or history file is `fatal` (run stops with that one line). A
sensor that does not answer is a `sensor_fault` on the page and in health, retried with
backoff and logged at a limited rate. A replay or scripted simulation that ends or fails is
never started again (it would store its stretches twice); a live sensor's loop that crashes is.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from firmware import events as ev
from firmware.calibration import (
    CalibrationError,
    already_filtered,
    calibration_status,
    cell_names,
    load_calibration,
)
from firmware.config import Config, ConfigError
from firmware.control import DeviceControl
from firmware.detector import DetectorConfig, HoldDetector
from firmware.device import Device
from firmware.events import Event
from firmware.history import mend_import
from firmware.live import LiveState
from firmware.panel import build_panel
from firmware.publish import make_publishers
from firmware.routine import Routine
from firmware.routine.build import build_routine
from firmware.sensors.base import SampleSource
from firmware.sensors.hx711 import SensorFault
from firmware.sensors.trace import TraceError, iter_trace
from firmware.service.logs import RateLimited, setup_logging
from firmware.service.notify import Watchdog
from firmware.service.runtime import identity, remove_orphaned
from firmware.sources import SourceError, open_source
from firmware.store import Store, StoreError, StoreWriter, check_history_file
from firmware.traces import TraceKeeper, prune_traces

log = logging.getLogger(__name__)

# retrying cannot fix these: the run stops with their message
FATAL_ERRORS = (SourceError, TraceError, CalibrationError, ConfigError, StoreError)
MAX_RETRY_S = 30.0
EXIT_FATAL = 3


def make_detector(cfg: Config, *, reject_glitches: bool = True) -> HoldDetector:
    """`reject_glitches=False` where the source already drops glitches on raw codes (hardware),
    so a genuine jump does not lose its first sample twice."""
    body = cfg.person.body_kg or None
    return HoldDetector(DetectorConfig(body_kg=body, target_s=cfg.detector.target_s,
                                       target_breaths=cfg.detector.target_breaths,
                                       reject_glitches=reject_glitches))


def open_checked_source(cfg: Config) -> SampleSource:
    """The configured source; a replay is read to its end first, so a bad line stops the run
    before anything is stored rather than half-way through (streamed: memory stays flat). The
    saved calibrations are read first too: a corrupt one is fatal even while the chip itself
    does not answer (which is only a retried fault), so it is never hidden behind the retries."""
    spec = cfg.sensor.source
    if spec.startswith("replay:"):
        for _ in iter_trace(spec.partition(":")[2]):
            pass
    for name in cell_names(cfg):
        load_calibration(cfg.data_dir(), name)     # CalibrationError: fatal, with the file named
    return open_source(spec, cfg)


REALTIME_PRIORITY = 10


def prefer_this_thread() -> str:
    """Ask the OS to run the calling thread before ordinary processes; what was granted.

    A bit-banged HX711 pulse held high past 60 us resets the chip, and on a loaded CPU any
    ordinary process can preempt the reader mid-pulse. SCHED_FIFO (needs CAP_SYS_NICE: root,
    or systemd's AmbientCapabilities=CAP_SYS_NICE) stops that; failing that, a lower niceness;
    failing that, nothing (the reader still discards preempted reads). Only this thread: the
    link and the store writer stay ordinary. The loop sleeps between reads, so it cannot starve
    the machine, and the watchdog restarts it if it ever spins."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
        return f"SCHED_FIFO {REALTIME_PRIORITY}"
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
        return "nice -10"
    except OSError:
        return "ordinary (no CAP_SYS_NICE)"


def backoff(first: float = 1.0, most: float = MAX_RETRY_S) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(most, delay * 2)


class LoopRunner:
    """Runs Device loops in a thread until stopped, sorting faults as the module docstring says.

    `state`: starting, running, retrying (sensor fault), restarting (crashed live sensor),
    ended (the source ran out), crashed (a non-live source failed: not restarted), fatal,
    stopped."""

    def __init__(self, cfg: Config, *, routine: Routine, writer: Any, live: Any, session_id: int,
                 cues: Any = None, sinks: Sequence[Any] = (), source: SampleSource | None = None,
                 watchdog: Watchdog | None = None, retry_first_s: float = 1.0) -> None:
        self.cfg = cfg
        self.retry_first_s = retry_first_s
        self.routine = routine
        self.writer = writer
        self.live = live
        self.session_id = session_id
        self.cues = cues
        self.sinks = tuple(sinks)
        self.watchdog = watchdog
        self.stop = threading.Event()
        self.crashes = 0
        self.retries = 0
        self.state = "starting"
        self.fault: str | None = None        # why the source could not be opened, while retrying
        self.fatal: str | None = None
        self.device: Device | None = None
        self.scheduling = "ordinary"
        self._source = source
        self._rate_limited = RateLimited(log)
        self.thread = threading.Thread(target=self._run, name="sampling-loop", daemon=True)

    def health(self) -> dict[str, Any]:
        """The sampler's figures for GET /api/health, with the problems that make `ok` false."""
        device = self.device
        writer = self.writer.stats() if self.writer is not None else {}
        fault = self.fault or (device.faults.reason if device is not None else None)
        problems = []
        if fault:
            problems.append(f"sensor fault: {fault}")
        if self.state in ("crashed", "fatal", "restarting"):
            problems.append(f"the sampling loop {self.state}" + (f": {self.fatal}" if self.fatal else ""))
        if writer.get("dropped"):
            problems.append(f"the store dropped {writer['dropped']} writes ({writer.get('last_error')})")
        sinks = self._sink_health()
        problems += trace_keeper_problems(sinks.get("traces"))
        return {"loop": device.stats.summary() if device is not None else {}, "loop_state": self.state,
                "detector_body_kg": told_body_kg(device),
                "loop_crashes": self.crashes, "sensor_retries": self.retries, "fault": fault,
                "scheduling": self.scheduling,
                "store_writer": writer, "problems": problems, "pid": os.getpid(), **sinks}

    def _sink_health(self) -> dict[str, Any]:
        """Each sink's own figures (the MQTT publisher's connection and counters, the trace
        keeper's writes) under its name; one that fails says so instead of hiding the rest."""
        out: dict[str, Any] = {}
        for sink in self.sinks:
            health = getattr(sink, "health", None)
            if callable(health):
                name = getattr(sink, "name", None) or type(sink).__name__.lower()
                try:
                    out[name] = health()
                except Exception as exc:
                    out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return out

    def _wait(self, seconds: float) -> None:
        """Wait (for a retry) while telling the watchdog the loop is alive, not hung."""
        end = time.monotonic() + seconds
        while not self.stop.is_set() and (left := end - time.monotonic()) > 0:
            if self.watchdog is not None:
                self.watchdog.feed()
            self.stop.wait(min(left, 1.0))

    def _open(self) -> SampleSource | None:
        """The source, or None after a fault that a retry may fix (shown and logged)."""
        try:
            source = open_checked_source(self.cfg)
        except FATAL_ERRORS:
            raise
        except (SensorFault, OSError) as exc:
            reason = getattr(exc, "reason", "unplugged")
            self.retries += 1
            self._show_fault(reason, str(exc))
            self._rate_limited(logging.WARNING, "open", "sensor not available (%s): %s; retrying",
                               reason, exc)
            return None
        if self.fault is not None:
            log.info("sensor available again after %d retries", self.retries)
        self.fault = None
        return source

    def _show_fault(self, reason: str, detail: str) -> None:
        first = self.fault != reason
        self.fault, self.state = reason, "retrying"
        status = {"state": "fault", "fault": reason, "fault_detail": detail, "source": self.cfg.sensor.source}
        now = time.monotonic()
        event = Event(ev.SENSOR_FAULT, now, {"reason": reason, "detail": detail})
        # the live view and the sinks (the panel's LED blinks, a publisher reports it) see the
        # fault even though no Device runs while the sensor cannot be opened
        for out in ((self.live,) if self.live is not None else ()) + self.sinks:
            try:
                if first:
                    out.on_event(event, status)
                out.on_sample(now, float("nan"), status)
            except Exception:
                log.exception("%s failed to take the sensor fault", type(out).__name__)

    def _run(self) -> None:
        if self.cfg.simulation.speed <= 1.0 or self.cfg.sensor.source in ("hx711", "hx711-iio"):
            # on real time (hardware, or a simulation at speed 1): a few % of a core at most
            self.scheduling = prefer_this_thread()
            log.info("sampling thread scheduling: %s", self.scheduling)
        delays = backoff(self.retry_first_s)
        try:
            while not self.stop.is_set():
                source, self._source = self._source or self._open(), None
                if source is None:
                    self._wait(next(delays))
                    continue
                if not self._run_device(source):
                    return
                self._wait(next(delays))
        except FATAL_ERRORS as exc:
            self.state, self.fatal = "fatal", str(exc)
            log.error("%s", exc)
        finally:
            if self.stop.is_set() and self.state not in ("fatal", "crashed", "ended"):
                self.state = "stopped"

    def _run_device(self, source: SampleSource) -> bool:
        """One Device on `source` until it ends; True when the loop should start over."""
        speed = self.cfg.simulation.speed
        try:
            detector = make_detector(self.cfg, reject_glitches=not already_filtered(source))
            self.device = Device(
                source, detector, routine=self.routine, cues=self.cues, writer=self.writer, live=self.live,
                session_id=self.session_id, speed=speed, sinks=self.sinks,
                status_extra={"source": self.cfg.sensor.source, "speed": speed},
                status_from=lambda: {"calibration": calibration_status(source)},
            )
            self.state = "running"
            self.device.run(self.stop)
        except FATAL_ERRORS:
            raise
        except Exception:
            self.crashes += 1
            source.close()
            if not source.live:  # a replay or simulation would store its stretches again
                self.state = "crashed"
                log.exception("the sampling loop crashed; a %s source is not started again "
                              "(it would store its stretches twice)", self.cfg.sensor.source)
                return False
            self.state = "restarting"
            if self.crashes == 1:
                log.exception("the sampling loop crashed; restarting it with a fresh source")
            else:
                self._rate_limited(logging.ERROR, "crash", "the sampling loop crashed again (%d times); "
                                   "restarting it", self.crashes)
            return True
        if not self.stop.is_set():
            self.state = "ended"
            log.info("source ended; the dashboard stays up (Ctrl-C to quit)")
        return False


def told_body_kg(device: Device | None) -> float | None:
    """The body weight the running detector has (health shows it: the weight entered on the phone
    reaches it between stretches, and this is where an owner sees that it did)."""
    config = getattr(device.detector, "config", None) if device is not None else None
    return getattr(config, "body_kg", None)


class _UnavailableWriter:
    """Stands in for the StoreWriter when the history file cannot be opened for writing (read-only
    data dir, full disk): sampling and cues go on; every event is counted as dropped."""

    def __init__(self, reason: str) -> None:
        self.dropped, self.last_error = 0, reason

    def record(self, *args: Any) -> None:
        self.dropped += 1

    def stats(self) -> dict[str, Any]:
        return {"written": 0, "dropped": self.dropped, "errors": 1, "pending": 0,
                "last_error": self.last_error}

    def flush(self, timeout: float = 0) -> bool:
        return self.dropped == 0

    def wait_written(self, timeout: float = 0) -> bool:
        return True

    def close(self) -> None:
        """Nothing to close."""


def open_history(cfg: Config) -> tuple[Store | None, Any, int]:
    """(store, writer, session id). A damaged or newer file is fatal (StoreError); one that
    cannot be written is a fault that leaves sampling running."""
    path = cfg.history_dir() / "history.sqlite"
    check_history_file(path)
    try:
        store = Store(path)
        closed = store.close_open_sessions()
        if closed:
            log.info("closed %d session(s) a previous run left open", closed)
        mended = mend_import(store, cfg.history_dir())   # before this session may write a trace
        if mended:
            log.warning("%s", mended)
        session_id = store.start_session(cfg.sensor.source, time.time())
    except (sqlite3.Error, OSError) as exc:
        reason = f"cannot write {path}: {exc}"
        log.error("%s; sampling and cues go on, history is not kept", reason)
        return None, _UnavailableWriter(reason), 0
    return store, StoreWriter(store), session_id


def sampler_main(cfg: Config, sock_path: str, report: multiprocessing.connection.Connection) -> None:
    """The sampler process (spawned by the supervisor). Exit status EXIT_FATAL after a fatal fault."""
    from firmware.service.link import LinkServer

    setup_logging("sampler")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        source = _first_source(cfg)   # before the history, so a fatal source leaves no session
        try:
            store, writer, session_id = open_history(cfg)
        except FATAL_ERRORS:
            if source is not None:
                source.close()
            raise
    except FATAL_ERRORS as exc:
        report.send(("fatal", str(exc)))
        sys.exit(EXIT_FATAL)
    watchdog = Watchdog()
    live = LiveState()
    scratch = scratch_store(Path(sock_path).parent) if store is None else None
    routine, keeper = build_routine(cfg, store if store is not None else scratch)
    control = DeviceControl(cfg.sensor.source, cfg.data_dir(), lambda: runner.device,
                            next_profile=keeper.next_profile if store is not None else None)
    panel = build_panel(cfg, control)   # buzzer, LED, tare button: built once; a failure is a logged fault
    traces = keep_traces(cfg, store, session_id, source)
    try:
        publishers = make_publishers(cfg, control, store, writer)   # [mqtt]: none without a host
    except FATAL_ERRORS as exc:
        report.send(("fatal", str(exc)))
        sys.exit(EXIT_FATAL)
    runner = LoopRunner(cfg, routine=routine, writer=writer, live=live, session_id=session_id,
                        cues=panel.cues, sinks=(watchdog, panel, *traces, *publishers), source=source,
                        watchdog=watchdog)
    link = LinkServer(sock_path, live, control, runner.health, settle=writer.wait_written)
    runtime = Path(sock_path).parent
    claimed = identity(runtime)
    runner.thread.start()
    report.send(("ready", {"pid": os.getpid(), "session": session_id}))
    orphaned = _until_stopped(stop, runner)
    runner.stop.set()
    runner.thread.join(timeout=10)
    link.close()
    writer.flush(timeout=5)
    for publisher in publishers:
        publisher.close()
    if store is not None:
        try:
            store.end_session(session_id, time.time())
        except (sqlite3.Error, OSError) as exc:
            log.error("could not close the session: %s", exc)
    writer.close()
    keeper.close()
    for trace in traces:
        trace.close()
    if store is not None:
        store.close()
    if scratch is not None:
        drop_scratch(scratch)
    panel.close()
    if orphaned:              # no supervisor left to remove the runtime folder (kill -9)
        remove_orphaned(runtime, claimed)
    if runner.state == "fatal":
        report.send(("fatal", runner.fatal))
        sys.exit(EXIT_FATAL)


def _until_stopped(stop: threading.Event, runner: LoopRunner) -> bool:
    """Until SIGTERM, a fatal loop or the supervisor's death; True for the last ("orphaned"):
    then stop cleanly rather than sample for no one, and tidy what the supervisor would have."""
    parent = multiprocessing.parent_process()
    while not stop.is_set() and runner.state != "fatal":
        if parent is not None and multiprocessing.connection.wait([parent.sentinel], timeout=0.5):
            return True
        if parent is None:
            stop.wait(0.5)
    return False


def trace_keeper_problems(figures: Any) -> list[str]:
    """What the trace keeper's figures (health's `traces`) say is wrong: samples it dropped or
    writes that failed leave the kept traces short, so `reanalyze` cannot replay those stretches;
    health must not say ok over that."""
    if not isinstance(figures, dict):
        return []
    out = []
    if figures.get("dropped"):
        out.append(f"the trace keeper dropped {figures['dropped']} samples (the disk fell behind); "
                   "the kept traces say what they lack and reanalyze leaves those stretches as they are")
    if figures.get("errors"):
        out.append(f"the trace keeper could not write {figures['errors']} times; see the log")
    if figures.get("error"):
        out.append(f"the trace keeper's figures failed: {figures['error']}")
    return out


def keep_traces(cfg: Config, store: Store | None, session_id: int,
                source: SampleSource | None) -> tuple[TraceKeeper, ...]:
    """The session's raw samples kept for `stretchstep reanalyze` ([store] keep_traces_days; none
    while the history itself cannot be written). Old ones are pruned here, once per run."""
    days = cfg.store.keep_traces_days
    if store is None or days <= 0:
        return ()
    try:
        gone = prune_traces(cfg.history_dir(), days)
        if gone:
            log.info("pruned %d kept trace(s) older than %d days", gone, days)
        rate = source.rate_hz if source is not None else cfg.sensor.rate_hz
        # the pace the Device runs the source at, so reanalyze places the file on the wall clock
        return (TraceKeeper(cfg.history_dir(), session_id, rate, wall_per_t=1.0 / cfg.simulation.speed),)
    except OSError as exc:
        log.error("cannot keep raw traces in %s: %s; sampling goes on", cfg.history_dir(), exc)
        return ()


SCRATCH_NAME = "scratch.sqlite"


def scratch_store(folder: Path) -> Store:
    """Where the routine keeps its day when the history cannot be written, so the routine (and
    its cues) still work: a file in the run's runtime folder (firmware.service.runtime), which
    the supervisor removes, and the next start clears if a crash left it. Nothing in it
    outlives the run; a leftover from a killed sampler is started afresh."""
    path = folder / SCRATCH_NAME
    _remove_sqlite(path)
    return Store(path)


def drop_scratch(store: Store) -> None:
    """Close the scratch store and remove its files (the sampler's own exit)."""
    store.close()
    _remove_sqlite(store.path)


def _remove_sqlite(path: Path) -> None:
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        part.unlink(missing_ok=True)


def _first_source(cfg: Config) -> SampleSource | None:
    """At start: the source, None for a fault a retry may fix (the loop retries), or fatal raised."""
    try:
        return open_checked_source(cfg)
    except FATAL_ERRORS:
        raise
    except (SensorFault, OSError):
        return None
