"""The HX711 read by the Linux kernel's IIO driver, through sysfs (optional; hardware/README.md §9).

The kernel driver (`hx711`, compatible "avia,hx711") bit-bangs with preemption disabled, so a
busy Pi cannot power the chip down mid-read as it can a user-space reader. It exposes, under
/sys/bus/iio/devices/iio:deviceN (whose `name` is "hx711"):

- `in_voltage0_raw` (channel A) and `in_voltage1_raw` (channel B, gain 32): offset binary,
  0x800000 is zero;
- `in_voltage_scale`, written with one of `in_voltage0_scale_available` to pick gain 128 or 64
  (the smaller scale, in mV per count, is the higher gain).

A read that finds no conversion ready makes the driver reset the chip (tens of ms), so reads
are paced at the chip's rate. A read the driver cannot complete fails with an OSError (EIO):
that becomes a NOT_READY reading, i.e. the "unplugged" fault, like the user-space reader's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from firmware.sensors.hx711.reading import NOT_READY, Clock, RawReading, SensorFault, SystemClock

SYSFS_ROOT = "/sys/bus/iio/devices"
OFFSET_BINARY_ZERO = 0x800000


def find_hx711_device(root: str | Path = SYSFS_ROOT) -> Path:
    """The IIO device directory whose `name` is hx711; SensorFault naming what was found if none."""
    root = Path(root)
    found = []
    for device in sorted(root.glob("iio:device*")):
        try:
            name = (device / "name").read_text(encoding="ascii").strip()
        except OSError:
            continue
        if name == "hx711":
            return device
        found.append(f"{device.name}={name}")
    seen = ", ".join(found) if found else "no IIO devices"
    raise SensorFault(f"no IIO device named hx711 under {root} ({seen}): load the hx711 module and "
                      "the device-tree overlay (hardware/README.md section 9)", "unplugged")


class IIOHX711Reader:
    """A raw source (like HX711Reader) over sysfs: `read()` -> RawReading, never blocking forever."""

    def __init__(self, device: str | Path | None = None, *, root: str | Path = SYSFS_ROOT,
                 rate_hz: int = 80, gain: int = 128, clock: Clock | None = None) -> None:
        if rate_hz not in (10, 80):
            raise ValueError(f"HX711 rate_hz must be 10 or 80 (the RATE pin), not {rate_hz!r}")
        if gain not in (128, 64, 32):
            raise ValueError(f"HX711 gain must be 128 or 64 (channel A) or 32 (channel B), not {gain!r}")
        self.device = Path(device) if device is not None else find_hx711_device(root)
        self.rate_hz = float(rate_hz)
        self.live = clock is None
        self.gain = gain
        self._clock: Clock = clock or SystemClock()
        self._period = 1.0 / rate_hz
        self._last: float | None = None
        self._raw = self.device / ("in_voltage1_raw" if gain == 32 else "in_voltage0_raw")
        if gain != 32:
            self._set_gain(gain)

    def _set_gain(self, gain: int) -> None:
        try:
            available = (self.device / "in_voltage0_scale_available").read_text(encoding="ascii").split()
            scales = sorted(available, key=float)
            (self.device / "in_voltage_scale").write_text(scales[0] if gain == 128 else scales[-1],
                                                          encoding="ascii")
        except (OSError, ValueError, IndexError) as exc:
            raise SensorFault(f"{self.device}: cannot set gain {gain} through in_voltage_scale ({exc})",
                              "unplugged") from exc

    def read(self) -> RawReading:
        if self._last is not None:
            self._clock.sleep(self._last + self._period - self._clock.monotonic())
        try:
            text = self._raw.read_text(encoding="ascii").strip()
            value = int(text)
        except (OSError, ValueError) as exc:
            now = self._clock.monotonic()
            self._last = now
            return RawReading(now, None, NOT_READY,
                              f"{self._raw}: {exc} - the kernel driver got no reading from the HX711: "
                              "check its wires")
        now = self._clock.monotonic()
        self._last = now
        if not 0 <= value <= 0xFFFFFF:
            return RawReading(now, None, NOT_READY, f"{self._raw}: {value} is not a 24-bit reading")
        return RawReading(now, value - OFFSET_BINARY_ZERO)

    def readings(self) -> Iterator[RawReading]:
        while True:
            yield self.read()

    def close(self) -> None:
        """Nothing held open: each read opens the sysfs file afresh."""
