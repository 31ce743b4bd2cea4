"""stretchstep device code: sensors, calibration, detector, routine, cues, store, live state, loop.

Kept free of numpy and compiled packages so it runs on a Pi Zero 2 W.
"""

__version__ = "0.1.0"
