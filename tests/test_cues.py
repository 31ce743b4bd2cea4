"""Buzzer patterns on gpiozero's MockFactory pins (no Pi here), clocked by a fake clock."""

import pytest

from firmware import events as ev
from firmware.cues import PATTERNS, BuzzerCues, make_buzzer
from firmware.events import Event


def drive(cues, start, seconds, step=0.0125):
    for i in range(int(seconds / step) + 1):
        cues.tick(start + i * step)


def pin_states(buzzer):
    return [s.state for s in buzzer.pin.states[1:]]  # [0] is the pin's initial state


@pytest.fixture
def buzzer():
    b = make_buzzer(18, mock=True)
    yield b
    b.close()


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_each_pattern_toggles_the_pin_as_declared(buzzer, name):
    cues = BuzzerCues(buzzer)
    cues.play(name, 0.0)
    drive(cues, 0.0, 3.0)
    beeps = (len(PATTERNS[name].durations) + 1) // 2
    assert pin_states(buzzer) == [True, False] * beeps
    assert not buzzer.is_active


def test_patterns_are_distinct():
    assert len({p.durations for p in PATTERNS.values()}) == len(PATTERNS)


def test_event_starts_its_cue_at_once(buzzer):
    cues = BuzzerCues(buzzer)
    cues.on_event(Event(ev.HOLD_COMPLETE, 12.0, {}), now=5.0)
    assert buzzer.is_active  # on in the same call: no wait for the next tick
    cues.on_event(Event(ev.BREATH, 13.0, {"n": 1}), now=5.1)
    assert cues.played == ["hold_complete"]


def test_higher_rank_interrupts_lower_does_not(buzzer):
    cues = BuzzerCues(buzzer)
    cues.play("hold_complete", 0.0)
    cues.play("ready", 0.1)           # lower rank: ignored
    assert cues.played == ["hold_complete"]
    cues.play("bounce", 0.2)          # higher rank: cuts in
    drive(cues, 0.2, 1.0)
    assert cues.played == ["hold_complete", "bounce"]
    assert not buzzer.is_active


def test_close_silences(buzzer):
    cues = BuzzerCues(buzzer)
    cues.play("sensor_fault", 0.0)
    cues.close()
    assert not buzzer.is_active


def test_the_routine_cues_are_all_there_and_told_apart_by_rhythm_alone():
    names = {"ready", "hold_complete", "switch_legs", "rest_over", "routine_done", "bounce", "wrong_leg"}
    assert names <= set(PATTERNS)
    rhythms = {PATTERNS[n].durations for n in PATTERNS}
    assert len(rhythms) == len(PATTERNS)


def test_a_tonal_buzzer_plays_each_beep_in_its_tone():
    """gpiozero TonalBuzzer on MockFactory's PWM pins (no Pi here): the frequency per beep."""
    buzzer = make_buzzer(18, mock=True, tonal=True)
    cues = BuzzerCues(buzzer)
    pattern = PATTERNS["routine_done"]
    heard = []
    at = 0.0
    cues.play("routine_done", at)
    for i, duration in enumerate(pattern.durations):
        if i % 2 == 0:
            heard.append(round(buzzer.tone.frequency))
        at += duration
        cues.tick(at + 1e-6)
    assert heard == [523, 659, 784]
    assert not buzzer.is_active
    buzzer.close()


def test_the_panel_builds_a_tonal_buzzer_when_configured():
    """[cues] tonal = true: the step's buzzer is a gpiozero TonalBuzzer (MockFactory PWM pins here)."""
    from firmware.config import DEFAULTS
    from firmware.panel import build_panel

    panel = build_panel(DEFAULTS.with_values("cues", tonal=True))
    try:
        assert type(panel.cues.buzzer).__name__ == "TonalBuzzer" and not panel.faults
        panel.cues.play("ready", 0.0)
        assert round(panel.cues.buzzer.tone.frequency) == 660
    finally:
        panel.close()
