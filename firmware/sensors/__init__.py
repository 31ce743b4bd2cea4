"""Where samples come from: simulated person, trace replay, real HX711, pin-level HX711 emulator."""

from firmware.sensors.base import Sample, SampleSource

__all__ = ["Sample", "SampleSource"]
