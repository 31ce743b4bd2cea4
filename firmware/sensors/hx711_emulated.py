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

from firmware.calibration import CalibratedSource, Calibration, FaultMonitor, load_calibration
from firmware.sensors.base import Sample
from firmware.sensors.hx711 import HX711Reader
from firmware.sensors.hx711_chip import (
    EMULATED_DIGITALIO,
    HX711Chip,
    KgFeed,
    Signal,
    VirtualClock,
    VirtualMicrocontroller,
    load_cell_signal,
)

EMULATED_OFFSET = 85_000.0       # the emulated bridge's imbalance, counts at gain 128
EMULATED_COUNTS_PER_KG = 21_000.0
GAIN_FACTOR = {128: 1.0, 64: 0.5, 32: 0.25}
CALIBRATION_NAME = "hx711-emulated"


def emulated_pair(signal: Signal, *, rate_hz: int = 80, gain: int = 128, ready_timeout_s: float = 0.5,
                  clock: VirtualClock | None = None, **chip_options: Any) -> tuple[HX711Chip, HX711Reader]:
    """A chip fed by `signal` and the real-driver reader wired to its pins, on one virtual clock."""
    clock = clock or VirtualClock()
    chip = HX711Chip(signal, rate_hz=rate_hz, clock=clock, **chip_options)
    reader = HX711Reader(chip.dout, chip.pd_sck, rate_hz=rate_hz, gain=gain, ready_timeout_s=ready_timeout_s,
                         clock=clock, microcontroller=VirtualMicrocontroller(clock),
                         digitalio=EMULATED_DIGITALIO, where="emulated HX711")
    return chip, reader


class EmulatedHX711Source:
    """A SampleSource reading `kg_source` (a SampleSource or t -> kg) through the emulated chip."""

    live = False

    def __init__(self, kg_source: Any | Callable[[float], float], *, rate_hz: int = 80, gain: int = 128,
                 offset: float = EMULATED_OFFSET, counts_per_kg: float = EMULATED_COUNTS_PER_KG,
                 noise_counts: float = 20.0, seed: int = 0, calibration: Calibration | None = None,
                 ready_timeout_s: float = 0.5, pin_op_s: float = 0.0, preempt_reads: Iterable[int] = (),
                 monitor: FaultMonitor | None = None, drift: bool = True) -> None:
        self.rate_hz = float(rate_hz)
        self.feed = KgFeed(kg_source)
        signal = load_cell_signal(self.feed, offset=offset, counts_per_kg=counts_per_kg,
                                  channel_b=self.feed if gain == 32 else None,
                                  noise_counts=noise_counts, seed=seed)
        self.chip, self.reader = emulated_pair(signal, rate_hz=rate_hz, gain=gain,
                                               ready_timeout_s=ready_timeout_s, pin_op_s=pin_op_s,
                                               preempt_reads=preempt_reads)
        self.clock = self.chip.clock
        factor = GAIN_FACTOR[gain]
        self.truth = Calibration(offset=offset * factor, scale=counts_per_kg * factor)
        self.source = CalibratedSource(self.reader, calibration or self.truth, monitor=monitor, drift=drift,
                                       name=CALIBRATION_NAME)

    @property
    def calibration(self) -> Calibration:
        return self.source.calibration

    def samples(self) -> Iterator[Sample]:
        """Samples until a finite kg source ends (forever for a forever person or a function)."""
        for sample in self.source.samples():
            if self.feed.ended:
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


def still_load_reader(kg: float, *, rate_hz: int = 80, gain: int = 128, noise_counts: float = 20.0,
                      seed: int = 0) -> HX711Reader:
    """An emulated chip under a constant load: what `tare`/`calibrate --source hx711-emulated` read."""
    return EmulatedHX711Source(lambda t: kg, rate_hz=rate_hz, gain=gain, noise_counts=noise_counts,
                               seed=seed).reader
