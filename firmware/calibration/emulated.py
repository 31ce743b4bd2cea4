"""`--source hx711-emulated`: the whole real chain with no hardware.

    simulated person (kg) -> HX711Chip (pins, virtual clock) -> adafruit driver -> HX711Reader
    -> CalibratedSource (faults, glitches, calibration) -> Sample

Every sample went through the real driver's bit-banging, our ready wait and two's complement,
and the same calibration and fault code as the real sensor. Time is the emulator's virtual
clock, so the source is not live: the loop paces it (or a recording runs it flat out), and its
sample timestamps follow the chip's conversion rate exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from firmware.calibration.faults import FaultMonitor
from firmware.calibration.files import load_calibration
from firmware.calibration.model import Calibration
from firmware.calibration.source import CalibratedSource
from firmware.sensors.base import Sample
from firmware.sensors.hx711.chip import VirtualClock
from firmware.sensors.hx711.emulated import EMULATED_COUNTS_PER_KG, EMULATED_OFFSET, EmulatedHX711
from firmware.sensors.hx711.pair import PairedSource

CALIBRATION_NAME = "hx711-emulated"


class EmulatedHX711Source:
    """A SampleSource reading `kg_source` (a SampleSource or t -> kg) through the emulated chip."""

    live = False

    def __init__(self, kg_source: Any | Callable[[float], float], *, rate_hz: int = 80, gain: int = 128,
                 offset: float = EMULATED_OFFSET, counts_per_kg: float = EMULATED_COUNTS_PER_KG,
                 noise_counts: float = 20.0, seed: int = 0, calibration: Calibration | None = None,
                 ready_timeout_s: float = 0.5, pin_op_s: float = 0.0, preempt_reads: Iterable[int] = (),
                 monitor: FaultMonitor | None = None, drift: bool = True, name: str = CALIBRATION_NAME,
                 clock: VirtualClock | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.emulated = EmulatedHX711(kg_source, rate_hz=rate_hz, gain=gain, offset=offset,
                                      counts_per_kg=counts_per_kg, noise_counts=noise_counts, seed=seed,
                                      ready_timeout_s=ready_timeout_s, pin_op_s=pin_op_s,
                                      preempt_reads=preempt_reads, clock=clock)
        self.feed, self.chip, self.reader = self.emulated.feed, self.emulated.chip, self.emulated.reader
        self.clock = self.chip.clock
        self.truth = Calibration(offset=self.emulated.true_offset, scale=self.emulated.true_counts_per_kg)
        self.source = CalibratedSource(self.reader, calibration or self.truth, monitor=monitor, drift=drift,
                                       name=name)

    @property
    def calibration(self) -> Calibration:
        return self.source.calibration

    def samples(self) -> Iterator[Sample]:
        """Samples until a finite kg source ends (forever for a forever person or a function)."""
        for sample in self.source.samples():
            if self.emulated.ended:
                return
            yield sample

    def close(self) -> None:
        self.source.close()
        self.feed.close()


def open_emulated_source(config: Any) -> EmulatedHX711Source:
    """`--source hx711-emulated`: a forever simulated person on an emulated chip, config rate and gain.

    The emulated step's saved calibration (`stretchstep tare --source hx711-emulated`) is used
    if there is one; otherwise the emulator's true offset and scale.
    """
    from firmware.sensors import simulated

    sensor, sim = config.sensor, config.simulation
    person = simulated.forever_person(seed=sim.seed, rate_hz=float(sensor.rate_hz), body_kg=sim.body_kg)
    emulated = EmulatedHX711Source(person, rate_hz=sensor.rate_hz, gain=sensor.gain,
                                   ready_timeout_s=sensor.ready_timeout_s, seed=sim.seed)
    saved = load_calibration(config.data_dir(), CALIBRATION_NAME, default=emulated.truth)
    emulated.source.set_calibration(saved)
    return emulated


def emulated_pair_source(kg_source: Any, right_share: Callable[[float], float], *, rate_hz: int = 80,
                         noise_counts: float = 20.0, seed: int = 0) -> PairedSource:
    """Two emulated chips on one virtual clock, splitting a person's load by `right_share(t)`."""
    from firmware.sensors.hx711.chip import KgFeed

    feed = KgFeed(kg_source)
    clock = VirtualClock()
    halves = {"left": lambda t: feed(t) * (1.0 - right_share(t)),
              "right": lambda t: feed(t) * right_share(t)}
    sources = [EmulatedHX711Source(half, rate_hz=rate_hz, offset=EMULATED_OFFSET + 1000 * i,
                                   noise_counts=noise_counts, seed=seed + i, clock=clock,
                                   name=f"emulated-{side}").source
               for i, (side, half) in enumerate(halves.items())]
    return PairedSource(*sources, ended=lambda: feed.ended)
