"""The pin-level HX711 emulator behaves like the datasheet, bit-banged by hand on its virtual clock."""

from __future__ import annotations

import math

import pytest

from firmware.sensors.base import Sample
from firmware.sensors.hx711 import signed24
from firmware.sensors.hx711.chip import CODE_MAX, CODE_MIN, HX711Chip, KgFeed, clamp_code, load_cell_signal


def bitbang(chip: HX711Chip, pulses: int = 25, high_s: float = 1e-6) -> int:
    value = 0
    for i in range(pulses):
        chip.pd_sck.value = True
        chip.clock.advance(high_s)
        bit = chip.dout.value
        if i < 24:
            value = (value << 1) | bit
        chip.pd_sck.value = False
        chip.clock.advance(1e-6)
    return signed24(value)


def wait_ready(chip: HX711Chip, step: float = 1e-4) -> float:
    while chip.dout.value:
        chip.clock.advance(step)
    return chip.clock.now


def test_dout_low_when_a_conversion_is_ready_at_the_chip_rate() -> None:
    chip = HX711Chip(lambda t, p: 5, rate_hz=80)
    assert chip.dout.value is True
    times = []
    for _ in range(5):
        times.append(wait_ready(chip, 1e-5))
        assert bitbang(chip) == 5
        assert chip.dout.value is True           # the 25th pulse pulled DOUT high again
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps == pytest.approx([0.0125] * 4, abs=2e-5)


def test_unread_conversions_are_replaced_by_the_newest() -> None:
    chip = HX711Chip(lambda t, p: round(t * 1000), rate_hz=10)
    chip.clock.advance(0.55)                     # conversions at 0.1 ... 0.5 s, none read
    assert chip.dout.value is False
    assert bitbang(chip) == 500


@pytest.mark.parametrize(("pulses", "name"), [(25, "A128"), (26, "B32"), (27, "A64")])
def test_pulse_count_selects_the_next_conversions_input(pulses: int, name: str) -> None:
    chip = HX711Chip(lambda t, p: p * 1000)
    wait_ready(chip)
    assert bitbang(chip, pulses) == 25_000       # this conversion was made at the power-up input
    wait_ready(chip)
    assert chip.next_input == name
    assert bitbang(chip, 25) == pulses * 1000    # the next one at the selected input


def test_pd_sck_high_over_60us_powers_down_and_resets_to_a128() -> None:
    chip = HX711Chip(lambda t, p: p, rate_hz=80)
    wait_ready(chip)
    bitbang(chip, 27)
    assert chip.next_input == "A64"
    chip.pd_sck.value = True
    chip.clock.advance(50e-6)
    assert chip.powered                          # 50 us is not enough
    chip.clock.advance(20e-6)
    assert not chip.powered and chip.dout.value is True
    chip.pd_sck.value = False
    assert chip.powered and chip.next_input == "A128"
    reset_at = chip.clock.now
    assert wait_ready(chip, 1e-4) - reset_at == pytest.approx(0.050, abs=2e-4)   # settling time
    assert bitbang(chip) == 25


def test_settling_after_reset_at_10_sps_is_400_ms() -> None:
    chip = HX711Chip(lambda t, p: 0, rate_hz=10)
    chip.pd_sck.value = True
    chip.clock.advance(1e-3)
    chip.pd_sck.value = False
    start = chip.clock.now
    assert wait_ready(chip, 1e-3) - start == pytest.approx(0.400, abs=2e-3)


def test_stretched_clock_pulse_garbles_the_read() -> None:
    chip = HX711Chip(lambda t, p: 0)
    wait_ready(chip)
    value = bitbang(chip, 25, high_s=100e-6)     # a slow reader: every high phase is too long
    assert value == -1                           # DOUT stuck high after the power-down: all ones
    assert chip.power_downs == 25                # each too-long pulse powers it down again


def test_preemption_is_injected_only_at_the_chosen_reads() -> None:
    chip = HX711Chip(lambda t, p: 0, preempt_reads={2}, preempt_bit=3)
    results = []
    for _ in range(3):
        wait_ready(chip)
        results.append(bitbang(chip))
        results.append(chip.power_downs)
    assert results[:2] == [0, 0]
    assert results[2] != 0 and results[3] == 1   # read 2: garbled, chip reset
    assert results[4:] == [0, 1]


@pytest.mark.parametrize(("raw", "code"), [(1e9, CODE_MAX), (-1e9, CODE_MIN), (math.nan, CODE_MAX),
                                           (12.6, 13), (-12.4, -12)])
def test_codes_saturate_at_the_rails(raw: float, code: int) -> None:
    assert clamp_code(raw) == code
    chip = HX711Chip(lambda t, p: raw)
    wait_ready(chip)
    assert bitbang(chip) == code


def test_dout_is_driven_by_the_chip_and_rate_is_10_or_80() -> None:
    chip = HX711Chip(lambda t, p: 0)
    with pytest.raises(AttributeError, match="input"):
        chip.dout.value = False
    with pytest.raises(ValueError, match="10 or 80"):
        HX711Chip(lambda t, p: 0, rate_hz=20)


def test_load_cell_signal_scales_offset_and_load_with_gain() -> None:
    signal = load_cell_signal(lambda t: 2.0, offset=1000, counts_per_kg=100, channel_b=lambda t: 4.0)
    assert signal(0.0, 25) == 1200
    assert signal(0.0, 27) == 600
    assert signal(0.0, 26) == (1000 + 400) * 0.25
    assert load_cell_signal(lambda t: 2.0, offset=0, counts_per_kg=100)(0.0, 26) == 0.0


def test_load_cell_noise_is_seeded() -> None:
    a = load_cell_signal(lambda t: 0.0, noise_counts=30, seed=4)
    b = load_cell_signal(lambda t: 0.0, noise_counts=30, seed=4)
    first = [a(i, 25) for i in range(50)]
    assert first == [b(i, 25) for i in range(50)]
    assert len(set(first)) == 50


class ListSource:
    def __init__(self, samples: list[Sample]) -> None:
        self._samples = samples
        self.closed = False

    def samples(self):
        return iter(self._samples)

    def close(self) -> None:
        self.closed = True


def test_kg_feed_samples_and_holds_a_source_and_knows_when_it_ends() -> None:
    source = ListSource([Sample(0.0, 1.0), Sample(0.1, 2.0), Sample(0.2, math.nan), Sample(0.3, 4.0)])
    feed = KgFeed(source)
    assert [feed(t) for t in (0.0, 0.05, 0.1, 0.25, 0.3)] == [1.0, 1.0, 2.0, 2.0, 4.0]
    assert not feed.ended
    assert feed(5.0) == 4.0 and feed.ended
    feed.close()
    assert source.closed
    assert KgFeed(lambda t: t * 2)(3.0) == 6.0
