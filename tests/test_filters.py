"""GlitchFilter: isolated wild samples are dropped, real changes (however fast) get through."""

from __future__ import annotations

import math

import pytest

from firmware.detector.glitch import GlitchFilter


def run(values: list[float], rate: float = 80.0, **kw) -> list[float]:
    filt = GlitchFilter(**kw)
    return [filt.feed(i / rate, v) for i, v in enumerate(values)]


def is_nan(x: float) -> bool:
    return x != x


@pytest.mark.parametrize(("rate", "glitch"), [(80.0, 6.55), (80.0, -13.1), (80.0, 52.4), (80.0, 209.7),
                                              (10.0, 52.4), (10.0, -80.0), (10.0, 209.7)])
def test_an_isolated_wild_sample_is_dropped_and_its_neighbours_kept(rate: float, glitch: float) -> None:
    values = [30.0, 30.1, 29.9, 30.0 + glitch, 30.0, 30.1]
    out = run(values, rate)
    assert is_nan(out[3])
    assert [out[i] for i in (0, 1, 2, 4, 5)] == [values[i] for i in (0, 1, 2, 4, 5)]


@pytest.mark.parametrize("glitch", [6.55, -13.1])
def test_at_10_hz_a_bounce_sized_jump_is_left_to_the_detector(glitch: float) -> None:
    values = [30.0, 30.1, 29.9, 30.0 + glitch, 30.0, 30.1]
    assert run(values, 10.0) == values


@pytest.mark.parametrize(("values", "dropped"), [
    ([0.0, 0.0, 40.0, 40.0, 40.0], [2]),            # a step: only its first sample is lost
    ([30.0, 30.0, 90.0, 90.5, 30.0, 30.0], [2, 4]),  # two wild samples in a row are believed
    ([30.0, 31.0, 32.0, 33.0, 34.0], []),           # a steady ramp is never touched
])
def test_only_the_first_sample_of_a_real_change_is_held_back(values: list[float], dropped: list[int]) -> None:
    out = run(values)
    assert [i for i, v in enumerate(out) if is_nan(v)] == dropped


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_readings_become_missing_and_do_not_move_the_reference(bad: float) -> None:
    filt = GlitchFilter()
    assert filt.feed(0.0, 30.0) == 30.0
    assert is_nan(filt.feed(0.0125, bad))
    assert filt.feed(0.025, 30.2) == 30.2


def test_after_a_long_gap_the_next_sample_starts_afresh() -> None:
    filt = GlitchFilter(gap_s=0.5)
    assert filt.feed(0.0, 0.0) == 0.0
    assert filt.feed(2.0, 60.0) == 60.0  # nobody could say whether 2 s later is wild


def test_rejected_counts_what_was_dropped_and_reset_forgets() -> None:
    filt = GlitchFilter()
    for i, v in enumerate([30.0, 30.0, 150.0, 30.0, 30.0]):
        filt.feed(i / 80, v)
    assert filt.rejected == 1
    filt.reset()
    assert filt.feed(1.0, 500.0) == 500.0


def test_a_ten_hz_bounce_passes_untouched() -> None:
    # 3 Hz, 30 % of a 70 kg body peak to peak on a 56 kg hold, sampled at 10 Hz
    values = [56.0 + 10.5 * math.sin(2 * math.pi * 3.0 * i / 10.0) for i in range(30)]
    assert run(values, 10.0) == values


@pytest.mark.parametrize(("kw", "name"), [({"abs_kg": 0.0}, "abs_kg"), ({"rel_per_s": -1.0}, "rel_per_s"),
                                          ({"rel_max": 11.0}, "rel_max"), ({"gap_s": 0.0}, "gap_s")])
def test_bad_settings_name_themselves(kw: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        GlitchFilter(**kw)
