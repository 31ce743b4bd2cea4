"""Raw HX711 codes -> kg: the maths, the files, fault watching, drift, the calibrated source,
the CLI's and the web's tare/calibrate, and the calibrated sources for each kind of cell.

Imports run one way: calibration uses `firmware.sensors` (raw readings), never the reverse.
The public names are re-exported here so `from firmware.calibration import X` keeps working.
"""

from firmware.calibration.cells import SECOND_CELL, open_hx711_source, open_iio_source, open_pair_source
from firmware.calibration.control import CalibrationControl
from firmware.calibration.drift import DriftCorrector
from firmware.calibration.emulated import (
    CALIBRATION_NAME,
    EmulatedHX711Source,
    emulated_pair_source,
    open_emulated_source,
)
from firmware.calibration.faults import FaultMonitor
from firmware.calibration.files import calibration_path, load_calibration, save_calibration, write_durably
from firmware.calibration.model import (
    DEFAULT_COUNTS_PER_KG,
    MIN_READINGS,
    STILL_KG,
    TARE_SHIFT_KG,
    Calibration,
    CalibrationError,
    robust_mean,
    spread_counts,
)
from firmware.calibration.procedure import calibrate, collect_codes, tare
from firmware.calibration.source import (
    CalibratedSource,
    RawSource,
    already_filtered,
    calibrated_cells_of,
    calibrated_source_of,
)

__all__ = [
    "CALIBRATION_NAME", "DEFAULT_COUNTS_PER_KG", "MIN_READINGS", "SECOND_CELL", "STILL_KG",
    "TARE_SHIFT_KG", "CalibratedSource", "Calibration", "CalibrationControl", "CalibrationError",
    "DriftCorrector", "EmulatedHX711Source", "FaultMonitor", "RawSource", "already_filtered",
    "calibrate", "calibrated_cells_of", "calibrated_source_of", "calibration_path", "collect_codes",
    "emulated_pair_source", "load_calibration", "open_emulated_source", "open_hx711_source",
    "open_iio_source", "open_pair_source", "robust_mean", "save_calibration", "spread_counts",
    "tare", "write_durably",
]
