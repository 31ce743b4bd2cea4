"""Turns a source name from the config or the command line into a kg SampleSource.

The one place sensors and calibration meet: the hardware kinds are raw readers from
`firmware.sensors.hx711` wrapped by `firmware.calibration` (which is why this is not inside
`firmware.sensors`: the sensors know nothing of calibration).

Names: `simulated` (a person who keeps visiting the step, forever), `simulated:SCENARIO`
(a scripted scenario that ends), `replay:PATH`, `hx711` (the real chip on a Pi),
`hx711-emulated` (the real driver reading a pin-level chip emulator), `hx711-iio` (the kernel's
IIO driver through sysfs; see hardware/README.md). Hardware modules are
imported only when chosen, so a laptop never needs Blinka.
"""

from __future__ import annotations

from firmware.config import Config
from firmware.sensors.base import SampleSource


class SourceError(ValueError):
    """A source name or its arguments that cannot be used."""


def open_source(spec: str, config: Config, *, fast: bool = False) -> SampleSource:
    kind, _, arg = spec.partition(":")
    if kind == "simulated":
        return _simulated(arg, config)
    if kind == "replay":
        if not arg:
            raise SourceError("replay needs a trace path: --source replay:PATH")
        from firmware.sensors.trace import ReplaySource

        return ReplaySource(arg, fast=fast)
    if kind == "hx711":
        if config.sensor2.data_pin and config.sensor2.clock_pin:
            from firmware.calibration.cells import open_pair_source

            return open_pair_source(config)  # two cells: the load split tells the leg
        from firmware.calibration.cells import open_hx711_source

        return open_hx711_source(config)
    if kind == "hx711-iio":
        from firmware.calibration.cells import open_iio_source

        return open_iio_source(config)
    if kind == "hx711-emulated":
        from firmware.calibration.emulated import open_emulated_source

        return open_emulated_source(config)
    raise SourceError(
        f"unknown source {spec!r}; use simulated, simulated:SCENARIO, replay:PATH, hx711, hx711-iio "
        "or hx711-emulated"
    )


def _simulated(scenario_name: str, config: Config) -> SampleSource:
    from firmware.sensors import simulated

    sim = config.simulation
    rate = float(config.sensor.rate_hz)
    if not scenario_name or scenario_name == "forever":
        return simulated.forever_person(seed=sim.seed, rate_hz=rate, body_kg=sim.body_kg)
    try:
        return simulated.scenario(scenario_name, seed=sim.seed, rate_hz=rate, body_kg=sim.body_kg)
    except (KeyError, ValueError) as exc:
        raise SourceError(f"simulated:{scenario_name}: {exc}") from None
