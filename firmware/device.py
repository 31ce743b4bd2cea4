"""The sampling loop: sensor -> detector -> routine, cues, store, live, sinks.

It owns one thread and never waits on the web or the disk: the store is written by its own
thread (StoreWriter.record only enqueues), the live view only swaps small objects, the buzzer is
clocked by `tick`. Outputs (the buzzer, `sinks` such as the MQTT publisher or the watchdog)
that raise are a logged, counted fault, never a loop crash: a dead buzzer must not stop the
counting. Non-live sources (simulation, replay) are paced against their own timestamps;
hardware paces itself. All clocks are injectable so tests run on a fake clock.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from firmware import events as ev
from firmware.events import Event
from firmware.sensors.base import Sample, SampleSource
from firmware.store import WALL_PER_T

log = logging.getLogger(__name__)


class Detector(Protocol):
    state: str

    def feed(self, t: float, kg: float) -> Sequence[Event]: ...
    def finish(self) -> Sequence[Event]: ...
    def set_target(self, seconds: float, breaths: int = 0) -> None: ...
    def status(self) -> dict[str, Any]: ...


LATE_BINS_MS = (0.5, 1.0, 2.0, 5.0, 12.5, 25.0, 50.0, 100.0, math.inf)


@dataclass
class LoopStats:
    """Counts and lateness of the loop, so the bench and /api/health can show its health."""

    samples: int = 0
    faults: int = 0
    events: int = 0
    output_errors: int = 0
    overdue: int = 0     # samples released a whole sample period late: on hardware, a lost conversion
    late_s: deque[float] = field(default_factory=lambda: deque(maxlen=8192))
    # samples per lateness bin (upper edges LATE_BINS_MS), since the start: two readings of
    # /api/health give the lateness of exactly the window between them (bench/loop_load.py)
    late_hist: list[int] = field(default_factory=lambda: [0] * len(LATE_BINS_MS))

    def note_late(self, late_s: float) -> None:
        self.late_s.append(late_s)
        ms = late_s * 1000
        self.late_hist[next(i for i, edge in enumerate(LATE_BINS_MS) if ms <= edge)] += 1

    def summary(self) -> dict[str, float]:
        late = sorted(self.late_s)
        counts = {"samples": self.samples, "events": self.events, "faults": self.faults,
                  "output_errors": self.output_errors, "overdue": self.overdue,
                  "late_hist_ms": dict(zip(map(str, LATE_BINS_MS), self.late_hist, strict=True))}
        if not late:
            return counts
        return {
            **counts,
            "late_p50_ms": 1000 * late[len(late) // 2],
            "late_p99_ms": 1000 * late[min(len(late) - 1, int(len(late) * 0.99))],
            "late_max_ms": 1000 * late[-1],
        }


class FaultTracker:
    """Turns `Sample.fault` transitions into sensor_fault / sensor_ok events."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def check(self, sample: Sample) -> Event | None:
        if sample.fault is not None:
            if sample.fault != self.reason:
                self.reason = sample.fault
                return Event(ev.SENSOR_FAULT, sample.t, {"reason": sample.fault})
            return None
        if self.reason is not None:
            was, self.reason = self.reason, None
            return Event(ev.SENSOR_OK, sample.t, {"after": was})
        return None


def tell_body_kg(detector: Any, body_kg: float | None) -> None:
    """Give a running detector the person's body weight (None: unknown), for its next stretch.

    Why between stretches only (the caller waits for empty or standing): a stretch is judged with
    one weight throughout. The detector reads `config.body_kg` where it uses it, so a config
    replaced whole (and so checked against its ranges again) is all it takes; a detector without
    a `config` (a test's stand-in) has no use for the weight."""
    config = getattr(detector, "config", None)
    if config is not None and getattr(config, "body_kg", None) != body_kg:
        detector.config = dataclasses.replace(config, body_kg=body_kg)


class Device:
    def __init__(
        self,
        source: SampleSource,
        detector: Detector,
        *,
        routine: Any = None,
        cues: Any = None,
        writer: Any = None,
        live: Any = None,
        session_id: int = 0,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        wait: Callable[[float], None] | None = None,
        status_extra: dict[str, Any] | None = None,
        sinks: Sequence[Any] = (),
        status_from: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.source = source
        self.detector = detector
        self.routine = routine
        self.cues = cues
        self.writer = writer
        self.live = live
        self.sinks = tuple(sinks)   # objects with on_sample(t, kg, status), on_event(event, status)
        self._failed_outputs: set[str] = set()
        self.session_id = session_id
        self.speed = speed
        self.clock = clock
        self.wall = wall
        self._wait = wait  # how pacing waits; None = the stop event's wait (a fake clock's in tests)
        self.faults = FaultTracker()
        self.stats = LoopStats()
        self.last_kg = math.nan
        self._status_extra = dict(status_extra or {})
        self.sinks = tuple(sinks)   # on_sample(t, kg, status) / on_event(event, status); never block
        self._status_from = status_from   # more status that changes as it runs (the calibration)
        self._body_kg_due = False         # the routine's body weight changed; told between stretches
        if routine is not None:
            routine.new_detector()        # a stretch cut off by a restart is over
        self._apply_target(fresh=True)   # a new detector (also after a restart) gets the routine's target

    # --- one sample -------------------------------------------------------------------------
    def process(self, sample: Sample) -> list[Event]:
        """Feed one sample through the chain; returns the events it produced."""
        self.stats.samples += 1
        out: list[Event] = []
        fault_event = self.faults.check(sample)
        if fault_event is not None:
            out.append(fault_event)
        if sample.fault is None:
            self.last_kg = sample.kg
        else:
            self.stats.faults += 1
        out.extend(self.detector.feed(sample.t, sample.kg))
        now = self.clock()
        for event in out:
            self._dispatch(event, now)
        if self.routine is not None:
            self._routine_cues(self.routine.poll, sample.t, self.last_kg)
        if self.cues is not None:
            self._output("buzzer", self.cues.tick, now)
        if self.live is not None or self.sinks:
            status = self.status()
            if self.live is not None:
                self.live.on_sample(sample.t, self.last_kg, status)
            for sink in self.sinks:
                self._output(type(sink).__name__, sink.on_sample, sample.t, self.last_kg, status)
        return out

    def _output(self, name: str, call: Callable[..., Any], *args: Any) -> None:
        """Call an output; a failure is logged once per output and counted, never raised."""
        try:
            call(*args)
        except Exception:
            self.stats.output_errors += 1
            if name not in self._failed_outputs:
                self._failed_outputs.add(name)
                log.exception("output %s failed; the loop goes on without it (counted in health)", name)

    def finish(self) -> list[Event]:
        """End of input: close what the detector still has open."""
        out = self.detector.finish()
        now = self.clock()
        for event in out:
            self._dispatch(event, now)
        return out

    def _dispatch(self, event: Event, now: float) -> None:
        self.stats.events += 1
        leg = getattr(self.source, "leg", None)  # two cells: the load split knows the leg
        if self.routine is not None:
            context = self.routine.context(leg)  # the slot the event belongs to, before it moves on
        else:
            context = {"leg": leg} if leg is not None else {}
        if self.writer is not None:
            if self.speed != 1.0:   # source time runs `speed` times the wall's: say so to the store
                context = {**context, WALL_PER_T: 1.0 / self.speed}
            self.writer.record(self.session_id, event, self.wall(), context)
        if self.routine is not None:
            self._routine_cues(self.routine.on_event, event, leg)
        elif self.cues is not None:
            self._output("buzzer", self.cues.on_event, event, now)
        if self.live is not None or self.sinks:
            status = self.status()
            if self.live is not None:
                self.live.on_event(event, status)
            for sink in self.sinks:
                self._output(type(sink).__name__, sink.on_event, event, status)

    def _routine_cues(self, step: Callable[..., Sequence[str]], *args: Any) -> None:
        """The routine decides the cues while it runs (ready, switch legs, rest over, ...); a fault
        in it is logged and counted like an output's, and sampling and history go on."""
        names: list[Sequence[str]] = []
        self._output("routine", lambda: names.append(step(*args)))
        self._apply_target()
        if self.cues is not None and names:
            now = self.clock()
            for name in names[0]:
                self._output("buzzer", self.cues.play, name, now)

    def _apply_target(self, fresh: bool = False) -> None:
        target = self.routine.take_target(fresh) if self.routine is not None else None
        if target is not None:
            self.detector.set_target(*target)
            self._body_kg_due = True     # the settings changed: the weight may have too
        if self._body_kg_due and self.detector.state in ("empty", "standing"):
            self._body_kg_due = False
            tell_body_kg(self.detector, self.routine.settings.body_kg)

    def status(self) -> dict[str, Any]:
        """The live view's picture of the device right now."""
        status = dict(self.detector.status())
        status["kg"] = self.last_kg
        status["fault"] = self.faults.reason
        if self.faults.reason is not None:
            status["state"] = "fault"
        if self.routine is not None:
            status.update(self.routine.context())
            status["target_s"] = self.routine.target_s
            status["target_breaths"] = self.routine.target_breaths
            status["routine"] = self.routine.status()
        status.update(self._status_extra)
        if self._status_from is not None:
            status.update(self._status_from())
        return status

    # --- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None, max_samples: int | None = None) -> LoopStats:
        """Run until the source ends, `stop` is set, or `max_samples` were processed."""
        stop = stop or threading.Event()
        samples: Iterable[Sample] = self.source.samples()
        if not self.source.live:
            samples = self._paced(samples, stop)
        try:
            for count, sample in enumerate(samples, start=1):
                self.process(sample)
                if stop.is_set() or (max_samples is not None and count >= max_samples):
                    break
            self.finish()
        finally:
            self.source.close()
            if self.cues is not None:
                self._output("buzzer", self.cues.close)
        return self.stats

    def _paced(self, samples: Iterable[Sample], stop: threading.Event) -> Iterator[Sample]:
        """Release samples at their timestamps / speed; records how late each one was."""
        start_wall: float | None = None
        start_t = 0.0
        period = 1.0 / (float(getattr(self.source, "rate_hz", 0) or 80.0) * self.speed)
        for sample in samples:
            if start_wall is None:
                start_wall, start_t = self.clock(), sample.t
            due = start_wall + (sample.t - start_t) / self.speed
            delay = due - self.clock()
            if delay > 0:
                (self._wait or stop.wait)(delay)
                if stop.is_set():
                    return
            late = max(0.0, self.clock() - due)
            self.stats.note_late(late)
            if late > period:
                self.stats.overdue += 1
            yield sample
