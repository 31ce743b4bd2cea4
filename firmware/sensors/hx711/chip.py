"""A pin-level HX711 emulator on a virtual clock, so the real driver can be proven without a chip.

What the chip does (datasheet, as emulated here):

- It converts continuously at its RATE (10 or 80 SPS). When a conversion is ready DOUT goes low.
- The host clocks PD_SCK; each rising edge shifts one bit of the 24-bit two's-complement code
  out on DOUT, MSB first. The 25th pulse pulls DOUT high again. The total number of pulses in
  the read (25, 26 or 27) selects channel A gain 128, channel B gain 32 or channel A gain 64
  for the NEXT conversion.
- PD_SCK held high for more than 60 us powers the chip down; the read in progress is lost and
  DOUT reads high. When PD_SCK goes low again the chip resets: channel A gain 128, and the
  first conversion only arrives after the output settling time (400 ms at 10 SPS, 50 ms at 80).
- Inputs beyond the range saturate at 0x7FFFFF / 0x800000.

Time is a `VirtualClock`: nothing sleeps. Pin accesses may cost `pin_op_s` of virtual time and
the driver's `delay_us` advances it through `VirtualMicrocontroller`. A Linux reader being
preempted with PD_SCK high - the classic failure of user-space HX711 code - is injected
deterministically with `preempt_reads`: on those reads (counted from 1) the clock jumps by
`preempt_s` right after the rising edge `preempt_bit`. `disconnected` (DT wire off, DOUT pulled
high) and `bit_errors` ({read number: XOR mask}) inject the other sensor faults.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from firmware.sensors.base import Sample

CODE_MAX = 0x7FFFFF
CODE_MIN = -0x800000
POWER_DOWN_S = 60e-6
SETTLE_S = {10: 0.400, 80: 0.050}
PULSES_A128, PULSES_B32, PULSES_A64 = 25, 26, 27
INPUT_NAMES = {PULSES_A128: "A128", PULSES_B32: "B32", PULSES_A64: "A64"}

# What the chip converts: (conversion time, input selected by its pulse count) -> raw code.
Signal = Callable[[float, int], float]


class VirtualClock:
    """Seconds that pass only when someone says so: the emulator's and the reader's time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds

    advance = sleep


class VirtualMicrocontroller:
    """What the driver imports as `microcontroller`, with delays spent on the virtual clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def delay_us(self, us: float) -> None:
        self._clock.advance(us * 1e-6)

    def disable_interrupts(self) -> None:
        """Nothing to disable in an emulator (and nothing a Linux user process could disable)."""

    def enable_interrupts(self) -> None:
        """See disable_interrupts."""


def clamp_code(code: float) -> int:
    """The 24-bit signed code the chip would output: rounded, saturating at the rails."""
    if math.isnan(code):
        return CODE_MAX
    return max(CODE_MIN, min(CODE_MAX, round(code)))


class KgFeed:
    """Turns any kg source into a t -> kg function: a callable, or a SampleSource sampled-and-held.

    A sample source (e.g. a SimulatedPerson) is consumed lazily in time order; NaN samples hold
    the previous value. `ended` turns true once a finite source has no samples left.
    """

    def __init__(self, source: Callable[[float], float] | Any) -> None:
        self.ended = False
        self._fn: Callable[[float], float] | None = source if callable(source) else None
        self._samples: Iterator[Sample] | None = None if self._fn else iter(source.samples())
        self._source = source
        self._kg = 0.0
        self._last_t = -math.inf
        self._exhausted = False
        self._next: Sample | None = None

    def __call__(self, t: float) -> float:
        if self._fn is not None:
            return float(self._fn(t))
        while True:
            if self._next is None and not self._exhausted:
                self._next = next(self._samples, None)  # type: ignore[arg-type]
                self._exhausted = self._next is None
            if self._next is None:
                self.ended = t > self._last_t      # asked for a time after the last sample
                return self._kg
            if self._next.t > t:
                return self._kg
            if not math.isnan(self._next.kg):
                self._kg = self._next.kg
            self._last_t = self._next.t
            self._next = None

    def close(self) -> None:
        closer = getattr(self._source, "close", None)
        if self._fn is None and closer is not None:
            closer()


def load_cell_signal(kg_at: Callable[[float], float], *, offset: float = 85_000.0,
                     counts_per_kg: float = 21_000.0, channel_b: Callable[[float], float] | None = None,
                     noise_counts: float = 0.0, seed: int = 0) -> Signal:
    """A bridge on channel A (and optionally B): code = (offset + kg * counts_per_kg) * gain / 128.

    The offset is the bridge's own imbalance, so it scales with the gain like the load does;
    channel B (gain 32) reads `channel_b(t)` kg through the same bridge model, 0 kg if absent.
    `noise_counts` adds Gaussian noise (the chip's own, at gain 128) from a seeded generator.
    """
    rng = random.Random(seed)

    def signal(t: float, pulses: int) -> float:
        kg = (channel_b(t) if channel_b else 0.0) if pulses == PULSES_B32 else kg_at(t)
        code = offset + kg * counts_per_kg + (rng.gauss(0.0, noise_counts) if noise_counts else 0.0)
        return code * {PULSES_A128: 1.0, PULSES_A64: 0.5, PULSES_B32: 0.25}[pulses]

    return signal


class _Pin:
    """The part of digitalio.DigitalInOut the driver and reader use."""

    def __init__(self, chip: HX711Chip, name: str) -> None:
        self._chip = chip
        self.name = name
        self.direction: Any = None
        self.pull: Any = None

    def switch_to_output(self, value: bool = False, drive_mode: Any = None) -> None:
        self.value = value

    def switch_to_input(self, pull: Any = None) -> None:
        self.pull = pull

    def deinit(self) -> None:
        self._chip.deinit_count += 1

    def __enter__(self) -> _Pin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.deinit()


class DataPin(_Pin):
    """DOUT: read-only from the host's side."""

    @property
    def value(self) -> bool:
        return self._chip._read_dout()

    @value.setter
    def value(self, level: bool) -> None:
        raise AttributeError("DOUT is an input: the HX711 drives it")


class ClockPin(_Pin):
    """PD_SCK: the host drives it; reading gives back the level last written."""

    @property
    def value(self) -> bool:
        return self._chip._read_sck()

    @value.setter
    def value(self, level: bool) -> None:
        self._chip._write_sck(bool(level))


# A stand-in for the `digitalio` module, so the driver can be loaded without Blinka.
EMULATED_DIGITALIO = SimpleNamespace(DigitalInOut=_Pin, Direction=SimpleNamespace(INPUT="in", OUTPUT="out"))


class HX711Chip:
    """One HX711 behind two pin objects, `dout` and `pd_sck` (see the module docstring)."""

    def __init__(self, signal: Signal, *, rate_hz: int = 80, clock: VirtualClock | None = None,
                 pin_op_s: float = 0.0, preempt_reads: Iterable[int] = (), preempt_s: float = 200e-6,
                 preempt_bit: int = 12) -> None:
        if rate_hz not in SETTLE_S:
            raise ValueError(f"HX711 rate_hz must be 10 or 80, not {rate_hz!r}")
        self.signal = signal
        self.rate_hz = rate_hz
        self.period = 1.0 / rate_hz
        self.clock = clock or VirtualClock()
        self.pin_op_s = pin_op_s
        self.preempt_reads = set(preempt_reads)
        self.preempt_s = preempt_s
        self.preempt_bit = preempt_bit
        # Faults to inject: DT wire off (DOUT pulled high), and bit errors {read number: XOR mask}.
        self.disconnected = False
        self.bit_errors: dict[int, int] = {}
        self.dout = DataPin(self, "DOUT")
        self.pd_sck = ClockPin(self, "PD_SCK")
        # Observable history, for tests and benchmarks.
        self.reads_started = 0
        self.reads_completed = 0
        self.power_downs = 0
        self.deinit_count = 0
        # (conversion t, input pulses, code) of the latest reads
        self.conversions_read: deque[tuple[float, int, int]] = deque(maxlen=4096)
        self._sck = False
        self._high_since = 0.0
        self._powered = True
        self._pulses = PULSES_A128          # input/gain for conversions after the last read
        self._prev_pulses = PULSES_A128
        self._pulses_since = -math.inf      # when `_pulses` took effect
        self._first_conv = self.clock.now + self.period
        self._last_read_index = -1          # index of the last conversion latched by a read
        self._reading = False
        self._bits = 0                      # rising edges in the read in progress
        self._code = 0
        self._preempt_this_read = False

    # --- conversion schedule ----------------------------------------------------------------
    def _index_at(self, t: float) -> int:
        """The index of the newest conversion completed at time t (-1: none yet)."""
        if t < self._first_conv:
            return -1
        return int((t - self._first_conv) / self.period + 1e-9)

    def _conversion_time(self, index: int) -> float:
        return self._first_conv + index * self.period

    def _ready(self, now: float) -> bool:
        return self._powered and not self._reading and self._index_at(now) > self._last_read_index

    # --- pin operations -----------------------------------------------------------------------
    def _tick(self) -> float:
        """Spend one pin operation of virtual time and apply a power-down that has happened."""
        if self.pin_op_s:
            self.clock.advance(self.pin_op_s)
        now = self.clock.now
        if self._sck and self._powered and now - self._high_since > POWER_DOWN_S:
            self._power_down()
        if self._reading and self._bits >= 24 and not self._sck \
                and self._index_at(now) > self._last_read_index:
            self._finish_read()
        return now

    def _read_sck(self) -> bool:
        self._tick()
        return self._sck

    def _read_dout(self) -> bool:
        now = self._tick()
        if self.disconnected or not self._powered:
            return True
        if self._reading:
            if not self._sck and self._bits >= 24:
                self._finish_read()
                return not self._ready(now)
            if self._bits == 0:
                return False
            if self._bits <= 24:
                return bool((self._code >> (24 - self._bits)) & 1)
            return True
        return not self._ready(now)

    def _write_sck(self, level: bool) -> None:
        now = self._tick()
        if level == self._sck:
            return
        self._sck = level
        if level:
            self._high_since = now
            self._rising_edge(now)
        elif not self._powered:
            self._power_up(now)

    def _rising_edge(self, now: float) -> None:
        if not self._powered:
            return
        if not self._reading:
            if not self._ready(now):
                return   # pulses while not ready do nothing
            self._start_read(now)
        self._bits += 1
        if self._preempt_this_read and self._bits == self.preempt_bit:
            self.clock.advance(self.preempt_s)   # the OS took the CPU with PD_SCK high

    def _start_read(self, now: float) -> None:
        index = self._index_at(now)
        t_conv = self._conversion_time(index)
        pulses = self._pulses if t_conv >= self._pulses_since else self._prev_pulses
        self._code = clamp_code(self.signal(t_conv, pulses)) & 0xFFFFFF
        self._last_read_index = index
        self._reading = True
        self._bits = 0
        self.reads_started += 1
        self._code ^= self.bit_errors.get(self.reads_started, 0) & 0xFFFFFF
        self._preempt_this_read = self.reads_started in self.preempt_reads
        self.conversions_read.append((t_conv, pulses, _signed(self._code)))

    def _finish_read(self) -> None:
        """The read ends: its pulse count sets the input and gain of the next conversion."""
        self._reading = False
        if self._bits in INPUT_NAMES:
            self._prev_pulses, self._pulses = self._pulses, self._bits
            self._pulses_since = self.clock.now
        self.reads_completed += 1
        self._bits = 0

    def _power_down(self) -> None:
        self._powered = False
        self._reading = False
        self._bits = 0
        self.power_downs += 1

    def _power_up(self, now: float) -> None:
        """Reset: channel A gain 128, first conversion after the settling time."""
        self._powered = True
        self._pulses = self._prev_pulses = PULSES_A128
        self._pulses_since = -math.inf
        self._first_conv = now + SETTLE_S[self.rate_hz]
        self._last_read_index = -1

    @property
    def powered(self) -> bool:
        self._tick()
        return self._powered

    @property
    def next_input(self) -> str:
        """The input and gain the next conversion will use: 'A128', 'B32' or 'A64'."""
        self._tick()
        if self._reading and self._bits >= 24 and not self._sck:
            self._finish_read()
        return INPUT_NAMES[self._pulses]


def _signed(code24: int) -> int:
    return code24 - (1 << 24) if code24 & 0x800000 else code24
