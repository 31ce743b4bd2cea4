"""The real HX711: adafruit-circuitpython-hx711 over Blinka pins (or over the emulator's pins).

The driver (1.1.2, the version verified and pinned) was read before being trusted; what it
gets wrong for a Raspberry Pi, and what this thin adapter does about it:

- `read()` reads twice and throws the first conversion away (to apply the gain), halving the
  rate: we run the driver's bit-banging (`read_fast`, 25-27 pulses) once per conversion and only
  discard the one conversion made at an unknown gain (after a reset or a suspect read).
- `_read_channel_raw` busy-waits forever for DOUT low: we wait for ready ourselves, sleeping
  between polls, with a timeout that reports the sensor as not answering, and never enter the
  driver's spin loop (a wire coming loose between our check and its loop would hang the loop).
- Sign extension ORs 0xFF000000, which makes negative readings huge positive Python ints: we
  take the 24 bits back and apply two's complement.
- `read_fast` calls `microcontroller.disable_interrupts()`, which Blinka (10.0.0) lacks, and
  `microcontroller.delay_us()`, which Blinka implements as `time.sleep` - tens of microseconds
  on Linux, enough with PD_SCK high to power the chip down. We load the unmodified driver source
  into its own module with a `microcontroller` suited to Linux (no-op interrupt calls, which
  user space cannot make anyway; a busy-wait delay) or to the emulator's virtual clock.

A Linux process can still be preempted with PD_SCK high past 60 us, which resets the chip and
garbles the read. Every read is timed; one that took `stall_s` longer than the fastest recent
read is discarded, as is the next conversion (made at the reset gain, A128). `board` and
`digitalio` are imported only in `open_blinka_pins`, i.e. only when this source is built.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

from firmware.sensors.hx711.reading import (
    NOT_READY,
    PREEMPTED,
    UNSURE_GAIN,
    WARMING_UP,
    Clock,
    RawReading,
    SensorFault,
    SystemClock,
)

VERIFIED_DRIVER_VERSION = "1.1.2"
SETTLE_S = {10: 0.400, 80: 0.050}
GAIN_PULSES = {128: 25, 32: 26, 64: 27}   # the driver's CHAN_A_GAIN_128, CHAN_B_GAIN_32, CHAN_A_GAIN_64
WARMUP_READS = 3                         # reads that set the timing baseline before any is trusted


class LinuxMicrocontroller:
    """`microcontroller` for the driver on Linux: it cannot disable interrupts; delays busy-wait."""

    @staticmethod
    def disable_interrupts() -> None:
        """User space cannot disable interrupts; preemption is detected by timing instead."""

    @staticmethod
    def enable_interrupts() -> None:
        """See disable_interrupts."""

    @staticmethod
    def delay_us(us: float) -> None:
        end = time.perf_counter_ns() + int(us * 1000)
        while time.perf_counter_ns() < end:
            pass


_loaded = itertools.count()


def load_driver(microcontroller: Any, digitalio: Any = None,
                sleep: Callable[[float], None] | None = None) -> ModuleType:
    """A private copy of the installed adafruit_hx711.hx711 module bound to `microcontroller`.

    The driver's source runs unmodified; only the modules it imports by name are supplied.
    `digitalio` is needed only for the driver's type hints; None imports the real one. `sleep`
    replaces the driver's `time.sleep` (its 1 ms power reset) on a virtual clock.
    """
    spec = importlib.util.find_spec("adafruit_hx711.hx711")
    if spec is None or spec.origin is None:
        raise SensorFault("the HX711 driver is not installed: pip install 'stretchstep[pi]' "
                          f"(adafruit-circuitpython-hx711=={VERIFIED_DRIVER_VERSION})", "unplugged")
    name = f"_stretchstep_hx711_driver_{next(_loaded)}"
    private = importlib.util.spec_from_file_location(name, spec.origin)
    assert private is not None and private.loader is not None
    module = importlib.util.module_from_spec(private)
    supplied = {"microcontroller": microcontroller}
    if digitalio is not None:
        supplied["digitalio"] = digitalio
    with _modules_bound(supplied):
        private.loader.exec_module(module)
    if sleep is not None:
        module.time = SimpleNamespace(sleep=sleep)
    for needed in ("HX711", "read_fast"):
        if not hasattr(module, needed):
            raise SensorFault(f"adafruit_hx711 {getattr(module, '__version__', '?')} has no {needed}; "
                              f"this adapter was verified with {VERIFIED_DRIVER_VERSION}", "unplugged")
    return module


@contextlib.contextmanager
def _modules_bound(modules: dict[str, Any]) -> Iterator[None]:
    """sys.modules entries set for the duration of one import, then put back as they were."""
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old


def signed24(value: int) -> int:
    """Two's complement of the low 24 bits (the driver's own sign extension is wrong)."""
    value &= 0xFFFFFF
    return value - (1 << 24) if value & 0x800000 else value


class HX711Reader:
    """Reads one HX711 through the adafruit driver at the chip's full rate, never blocking forever.

    `read()` returns a RawReading every time: a code, or the reason there is none. Pins are
    digitalio-like objects (Blinka's, or the emulator's); `clock` and `microcontroller` are real
    by default and virtual with the emulator.
    """

    def __init__(self, data_pin: Any, clock_pin: Any, *, rate_hz: int = 80, gain: int = 128,
                 ready_timeout_s: float = 0.5, clock: Clock | None = None, microcontroller: Any = None,
                 digitalio: Any = None, stall_s: float = 50e-6, poll_s: float | None = None,
                 where: str = "HX711") -> None:
        if rate_hz not in SETTLE_S:
            raise ValueError(f"HX711 rate_hz must be 10 or 80 (the RATE pin), not {rate_hz!r}")
        if gain not in GAIN_PULSES:
            raise ValueError(f"HX711 gain must be 128 or 64 (channel A) or 32 (channel B), not {gain!r}")
        if ready_timeout_s <= 0:
            raise ValueError(f"ready_timeout_s must be > 0, not {ready_timeout_s!r}")
        self.rate_hz = float(rate_hz)
        self.live = clock is None   # real time paces itself; a virtual clock must be paced by the loop
        self.gain = gain
        self.where = where
        self.ready_timeout_s = ready_timeout_s
        self.stall_s = stall_s
        self._period = 1.0 / rate_hz
        self._settle_s = SETTLE_S[rate_hz]
        self._poll_s = poll_s if poll_s is not None else self._period / 25
        self._pulses = GAIN_PULSES[gain]
        self._clock: Clock = clock or SystemClock()
        self._pins = (data_pin, clock_pin)
        self._data_pin, self._clock_pin = data_pin, clock_pin
        module = load_driver(microcontroller or LinuxMicrocontroller(), digitalio,
                             sleep=None if clock is None else clock.sleep)
        self.driver_version = getattr(module, "__version__", "?")
        self.driver = module.HX711(data_pin, clock_pin)
        self._read_fast = module.read_fast
        self._durations: deque[float] = deque(maxlen=64)
        self._intervals: deque[float] = deque(maxlen=15)
        self.counts = {"ok": 0, NOT_READY: 0, PREEMPTED: 0, UNSURE_GAIN: 0, WARMING_UP: 0}
        self.reset()

    def reset(self) -> None:
        """Power-cycle the chip (PD_SCK high 1 ms) and wait for its first settled conversion."""
        self.driver.power_down(True)
        self._clock.sleep(0.001)
        self.driver.power_down(False)
        self._after_reset(self._clock.monotonic())

    def _after_reset(self, now: float) -> None:
        """After a reset the chip converts at A128; we cannot trust timing or gain yet."""
        self._gain_known = self._pulses == GAIN_PULSES[128]
        self._warmup_left = WARMUP_READS
        self._last_ready = now + self._settle_s - self._period
        self._reset_at = now

    def read(self) -> RawReading:
        """Wait for the next conversion and read it, or say why there is no reading."""
        ready_at = self._wait_ready()
        if ready_at is None:
            return self._not_ready()
        interval = ready_at - self._last_ready
        # judged against the chip's real pace too, in case its RATE pin disagrees with the config
        typical = sorted(self._intervals)[len(self._intervals) // 2] if self._intervals else self._period
        late = interval > 2.5 * max(self._period, typical) + self._poll_s
        self._intervals.append(interval)
        self._last_ready = ready_at
        started = self._clock.monotonic()
        # What the driver's _read_channel_raw does once DOUT is low: one conversion, and
        # `_pulses` clocks that set our gain for the next one.
        self._clock_pin.value = False
        raw = self._read_fast(self._clock_pin, self._data_pin, self._pulses) >> (self._pulses - 24)
        took = self._clock.monotonic() - started
        return self._judge(ready_at, signed24(raw), took, late)

    def _judge(self, t: float, code: int, took: float, late: bool) -> RawReading:
        fastest = min(self._durations) if self._durations else took
        self._durations.append(took)
        problem, detail = None, ""
        if self._warmup_left > 0:
            self._warmup_left -= 1
            problem, detail = WARMING_UP, "first reads after a reset"
            self._gain_known = True     # this read set our gain for the next conversion
        elif took > fastest + self.stall_s:
            problem = PREEMPTED
            detail = f"read took {took * 1e6:.0f} us, fastest {fastest * 1e6:.0f} us: the chip may have reset"
            self._gain_known = self._pulses == GAIN_PULSES[128]
            self._reset_at = self._clock.monotonic()   # allow for the settling time of a reset chip
        elif not self._gain_known or (late and self._pulses != GAIN_PULSES[128]):
            problem, detail = UNSURE_GAIN, "conversion made before our gain took effect"
            self._gain_known = True
        self.counts[problem or "ok"] += 1
        return RawReading(t, None if problem else code, problem, detail)

    def _wait_ready(self) -> float | None:
        """The time DOUT was seen low, or None `ready_timeout_s` after the conversion was due."""
        now = self._clock.monotonic()
        due = max(now, self._last_ready + self._period, self._reset_at + self._settle_s + self._period)
        deadline = due + self.ready_timeout_s
        self._clock.sleep(self._last_ready + 0.8 * self._period - now)   # no conversion before then
        while True:
            now = self._clock.monotonic()
            if not self.driver.is_busy:
                return now
            if now >= deadline:
                return None
            self._clock.sleep(min(self._poll_s, deadline - now))

    def _not_ready(self) -> RawReading:
        now = self._clock.monotonic()
        self.counts[NOT_READY] += 1
        self._after_reset(now - self._settle_s)   # a chip that comes back has reset itself
        self._warmup_left = 0
        self._last_ready = now
        return RawReading(now, None, NOT_READY,
                          f"{self.where} did not signal ready (DOUT low) within {self.ready_timeout_s:g} s: "
                          "check its VCC, GND, DT and SCK wires")

    def read_code(self) -> int:
        """One good code, skipping discarded reads; raises SensorFault if the chip never answers."""
        for _ in range(WARMUP_READS + 8):
            reading = self.read()
            if reading.code is not None:
                return reading.code
            if reading.problem == NOT_READY:
                raise SensorFault(reading.detail, "unplugged")
        raise SensorFault(f"{self.where}: no usable reading in {WARMUP_READS + 8} tries", "timing")

    def readings(self) -> Iterator[RawReading]:
        """Readings forever, at the chip's rate."""
        while True:
            yield self.read()

    def close(self) -> None:
        """Power the chip down and release the pins. Safe to call twice."""
        pins, self._pins = self._pins, ()
        if not pins:
            return
        with contextlib.suppress(Exception):
            self.driver.power_down(True)
        for pin in pins:
            with contextlib.suppress(Exception):
                pin.deinit()


def open_blinka_pins(data_bcm: int, clock_bcm: int) -> tuple[Any, Any]:
    """DOUT as input and PD_SCK as output (low) through Blinka; the only import of board/digitalio."""
    try:
        import board
        import digitalio
    except (ImportError, NotImplementedError, RuntimeError) as exc:
        raise SensorFault(f"cannot reach the GPIO pins through Blinka ({exc}); on a Raspberry Pi "
                          "install the pi extra: pip install 'stretchstep[pi]'", "unplugged") from exc
    pins = []
    for bcm in (data_bcm, clock_bcm):
        if not hasattr(board, f"D{bcm}"):
            raise SensorFault(f"Blinka has no pin D{bcm} on this board: is this a Raspberry Pi, "
                              f"and is BCM {bcm} a GPIO pin?", "unplugged")
        pins.append(digitalio.DigitalInOut(getattr(board, f"D{bcm}")))
    data, clock = pins
    data.switch_to_input()
    clock.switch_to_output(value=False)
    return data, clock


def open_hx711_reader(data_bcm: int = 5, clock_bcm: int = 6, *, rate_hz: int = 80, gain: int = 128,
                      ready_timeout_s: float = 0.5) -> HX711Reader:
    """The reader on real pins (BCM numbering)."""
    data, clock = open_blinka_pins(data_bcm, clock_bcm)
    return HX711Reader(data, clock, rate_hz=rate_hz, gain=gain, ready_timeout_s=ready_timeout_s,
                       where=f"HX711 on DT=BCM{data_bcm}/SCK=BCM{clock_bcm}")
