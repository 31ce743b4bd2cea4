"""The real adafruit driver, through our adapter, reading the pin-level emulator.

Also pins down each reported driver defect (so an upgrade that fixes or changes one shows up
here) and that board/digitalio stay unimported unless the real source is built.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from firmware.sensors.hx711 import (
    NOT_READY,
    PREEMPTED,
    UNSURE_GAIN,
    VERIFIED_DRIVER_VERSION,
    HX711Reader,
    LinuxMicrocontroller,
    SensorFault,
    load_driver,
    open_blinka_pins,
    signed24,
)
from firmware.sensors.hx711.chip import (
    EMULATED_DIGITALIO,
    HX711Chip,
    VirtualClock,
    VirtualMicrocontroller,
)
from firmware.sensors.hx711.emulated import emulated_pair

ROOT = Path(__file__).resolve().parents[1]
PULSES = {128: 25, 32: 26, 64: 27}
CODES = [0, 1, -1, 2, -2, 123_456, -123_456, 0x400000, -0x400000, 0x7FFFFE, -0x7FFFFF, 0x7FFFFF, -0x800000]


def only_at(gain: int, code: int):
    """A signal giving `code` on the wanted input and an unmistakable other code on the others."""
    return lambda t, pulses: code if pulses == PULSES[gain] else 3_000_000 + pulses


def good_codes(reader: HX711Reader, n: int) -> list[int]:
    codes = []
    while len(codes) < n:
        reading = reader.read()
        assert reading.problem != NOT_READY, reading.detail
        if reading.code is not None:
            codes.append(reading.code)
    return codes


# --- exact values at each gain -----------------------------------------------------------------

@pytest.mark.parametrize("gain", [128, 64, 32])
@pytest.mark.parametrize("code", CODES)
def test_reads_exact_codes_at_each_gain(gain: int, code: int) -> None:
    chip, reader = emulated_pair(only_at(gain, code), gain=gain)
    assert good_codes(reader, 4) == [code] * 4
    assert chip.next_input == {128: "A128", 64: "A64", 32: "B32"}[gain]


def test_reads_a_changing_signal_sample_by_sample() -> None:
    chip, reader = emulated_pair(lambda t, pulses: round(t * 1_000_000) - 500_000)
    for _ in range(50):
        reading = reader.read()
        if reading.code is None:
            continue
        t_conv, _, code = chip.conversions_read[-1]
        assert reading.code == code == round(t_conv * 1_000_000) - 500_000
        assert -1e-9 <= reading.t - t_conv <= 0.0125 / 25 + 1e-9   # seen within one poll of the conversion


def test_signed24() -> None:
    assert [signed24(v) for v in (0, 0x7FFFFF, 0x800000, 0xFFFFFF, 0xFFFFFFFF, 0xFF800000)] == \
        [0, 0x7FFFFF, -0x800000, -1, -1, -0x800000]


# --- rate -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [80, 10])
def test_full_chip_rate_one_conversion_per_sample(rate: int) -> None:
    chip, reader = emulated_pair(lambda t, p: 1000, rate_hz=rate)
    good_codes(reader, 1)                        # past the warm-up reads after the reset
    started, t0 = chip.reads_started, chip.clock.now
    readings = [reader.read() for _ in range(400)]
    assert all(r.code == 1000 for r in readings)
    achieved = (len(readings) - 1) / (readings[-1].t - readings[0].t)
    assert achieved == pytest.approx(rate, rel=1e-6)
    assert chip.reads_started - started == 400   # every conversion read once, none thrown away
    assert chip.clock.now - t0 == pytest.approx(400 / rate, abs=1.5 / rate)


# --- the reported driver defects, verified -------------------------------------------------------

def test_installed_driver_is_the_verified_version_and_pinned() -> None:
    assert importlib.metadata.version("adafruit-circuitpython-hx711") == VERIFIED_DRIVER_VERSION
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert pyproject.count(f'"adafruit-circuitpython-hx711=={VERIFIED_DRIVER_VERSION}"') == 2


def _bare_driver(data_pin, clock_pin, clock: VirtualClock):
    module = load_driver(VirtualMicrocontroller(clock), EMULATED_DIGITALIO, sleep=clock.sleep)
    return module.HX711(data_pin, clock_pin)


def test_driver_read_throws_every_other_conversion_away() -> None:
    clock = VirtualClock()
    chip = HX711Chip(lambda t, p: 7, clock=clock, pin_op_s=1e-6)   # its busy-wait needs time to pass
    driver = _bare_driver(chip.dout, chip.pd_sck, clock)
    started = chip.reads_started
    for _ in range(10):
        assert driver.read() == 7
    assert chip.reads_started - started == 20   # two conversions per reading: half the chip's rate


def test_driver_busy_waits_forever_when_never_ready() -> None:
    class NeverReady:
        polls = 0

        @property
        def value(self) -> bool:
            self.polls += 1
            if self.polls > 50_000:
                raise TimeoutError("still spinning")
            return True

    clock = VirtualClock()
    driver = _bare_driver(NeverReady(), HX711Chip(lambda t, p: 0, clock=clock).pd_sck, clock)
    with pytest.raises(TimeoutError, match="still spinning"):
        driver.read()   # no timeout of its own: it would spin forever


def test_driver_sign_extension_is_wrong_for_python_ints() -> None:
    clock = VirtualClock()
    chip = HX711Chip(lambda t, p: -1, clock=clock, pin_op_s=1e-6)
    driver = _bare_driver(chip.dout, chip.pd_sck, clock)
    raw = driver._read_channel_raw(25)
    assert raw == 0xFFFF_FFFF          # -1 comes back as 4294967295
    assert signed24(raw) == -1


def test_driver_needs_interrupt_calls_that_blinka_lacks() -> None:
    driver_src = Path(importlib.util.find_spec("adafruit_hx711.hx711").origin).read_text()
    assert "microcontroller.disable_interrupts()" in driver_src
    blinka = importlib.util.find_spec("microcontroller")
    assert blinka is not None and blinka.origin is not None
    blinka_src = Path(blinka.origin).read_text()
    assert "def disable_interrupts" not in blinka_src
    assert "time.sleep(delay / 1e6)" in blinka_src   # Blinka's delay_us sleeps: >60 us on Linux


def test_linux_microcontroller_busy_waits_and_has_interrupt_calls() -> None:
    import time

    mc = LinuxMicrocontroller()
    mc.disable_interrupts()
    mc.enable_interrupts()
    start = time.perf_counter_ns()
    mc.delay_us(5)
    assert time.perf_counter_ns() - start >= 5_000


# --- timeout, preemption, resets -----------------------------------------------------------------

class StubPin:
    def __init__(self, value: bool = True) -> None:
        self.value = value
        self.deinited = False

    def deinit(self) -> None:
        self.deinited = True


def test_ready_timeout_is_a_clear_sensor_fault() -> None:
    clock = VirtualClock()
    dout = StubPin(True)
    reader = HX711Reader(dout, StubPin(False), clock=clock, microcontroller=VirtualMicrocontroller(clock),
                         digitalio=EMULATED_DIGITALIO, ready_timeout_s=0.5, where="HX711 on DT=BCM5/SCK=BCM6")
    start = clock.now
    reading = reader.read()
    assert reading.problem == NOT_READY and reading.code is None
    assert "DT=BCM5" in reading.detail and "within 0.5 s" in reading.detail
    assert 0.5 <= clock.now - start <= 0.6
    with pytest.raises(SensorFault, match="did not signal ready") as caught:
        reader.read_code()
    assert caught.value.reason == "unplugged"
    reader.close()
    assert dout.deinited
    reader.close()   # twice is fine


def test_never_passes_garbage_after_preemption_and_recovers() -> None:
    chip, reader = emulated_pair(lambda t, p: -200_000, preempt_reads={10, 25})
    readings = [reader.read() for _ in range(40)]
    assert chip.power_downs >= 2                      # the chip really reset (garbled reads)
    assert all(r.code in (None, -200_000) for r in readings)
    preempted = [i for i, r in enumerate(readings) if r.problem == PREEMPTED]
    assert len(preempted) == 2
    for i in preempted:   # back within a couple of samples (plus the chip's settling time)
        assert readings[i + 1].code == -200_000
        assert readings[i + 1].t - readings[i].t <= 0.050 + 2 * 0.0125


def test_preempted_read_is_really_garbage_without_the_check() -> None:
    chip, reader = emulated_pair(lambda t, p: 0, preempt_reads={5}, preempt_bit=4)
    reader.stall_s = 1.0   # blind the timing check: the garbled code gets through
    codes = [r.code for r in (reader.read() for _ in range(8)) if r.code is not None]
    assert any(c != 0 for c in codes)   # trailing ones: DOUT reads high once the chip is down


@pytest.mark.parametrize("gain", [64, 32])
def test_conversion_at_the_reset_gain_is_never_passed_on(gain: int) -> None:
    chip, reader = emulated_pair(only_at(gain, 4242), gain=gain, preempt_reads={8, 9, 20})
    codes = [r.code for r in (reader.read() for _ in range(40)) if r.code is not None]
    assert codes and set(codes) == {4242}
    assert reader.counts[UNSURE_GAIN] >= 1


def test_chip_reset_between_reads_is_noticed_by_the_late_ready() -> None:
    chip, reader = emulated_pair(only_at(64, 77), gain=64)
    good_codes(reader, 3)
    chip.pd_sck.value = True      # a brown-out or a stray pulse powers the chip down
    chip.clock.advance(0.001)
    chip.pd_sck.value = False
    codes = [r.code for r in (reader.read() for _ in range(10)) if r.code is not None]
    assert codes and set(codes) == {77}


def test_bad_rate_and_gain_are_refused_with_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="10 or 80"):
        emulated_pair(lambda t, p: 0, rate_hz=40)
    clock = VirtualClock()
    chip = HX711Chip(lambda t, p: 0, clock=clock)
    with pytest.raises(ValueError, match="128 or 64"):
        HX711Reader(chip.dout, chip.pd_sck, gain=100, clock=clock,
                    microcontroller=VirtualMicrocontroller(clock), digitalio=EMULATED_DIGITALIO)


# --- Blinka stays out of the way --------------------------------------------------------------------

def test_board_and_digitalio_not_imported_unless_the_real_source_is_built() -> None:
    code = (
        "import sys\n"
        "import firmware.sensors.hx711, firmware.calibration\n"
        "from firmware.calibration.emulated import EmulatedHX711Source\n"
        "s = EmulatedHX711Source(lambda t: 5.0)\n"
        "it = s.samples(); [next(it) for _ in range(20)]\n"
        "blinka = ('board', 'digitalio', 'microcontroller', 'adafruit_blinka')\n"
        "bad = [m for m in blinka if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stdout


def test_open_blinka_pins_uses_bcm_names(monkeypatch: pytest.MonkeyPatch) -> None:
    made = []

    class FakeDigitalInOut:
        def __init__(self, pin) -> None:
            self.pin, self.mode = pin, None
            made.append(self)

        def switch_to_input(self, pull=None) -> None:
            self.mode = "in"

        def switch_to_output(self, value=False) -> None:
            self.mode, self.value = "out", value

    monkeypatch.setitem(sys.modules, "board", SimpleNamespace(D5="pin5", D6="pin6"))
    monkeypatch.setitem(sys.modules, "digitalio", SimpleNamespace(DigitalInOut=FakeDigitalInOut))
    data, clock = open_blinka_pins(5, 6)
    assert (data.pin, data.mode, clock.pin, clock.mode, clock.value) == ("pin5", "in", "pin6", "out", False)
    with pytest.raises(SensorFault, match="no pin D40"):
        open_blinka_pins(40, 6)


def test_a_chip_wired_for_10_sps_still_reads_at_gain_64_when_configured_80() -> None:
    clock = VirtualClock()
    chip = HX711Chip(only_at(64, 64), rate_hz=10, clock=clock)
    reader = HX711Reader(chip.dout, chip.pd_sck, rate_hz=80, gain=64, clock=clock,
                         microcontroller=VirtualMicrocontroller(clock), digitalio=EMULATED_DIGITALIO)
    readings = [reader.read() for _ in range(60)]
    assert [r.code for r in readings[-40:]] == [64] * 40   # not every read judged "late"
    assert all(r.code in (None, 64) for r in readings)


def test_bring_up_reports_rate_and_a_missing_chip() -> None:
    from firmware.sensors.hx711 import bring_up

    lines: list[str] = []
    _, reader = emulated_pair(lambda t, p: -5000, rate_hz=10)
    assert bring_up(reader, seconds=3.0, echo=lines.append) == 0
    assert "chip answered: 10.0 readings/s" in lines[-2] and "-5000" in lines[-2]
    clock = VirtualClock()
    dead = HX711Reader(StubPin(True), StubPin(False), clock=clock,
                       microcontroller=VirtualMicrocontroller(clock), digitalio=EMULATED_DIGITALIO)
    assert bring_up(dead, echo=lines.append) == 1 and lines[-1].startswith("NO ANSWER")


def test_a_wire_coming_loose_mid_read_cannot_hang_the_reader() -> None:
    class LooseDout:
        """Ready once, then high forever: the driver's own spin loop would never return."""

        def __init__(self) -> None:
            self.reads = 0

        @property
        def value(self) -> bool:
            self.reads += 1
            return self.reads > 1

    clock = VirtualClock()
    dout = LooseDout()
    reader = HX711Reader(StubPin(True), StubPin(False), clock=clock,
                         microcontroller=VirtualMicrocontroller(clock), digitalio=EMULATED_DIGITALIO)
    reader._data_pin = reader.driver._data_pin = dout
    first = reader.read()                 # returns (the code is all ones: not trusted during warm-up)
    assert first.code is None
    assert reader.read().problem == NOT_READY


def test_a_short_ready_timeout_counts_from_when_the_conversion_is_due() -> None:
    chip, reader = emulated_pair(lambda t, p: 9, rate_hz=10, ready_timeout_s=0.05)
    readings = [reader.read() for _ in range(20)]
    assert all(r.problem != NOT_READY for r in readings)
    assert readings[-1].code == 9
