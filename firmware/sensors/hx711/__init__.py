"""The HX711 family: the chip's raw readings, the driver adapter, its emulator, the kernel's IIO
reader, two cells as one step, and bring-up.

Everything here speaks raw codes (`RawReading`); turning them into kg is
`firmware.calibration`'s job (imports run calibration -> sensors, never back). The modules
that need Blinka or the adafruit driver import them only when a reader is built.
"""

from firmware.sensors.hx711.bringup import bring_up
from firmware.sensors.hx711.driver import (
    GAIN_PULSES,
    SETTLE_S,
    VERIFIED_DRIVER_VERSION,
    WARMUP_READS,
    HX711Reader,
    LinuxMicrocontroller,
    load_driver,
    open_blinka_pins,
    open_hx711_reader,
    signed24,
)
from firmware.sensors.hx711.reading import (
    NOT_READY,
    PREEMPTED,
    SATURATED_HIGH,
    SATURATED_LOW,
    UNSURE_GAIN,
    WARMING_UP,
    Clock,
    RawReading,
    SensorFault,
    SystemClock,
)

__all__ = [
    "GAIN_PULSES", "NOT_READY", "PREEMPTED", "SATURATED_HIGH", "SATURATED_LOW", "SETTLE_S",
    "UNSURE_GAIN", "VERIFIED_DRIVER_VERSION", "WARMING_UP", "WARMUP_READS", "Clock", "HX711Reader",
    "LinuxMicrocontroller", "RawReading", "SensorFault", "SystemClock", "bring_up", "load_driver",
    "open_blinka_pins", "open_hx711_reader", "signed24",
]
