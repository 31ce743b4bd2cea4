"""Where the calibration imports the glitch filter from; it lives in the detector package
(firmware/detector/glitch.py), which runs it in front of every sample."""

from firmware.detector.glitch import GlitchFilter

__all__ = ["GlitchFilter"]
