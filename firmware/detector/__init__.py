"""The detector (DESIGN §3, §4): a pure streaming state machine from (t, kg) samples to events.

One concept per module:
  machine   HoldDetector, the state machine (empty, standing, stretching, holding)
  config    DetectorConfig, what it is told, and the allowed ranges
  breaths   the live (causal) breath counter inside a hold, and the standing sway gauge
  recount   the hold's breaths counted again from the whole hold, and whether they are sure
  bounces   the bounce watch inside a stretch
  glitch    GlitchFilter, isolated wild samples -> missing, in front of everything

No I/O, clock, threads or globals: everything is driven by the samples' own t.
"""

from firmware.detector.bounces import BounceWatch, QuickSwingSpan
from firmware.detector.breaths import BreathCounter, SwayGauge
from firmware.detector.config import DetectorConfig
from firmware.detector.glitch import GlitchFilter
from firmware.detector.machine import HoldDetector
from firmware.detector.recount import HoldRecord, PressCount, count_presses

__all__ = ["BounceWatch", "BreathCounter", "DetectorConfig", "GlitchFilter", "HoldDetector", "HoldRecord",
           "PressCount", "QuickSwingSpan", "SwayGauge", "count_presses"]
