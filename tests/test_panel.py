"""The tare button, status LED and buzzer on gpiozero's MockFactory (no Pi here: the mock pins
stand in for BCM 17/27/18; pressing is driving the button's pin low, as the real switch to GND).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from firmware.calibration import CalibrationControl, CalibrationError
from firmware.calibration.emulated import EmulatedHX711Source
from firmware.calibration.model import Calibration
from firmware.config import DEFAULTS
from firmware.panel import BLINK_S, StatusLight, build_panel
from firmware.sensors.base import Sample

TARED = Calibration(offset=85_000, scale=21_000, date="2026-01-01")
# Tests that call `held()` themselves (gpiozero's hold thread runs on real time): the longest
# hold_s, so that thread never adds a hold of its own while a loaded machine runs the test.
MANUAL_HOLD_S = 10.0


class FakeControl:
    def __init__(self, refuse: str = "") -> None:
        self.calls: list[Any] = []
        self.refuse = refuse

    def tare(self) -> dict[str, Any]:
        self.calls.append("tare")
        if self.refuse:
            raise CalibrationError(self.refuse)
        return {"ok": True}

    def calibrate(self, known_kg: float) -> dict[str, Any]:
        self.calls.append(("calibrate", known_kg))
        return {"ok": True}

    def next_profile(self) -> dict[str, Any]:
        self.calls.append("next_profile")
        if self.refuse:
            raise ValueError(self.refuse)
        return {"ok": True}


class RecordingLed:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def on(self) -> None:
        self.calls.append("on")

    def off(self) -> None:
        self.calls.append("off")

    def blink(self, on_time: float, off_time: float, background: bool) -> None:
        assert background, "blinking must never hold the caller"
        self.calls.append(("blink", on_time, off_time))


def panel_on_mock(control: Any, **cues: Any) -> tuple[Any, MockFactory, list[float]]:
    factory = MockFactory()
    waits: list[float] = []
    cfg = DEFAULTS.with_values("sensor", known_kg=15.0)
    if cues:
        cfg = cfg.with_values("cues", **cues)
    return build_panel(cfg, control, pin_factory=factory, wait=waits.append), factory, waits


def press(factory: MockFactory, pin: int = 17) -> None:
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()


def test_a_press_tares_and_a_refusal_beeps_the_fault_pattern() -> None:
    control = FakeControl(refuse="the step is not empty right now")
    panel, factory, _ = panel_on_mock(control)
    assert panel.faults == [] and panel.health()["button"]
    press(factory)
    assert control.calls == ["tare"]
    assert "tare refused: the step is not empty" in panel.results[-1]
    buzzer = factory.pin(18)
    assert buzzer.state is False                    # nothing plays until the loop's next sample
    panel.on_sample(10.0, 0.0, {"fault": None})
    assert buzzer.state is True and panel.cues.played == ["sensor_fault"]
    panel.cues.tick(10.0 + 0.8 + 0.01)              # long-short-long, as in cues.PATTERNS
    assert buzzer.state is False
    panel.cues.tick(15.0)                           # the pattern is over
    control.refuse = ""
    press(factory)
    panel.on_sample(20.0, 0.0, {"fault": None})
    assert panel.results[-1] == "tare: done" and panel.cues.played[-1] == "ready"
    panel.close()


def test_holding_calibrates_with_the_configured_weight_and_never_tares() -> None:
    control = FakeControl()
    panel, factory, waits = panel_on_mock(control, hold_s=MANUAL_HOLD_S)
    button = factory.pin(17)
    button.drive_low()
    panel.button.held()             # what gpiozero calls after hold_time (its own real-time thread)
    button.drive_high()
    assert control.calls == [("calibrate", 15.0)]
    assert waits == [2.0]           # the weight settled while the LED blinked fast


def test_holding_on_twice_as_long_switches_profile_with_its_own_beep_and_no_calibration() -> None:
    control = FakeControl()
    panel, factory, waits = panel_on_mock(control, hold_s=MANUAL_HOLD_S)
    button = factory.pin(17)
    button.drive_low()
    panel.button.held()             # 3 s: calibration armed (the LED blinks fast)
    assert panel.calibrating
    panel.button.held()             # 6 s: the next profile, at once
    assert control.calls == ["next_profile"] and not panel.calibrating
    button.drive_high()             # the release after it does nothing more
    assert control.calls == ["next_profile"] and waits == []
    panel.on_sample(1.0, 0.0, {"fault": None})
    assert panel.cues.played == ["next_profile"] and panel.results[-1] == "next profile: done"
    from firmware.cues import PATTERNS

    others = {PATTERNS[name].durations for name in ("ready", "sensor_fault")}
    assert PATTERNS["next_profile"].durations not in others     # not "done", not "refused"


def test_a_long_hold_on_a_step_someone_stands_on_keeps_their_profile(store) -> None:
    """The whole path on MockFactory: button -> DeviceControl (the detector's word) -> the
    routine keeper; refused with the fault beep while someone stands, done once the step is empty."""
    from firmware.control import DeviceControl
    from firmware.routine import records
    from firmware.routine.build import RoutineBook, build_routine

    book = RoutineBook.from_config(DEFAULTS)
    routine, keeper = build_routine(DEFAULTS, store, start=False)
    first = routine.settings.profile
    second = records.add_profile(store, {"name": "Bo"}, book.protocols, book.first_profile)
    keeper.check_settings()

    class Detector:
        state = "standing"

    class Running:
        detector, source = Detector(), None

    control = DeviceControl("simulated", store.path.parent, lambda: Running(),
                            next_profile=keeper.next_profile)
    panel, factory, _ = panel_on_mock(control, hold_s=MANUAL_HOLD_S)

    def long_hold() -> None:
        factory.pin(17).drive_low()
        panel.button.held()
        panel.button.held()
        factory.pin(17).drive_high()
        keeper.drain()
        routine.poll(0.0, 0.0)

    long_hold()
    assert "next profile refused: step off first: someone is on the step" in panel.results[-1]
    assert routine.settings.profile.id == first.id
    Detector.state = "empty"
    long_hold()
    assert panel.results[-1] == "next profile: done" and routine.settings.profile.id == second.id


def test_the_button_is_wired_with_the_configured_hold_time() -> None:
    panel, factory, _ = panel_on_mock(FakeControl(), hold_s=4.0)
    gpio_button = next(d for d in panel._devices if type(d).__name__ == "Button")
    assert gpio_button.hold_time == 4.0 and gpio_button.pin.info.name == "GPIO17"
    assert gpio_button.hold_repeat          # the second hold_s is the profile gesture
    assert gpio_button.when_held == panel.button.held


def test_the_led_shows_running_fault_and_calibrating() -> None:
    led = RecordingLed()
    light = StatusLight(led)
    calls_while_calibrating: list[Any] = []
    from firmware.panel import Panel, TareButton

    panel = Panel(light=light)
    panel.on_sample(0.0, 0.0, {"fault": None})
    panel.on_sample(0.1, 0.0, {"fault": None})          # no change: nothing called again
    assert led.calls == ["on"]
    panel.on_sample(0.2, float("nan"), {"fault": "unplugged"})
    assert led.calls[-1] == ("blink", *BLINK_S["fault"])
    panel.on_sample(0.3, 0.0, {"fault": None})
    assert led.calls[-1] == "on"
    button = TareButton(panel, FakeControl(), 20.0,
                        wait=lambda s: calls_while_calibrating.append(led.calls[-1]))
    button.held()
    assert led.calls[-1] == ("blink", *BLINK_S["calibrating"])   # "let go to calibrate"
    button.released()
    assert calls_while_calibrating == [("blink", *BLINK_S["calibrating"])]
    assert led.calls[-1] == "on"
    assert BLINK_S["calibrating"][0] < BLINK_S["fault"][0]   # fast vs slow


def test_the_led_pin_is_lit_while_running_on_the_mock_factory() -> None:
    panel, factory, _ = panel_on_mock(FakeControl())
    assert factory.pin(27).state is True
    panel.close()
    assert factory.pin(27).state is False


def test_a_part_that_cannot_be_built_is_a_logged_fault_not_a_crash(caplog) -> None:
    factory = MockFactory()
    factory.pin(17)                                   # the button pin exists...
    from gpiozero import LED

    taken = LED(17, pin_factory=factory)              # ...but something else holds it
    cfg = DEFAULTS
    with caplog.at_level("WARNING", logger="stretchstep.panel"):
        panel = build_panel(cfg, FakeControl(), pin_factory=factory)
    assert panel.button is None and panel.light is not None and panel.cues is not None
    assert len(panel.faults) == 1 and "button on BCM 17 unavailable" in panel.faults[0]
    assert "senses on without it" in caplog.text
    panel.on_sample(0.0, 0.0, {"fault": None})       # the rest keeps working
    taken.close()


def test_no_control_no_button_and_pin_zero_means_none() -> None:
    panel, _, _ = panel_on_mock(None, led_pin=0)
    assert panel.button is None and panel.light is None and panel.faults == []


def test_a_real_press_on_a_running_emulated_step_is_refused_while_someone_is_on_it(tmp_path) -> None:
    """The whole path: button -> CalibrationControl -> the detector's word -> fault beep."""
    emulated = EmulatedHX711Source(lambda t: 30.0, calibration=TARED)
    samples = emulated.samples()
    for _ in range(300):
        next(samples)
    control = CalibrationControl(emulated.source, tmp_path, step_state=lambda: "standing")
    panel, factory, _ = panel_on_mock(control)
    press(factory)
    assert "tare refused" in panel.results[-1] and "'standing'" in panel.results[-1]
    assert emulated.calibration == TARED


@pytest.mark.parametrize("source", ["hx711", "hx711-iio"])
def test_hardware_sources_get_real_pins(source: str) -> None:
    from firmware.panel import _factory_for

    assert _factory_for(source) is None
    assert isinstance(_factory_for("hx711-emulated"), MockFactory)


def test_the_panel_rides_the_loop_as_a_sink_and_the_calibration_reaches_the_status() -> None:
    """Device(sinks=[panel], status_from=...): the LED follows the sensor's faults sample by sample,
    and the status every sample carries says how the step is calibrated."""
    from firmware.calibration import calibration_status
    from firmware.detector import HoldDetector
    from firmware.device import Device
    from firmware.panel import Panel

    class Source:
        live, rate_hz = True, 80.0

        def samples(self):
            yield from (Sample(i / 80, 0.0) for i in range(80))
            yield from (Sample(1 + i / 80, math.nan, "unplugged") for i in range(40))
            yield from (Sample(2 + i / 80, 0.0) for i in range(80))

        def close(self) -> None:
            pass

    class Seen:
        def __init__(self) -> None:
            self.statuses: list[dict] = []

        def on_sample(self, t, kg, status) -> None:
            self.statuses.append(status)

        def on_event(self, event, status) -> None:
            pass

    emulated = EmulatedHX711Source(lambda t: 0.0, calibration=TARED)
    led, seen = RecordingLed(), Seen()
    panel = Panel(light=StatusLight(led))
    Device(Source(), HoldDetector(), sinks=[panel, seen],
           status_from=lambda: {"calibration": calibration_status(emulated)}).run()
    assert led.calls == ["on", ("blink", *BLINK_S["fault"]), "on"]
    assert len(seen.statuses) == 200
    cal = seen.statuses[-1]["calibration"]
    assert cal["calibrated"] is False and "not calibrated (hx711-emulated)" in cal["warning"]
    done = TARED.calibrated([85_000 + 20 * 21_000 + d for d in range(-40, 40)], 20.0)
    emulated.source.set_calibration(done)
    assert calibration_status(emulated) == {"calibrated": True, "calibrated_at": done.calibrated_at,
                                            "known_kg": 20.0, "tared_at": done.date, "warning": None}
    assert calibration_status(object()) is None


def test_a_tonal_config_builds_a_tonal_buzzer() -> None:
    """[cues] tonal = true (a passive buzzer): a gpiozero TonalBuzzer on PWM mock pins, which
    BuzzerCues plays in tones; the default is the active (on/off) buzzer."""
    from gpiozero.pins.mock import MockPWMPin

    factory = MockFactory(pin_class=MockPWMPin)
    panel = build_panel(DEFAULTS.with_values("cues", tonal=True), FakeControl(), pin_factory=factory)
    assert panel.faults == [] and type(panel.cues.buzzer).__name__ == "TonalBuzzer"
    assert "GPIO18" in repr(panel.cues.buzzer)
    panel.cues.play("sensor_fault", 0.0)
    assert factory.pin(18).state > 0                   # a tone's PWM duty cycle
    plain = build_panel(DEFAULTS, FakeControl(), pin_factory=MockFactory())
    assert type(plain.cues.buzzer).__name__ == "Buzzer"


def test_a_sensor_that_cannot_be_opened_blinks_the_led() -> None:
    """No Pi here, so `hx711` cannot open (no Blinka pins): the sampler retries, and the panel
    (a sink) hears of the fault although no Device runs."""
    from firmware.panel import Panel
    from firmware.service.sampler import LoopRunner

    cfg = DEFAULTS.with_values("sensor", source="hx711")
    led = RecordingLed()
    panel = Panel(light=StatusLight(led))
    runner = LoopRunner(cfg, routine=None, writer=None, live=None, session_id=0, sinks=(panel,))
    assert runner._open() is None and runner.state == "retrying"
    assert led.calls[-1] == ("blink", *BLINK_S["fault"])


def test_gpiozero_fallback_warnings_become_one_log_line_not_stderr_noise(caplog) -> None:
    """Off a Pi gpiozero warns once per pin library it tries (PinFactoryFallback): raw Python
    warnings with source lines on stderr and in the journal. The panel logs them as one line."""
    import warnings

    from gpiozero.exc import PinFactoryFallback

    from firmware.panel import Panel, _build

    def make() -> object:
        warnings.warn(PinFactoryFallback("Falling back from lgpio: No module named 'lgpio'"), stacklevel=1)
        warnings.warn(PinFactoryFallback("Falling back from rpigpio: No module named 'RPi'"), stacklevel=1)
        raise OSError("no pins")

    panel = Panel()
    with warnings.catch_warnings(record=True) as escaped, caplog.at_level("INFO", logger="stretchstep.panel"):
        warnings.simplefilter("always")
        assert _build(panel, "LED", 27, make) is None
    assert escaped == []
    said = [r.getMessage() for r in caplog.records if "gpiozero said" in r.getMessage()]
    assert said == ["LED: gpiozero said: Falling back from lgpio: No module named 'lgpio'; "
                    "Falling back from rpigpio: No module named 'RPi'"]
    assert panel.faults == ["LED on BCM 27 unavailable: OSError: no pins"]


def test_the_panel_reports_in_health_what_it_has_what_failed_and_what_the_button_did() -> None:
    """A sink's `health()` is shown under its name in /api/health (LoopRunner._sink_health)."""
    from gpiozero import LED

    from firmware.config import Config
    from firmware.service import LoopRunner

    factory = MockFactory()
    taken = LED(27, pin_factory=factory)                 # the LED's pin held by something else
    panel = build_panel(DEFAULTS, FakeControl(refuse="the step is not empty right now"),
                        pin_factory=factory)
    press(factory)
    runner = LoopRunner(Config(), routine=None, writer=None, live=None, session_id=0, sinks=(panel,))
    shown = runner.health()["panel"]
    assert shown["button"] and shown["buzzer"] and not shown["led"]
    assert shown["faults"] == panel.faults and "LED on BCM 27 unavailable" in shown["faults"][0]
    assert shown["last_button"].startswith("tare refused: the step is not empty")
    taken.close()
