"""The step's own controls: the tare button, the status LED and the buzzer, built once.

- **Button** (gpiozero `Button`, BCM 17 by default, to GND): a press tares the step - accepted
  only when the detector says it is empty, else refused with the fault beep; held for
  `[cues] hold_s` (3 s) and let go it calibrates with `[sensor] known_kg` while the LED blinks
  fast; held on to twice that (6 s) it switches to the next profile instead (empty step only;
  three rising chirps).
- **LED** (gpiozero `LED`, BCM 27): steady while running, slow blink on a sensor fault, fast
  blink while calibrating.
- **Buzzer**: the cue patterns (`firmware.cues.BuzzerCues`), clocked by the sampling loop.

Everything here is built outside the sampling loop (`build_panel`), once. A part that cannot be
built (no GPIO, a pin taken) is a logged fault in `Panel.faults`, never a crash: the step
senses on without it. Button callbacks run in gpiozero's threads and never touch the loop; a
beep they ask for is handed over and played by the loop's next sample (`on_sample`), so cue
patterns keep their one clock. Real pins only when the source is real hardware; otherwise
gpiozero's `MockFactory`, so a laptop runs the same code with no pins.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware.cues import BuzzerCues, make_buzzer, mock_pins

log = logging.getLogger("stretchstep.panel")

HARDWARE_SOURCES = ("hx711", "hx711-iio")
BLINK_S = {"fault": (0.5, 0.5), "calibrating": (0.1, 0.1)}   # (on, off) seconds
REFUSED_CUE = "sensor_fault"     # long-short-long: "no"
DONE_CUE = "ready"               # one chirp: "done"
PROFILE_CUE = "next_profile"     # three rising chirps: "someone else now"


class StatusLight:
    """Shows one mode on an LED: "running" (steady), "fault" (slow blink), "calibrating" (fast),
    "off". gpiozero blinks in its own thread, so only a change of mode costs anything."""

    def __init__(self, led: Any) -> None:
        self.led = led
        self.mode = "off"

    def show(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        if mode == "running":
            self.led.on()
        elif mode in BLINK_S:
            on_s, off_s = BLINK_S[mode]
            self.led.blink(on_time=on_s, off_time=off_s, background=True)
        else:
            self.led.off()


class TareButton:
    """Press: tare. Hold `hold_s` and let go: calibrate. Hold on to twice `hold_s`: next profile.

    The gpiozero Button repeats `when_held` every `hold_s` while it is down. The first call arms
    the calibration (the LED blinks fast: "let go to calibrate"); the release then calibrates,
    after `settle_s` for the hand to leave the step. The second call switches to the next
    profile at once (only on an empty step, three rising chirps), and that release does nothing.
    So a long press never tares and the longest never calibrates. `wait` is how the calibration
    lets the weight settle (a fake in tests).
    """

    def __init__(self, panel: Panel, control: Any, known_kg: float, *, settle_s: float = 2.0,
                 wait: Callable[[float], None] = time.sleep) -> None:
        self.panel, self.control, self.known_kg = panel, control, known_kg
        self.settle_s, self.wait = settle_s, wait
        self._holds = 0

    def attach(self, button: Any) -> None:
        button.when_pressed = self.pressed
        button.when_held = self.held
        button.when_released = self.released

    def pressed(self) -> None:
        self._holds = 0

    def held(self) -> None:
        self._holds += 1
        if self._holds == 1:
            self._show_calibrating(True)
        elif self._holds == 2:
            self._show_calibrating(False)
            self.panel.act("next profile", self.control.next_profile, done_cue=PROFILE_CUE)

    def released(self) -> None:
        holds, self._holds = self._holds, 0
        if holds == 0:
            self.panel.act("tare", self.control.tare)
        elif holds == 1:
            self._calibrate()

    def _calibrate(self) -> None:
        self._show_calibrating(True)
        try:
            self.wait(self.settle_s)      # the LED blinks fast while the weight settles
            self.panel.act(f"calibrate with {self.known_kg:g} kg",
                           lambda: self.control.calibrate(self.known_kg))
        finally:
            self._show_calibrating(False)

    def _show_calibrating(self, on: bool) -> None:
        self.panel.calibrating = on
        self.panel.light_mode()


@dataclass
class Panel:
    """The outputs and the button, as one sink of the sampling loop (`on_sample`, `on_event`)."""

    cues: BuzzerCues | None = None
    light: StatusLight | None = None
    button: TareButton | None = None
    faults: list[str] = field(default_factory=list)
    calibrating: bool = False
    results: list[str] = field(default_factory=list)   # what the button did, newest last
    _devices: list[Any] = field(default_factory=list)
    _pending_cue: str | None = None
    _fault: str | None = None

    def act(self, what: str, action: Callable[[], Any], *, done_cue: str = DONE_CUE) -> None:
        """Run a button action; a refusal (ValueError) or a failure is logged and beeped, never raised."""
        try:
            action()
        except ValueError as exc:
            self._said(f"{what} refused: {exc}", REFUSED_CUE, logging.INFO)
        except Exception as exc:  # a gpiozero thread must never die of it
            self._said(f"{what} failed: {type(exc).__name__}: {exc}", REFUSED_CUE, logging.ERROR)
        else:
            self._said(f"{what}: done", done_cue, logging.INFO)

    def _said(self, message: str, cue: str, level: int) -> None:
        log.log(level, "button: %s", message)
        self.results.append(message)
        del self.results[:-20]
        self._pending_cue = cue       # played by the loop's next sample

    def light_mode(self) -> None:
        if self.light is not None:
            self.light.show("calibrating" if self.calibrating else "fault" if self._fault else "running")

    # --- the loop's sink interface: cheap, never blocks ------------------------------------------
    def on_sample(self, t: float, kg: float, status: dict[str, Any]) -> None:
        cue, self._pending_cue = self._pending_cue, None
        if cue is not None and self.cues is not None:
            self.cues.play(cue, t)
        fault = status.get("fault")
        if fault != self._fault or (self.light is not None and self.light.mode == "off"):
            self._fault = fault
            self.light_mode()

    def on_event(self, event: Any, status: dict[str, Any]) -> None:
        """Events reach the buzzer through Device(cues=...); the LED follows the status."""

    def health(self) -> dict[str, Any]:
        """For GET /api/health (`stats.panel`, as every sink's `health`): what the panel has, what
        went wrong building it (the step senses on without it) and what the button did last."""
        return {"button": self.button is not None, "led": self.light is not None,
                "buzzer": self.cues is not None, "faults": list(self.faults),
                "last_button": self.results[-1] if self.results else None}

    def close(self) -> None:
        """Buzzer and LED off (a lit LED would say "running"), then release the pins."""
        if self.light is not None:
            self.light.show("off")
        if self.cues is not None:
            self.cues.close()
        for device in self._devices:
            try:
                device.close()
            except Exception:  # closing on the way out: nothing left to protect
                log.debug("closing %r failed", device, exc_info=True)


def build_panel(cfg: Any, control: Any = None, *, pin_factory: Any = None,
                wait: Callable[[float], None] = time.sleep) -> Panel:
    """The buzzer, LED and button the config names (pin 0 = none), each a logged fault if it fails.

    `control` is what the button calls (`tare()`, `calibrate(kg)`, `next_profile()`: the device
    control); None = no
    button (simulated and replayed sources have nothing to tare). `pin_factory` None picks real
    pins for hardware sources and gpiozero's MockFactory otherwise.
    """
    factory = pin_factory if pin_factory is not None else _factory_for(cfg.sensor.source)
    cues_cfg = cfg.cues
    panel = Panel()
    if cues_cfg.enabled and cues_cfg.buzzer_pin:
        buzzer = _build(panel, "buzzer", cues_cfg.buzzer_pin,
                        lambda: make_buzzer(cues_cfg.buzzer_pin, active_high=cues_cfg.active_high,
                                            tonal=cues_cfg.tonal, pin_factory=factory))
        panel.cues = BuzzerCues(buzzer) if buzzer is not None else None
    if cues_cfg.led_pin:
        led = _build(panel, "LED", cues_cfg.led_pin,
                     lambda: _gpiozero("LED")(cues_cfg.led_pin, pin_factory=factory))
        panel.light = StatusLight(led) if led is not None else None
    if cues_cfg.button_pin and control is not None:
        button = _build(panel, "button", cues_cfg.button_pin,
                        lambda: _gpiozero("Button")(cues_cfg.button_pin, pull_up=True, bounce_time=0.05,
                                                    hold_time=cues_cfg.hold_s, hold_repeat=True,
                                                    pin_factory=factory))
        if button is not None:
            panel.button = TareButton(panel, control, cfg.sensor.known_kg, wait=wait)
            panel.button.attach(button)
    panel.light_mode()
    return panel


def _build(panel: Panel, what: str, pin: int, make: Callable[[], Any]) -> Any:
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            device = make()
    except Exception as exc:  # gpiozero raises many kinds (BadPinFactory, GPIOPinInUse, OSError...)
        message = f"{what} on BCM {pin} unavailable: {type(exc).__name__}: {exc}"
        log.warning("%s; the step senses on without it", message)
        panel.faults.append(message)
        return None
    finally:
        _log_warnings(what, said)
    panel._devices.append(device)
    return device


def _log_warnings(what: str, said: list[warnings.WarningMessage]) -> None:
    """gpiozero warns (PinFactoryFallback) once per pin library it tries: on stderr those are
    raw Python warnings with source lines, in the journal four screens of noise. One log line."""
    if said:
        log.info("%s: gpiozero said: %s", what, "; ".join(str(w.message) for w in said))


def _gpiozero(name: str) -> Any:
    import gpiozero

    return getattr(gpiozero, name)


def _factory_for(source: str) -> Any:
    """None (gpiozero's default: real pins) for hardware; a MockFactory for everything else."""
    if source in HARDWARE_SOURCES:
        return None
    return mock_pins()
