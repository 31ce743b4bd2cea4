"""Raw HX711 codes -> kg: the maths, the files, fault watching, drift, the calibrated source,
the CLI's and the web's tare/calibrate, and the calibrated sources for each kind of cell.

Imports run one way: calibration uses `firmware.sensors` (raw readings), never the reverse.
The public names are re-exported here so `from firmware.calibration import X` keeps working.
"""

from firmware.calibration.cells import (
    SECOND_CELL,
    cell_names,
    open_hx711_source,
    open_iio_source,
    open_pair_source,
    uncalibrated_warning,
)
from firmware.calibration.control import CalibrationControl
from firmware.calibration.drift import DriftCorrector
from firmware.calibration.emulated import (
    CALIBRATION_NAME,
    EmulatedHX711Source,
    emulated_pair_source,
    open_emulated_source,
)
from firmware.calibration.faults import FaultMonitor
from firmware.calibration.files import calibration_path, load_calibration, save_calibration
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
    calibration_status,
)

__all__ = [
    "CALIBRATION_NAME", "CalibratedSource", "Calibration", "CalibrationControl", "CalibrationError",
    "DEFAULT_COUNTS_PER_KG", "DriftCorrector", "EmulatedHX711Source", "FaultMonitor",
    "MIN_READINGS", "RawSource", "SECOND_CELL", "STILL_KG", "TARE_SHIFT_KG", "already_filtered",
    "calibrate", "calibrated_cells_of", "calibrated_source_of", "calibration_path",
    "calibration_status", "cell_names", "collect_codes", "emulated_pair_source", "load_calibration",
    "open_emulated_source", "open_hx711_source", "open_iio_source", "open_pair_source",
    "robust_mean", "save_calibration", "spread_counts", "tare", "uncalibrated_warning",
]
