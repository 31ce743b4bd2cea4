"""The emulated HX711 as a raw reader: a kg signal -> pin-level chip -> the real driver adapter.

    kg (a SampleSource or t -> kg) -> load_cell_signal -> HX711Chip (pins, virtual clock)
    -> adafruit driver -> HX711Reader -> RawReading

Every reading went through the real driver's bit-banging, our ready wait and two's complement.
Time is the emulator's virtual clock, so the reader is not live: whoever reads it is paced by
sample timestamps. Turning the codes into kg (calibration, faults) is
`firmware.calibration.emulated`'s job; this module knows only the chip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from firmware.sensors.hx711.chip import (
    EMULATED_DIGITALIO,
    HX711Chip,
    KgFeed,
    Signal,
    VirtualClock,
    VirtualMicrocontroller,
    load_cell_signal,
)
from firmware.sensors.hx711.driver import HX711Reader
from firmware.sensors.hx711.reading import RawReading

EMULATED_OFFSET = 85_000.0       # the emulated bridge's imbalance, counts at gain 128
EMULATED_COUNTS_PER_KG = 21_000.0
GAIN_FACTOR = {128: 1.0, 64: 0.5, 32: 0.25}


def emulated_pair(signal: Signal, *, rate_hz: int = 80, gain: int = 128, ready_timeout_s: float = 0.5,
                  clock: VirtualClock | None = None, **chip_options: Any) -> tuple[HX711Chip, HX711Reader]:
    """A chip fed by `signal` and the real-driver reader wired to its pins, on one virtual clock."""
    clock = clock or VirtualClock()
    chip = HX711Chip(signal, rate_hz=rate_hz, clock=clock, **chip_options)
    reader = HX711Reader(chip.dout, chip.pd_sck, rate_hz=rate_hz, gain=gain, ready_timeout_s=ready_timeout_s,
                         clock=clock, microcontroller=VirtualMicrocontroller(clock),
                         digitalio=EMULATED_DIGITALIO, where="emulated HX711")
    return chip, reader


class EmulatedHX711:
    """A raw reader (`readings()`, `rate_hz`, `live`) over an emulated chip loaded by `kg_source`.

    `true_offset` / `true_counts_per_kg` are the bridge's real figures at this gain: what a
    perfect tare and calibration would find.
    """

    live = False

    def __init__(self, kg_source: Any | Callable[[float], float], *, rate_hz: int = 80, gain: int = 128,
                 offset: float = EMULATED_OFFSET, counts_per_kg: float = EMULATED_COUNTS_PER_KG,
                 noise_counts: float = 20.0, seed: int = 0, ready_timeout_s: float = 0.5,
                 pin_op_s: float = 0.0, preempt_reads: Iterable[int] = (),
                 clock: VirtualClock | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.feed = KgFeed(kg_source)
        signal = load_cell_signal(self.feed, offset=offset, counts_per_kg=counts_per_kg,
                                  channel_b=self.feed if gain == 32 else None,
                                  noise_counts=noise_counts, seed=seed)
        self.chip, self.reader = emulated_pair(signal, rate_hz=rate_hz, gain=gain,
                                               ready_timeout_s=ready_timeout_s, pin_op_s=pin_op_s,
                                               preempt_reads=preempt_reads, clock=clock)
        self.clock = self.chip.clock
        self.true_offset = offset * GAIN_FACTOR[gain]
        self.true_counts_per_kg = counts_per_kg * GAIN_FACTOR[gain]

    @property
    def ended(self) -> bool:
        """Whether a finite kg source has run out (never for a function or a forever person)."""
        return self.feed.ended

    def readings(self) -> Iterator[RawReading]:
        return self.reader.readings()

    def close(self) -> None:
        self.reader.close()
        self.feed.close()


def still_load_reader(kg: float, *, rate_hz: int = 80, gain: int = 128, noise_counts: float = 20.0,
                      seed: int = 0) -> HX711Reader:
    """An emulated chip under a constant load: what `tare`/`calibrate --source hx711-emulated` read."""
    return EmulatedHX711(lambda t: kg, rate_hz=rate_hz, gain=gain, noise_counts=noise_counts,
                         seed=seed).reader
