"""Where a calibration lives on disk, and writing it so that a crash or power cut loses nothing.

A save goes through `firmware.files.write_atomic` (temp file, fsync, rename, fsync of the
directory): after a power cut the file is either the old calibration or the new one, never
empty or half written, and it is owner-only like the rest of the data dir.
"""

from __future__ import annotations

import json
from pathlib import Path

from firmware.calibration.model import Calibration, CalibrationError
from firmware.files import private_dir, write_atomic


def calibration_path(data_dir: str | Path, name: str = "hx711") -> Path:
    """`calibration.json` for the real sensor; `calibration-NAME.json` for others (the emulator)."""
    return Path(data_dir) / ("calibration.json" if name == "hx711" else f"calibration-{name}.json")


def load_calibration(data_dir: str | Path, name: str = "hx711",
                     default: Calibration | None = None) -> Calibration:
    """The saved calibration, or `default` (the uncalibrated one) if none was saved yet."""
    path = calibration_path(data_dir, name)
    if not path.exists():
        return default or Calibration()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {"offset", "scale", "date", "calibrated_at", "known_kg"}
        return Calibration(**{k: v for k, v in raw.items() if k in known})
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read the calibration ({exc.strerror}); run this "
                               "as the service's user or with sudo") from None
    except (ValueError, TypeError, AttributeError) as exc:   # bad JSON, not text, not an object
        if isinstance(exc, CalibrationError):
            raise CalibrationError(f"{path}: {exc}") from None
        raise CalibrationError(f"{path}: not a calibration file ({exc}); delete it and tare again") from None


def save_calibration(calibration: Calibration, data_dir: str | Path, name: str = "hx711") -> Path:
    """Write atomically and durably to the data dir; the path written."""
    path = calibration_path(data_dir, name)
    private_dir(path.parent)
    return write_atomic(path, json.dumps(calibration.to_dict(), indent=2) + "\n")  # 0600, fsynced
