"""Moved to `firmware.sources` (it joins sensors and calibration, so it cannot live in sensors).

Kept only so branches written against the old path still import while they are merged; new
code imports `firmware.sources`. Forwarded lazily, so importing `firmware.sensors` still pulls
in nothing of calibration.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    import firmware.sources

    return getattr(firmware.sources, name)
