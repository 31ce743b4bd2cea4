"""`stretchstep tare` and `stretchstep calibrate --known-kg KG`: walk the owner through it.

Both read the sensor directly (the device loop must not be running on the same pins), refuse a
load that is not still with a message saying what was seen, and save to the data dir where
`stretchstep run` picks the calibration up. `--source hx711-emulated` does the same on the
emulated chip (with a still load of `--emulated-kg`), so the flow can be tried without hardware.
Register on the main group with `main.add_command(tare_command)` / `(calibrate_command)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from firmware.calibration import (
    Calibration,
    CalibrationError,
    calibrate,
    calibration_path,
    collect_codes,
    load_calibration,
    robust_mean,
    spread_counts,
    tare,
)
from firmware.config import Config, ConfigError
from firmware.config import load as load_config
from firmware.sensors.hx711 import SensorFault

SOURCES = ("hx711", "hx711-emulated")


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--source", type=click.Choice(SOURCES), default=None,
                     help="hx711 (the real chip) or hx711-emulated (default: the configured one, "
                          "else hx711)."),
        click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                     help="Where the calibration is saved (default: the config's, as for `run`)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                     help="TOML config file (pins, rate, gain; default: the one `run` finds)."),
        click.option("--seconds", type=click.FloatRange(0.5, 30), default=2.0, show_default=True,
                     help="How long to read."),
        click.option("--cell", type=click.Choice(["1", "2"]), default="1", show_default=True,
                     help="Which HX711: 1, or 2 for the optional second cell ([sensor2] pins)."),
        click.option("--data-pin", type=click.IntRange(0, 27), default=None,
                     help="HX711 DT, BCM (default: the config's, 5 for cell 1)."),
        click.option("--clock-pin", type=click.IntRange(0, 27), default=None,
                     help="HX711 SCK, BCM (default: the config's, 6 for cell 1)."),
        click.option("--rate", type=click.Choice(["10", "80"]), default=None, help="HX711 RATE (SPS)."),
        click.option("--gain", type=click.Choice(["128", "64", "32"]), default=None, help="HX711 gain."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class _Target:
    """Which cell to read and where its calibration lives."""

    cfg: Config
    source: str
    data_dir: Path
    cell: int
    data_pin: int
    clock_pin: int

    @property
    def name(self) -> str:
        base = "hx711" if self.source == "hx711" else "hx711-emulated"
        return base if self.cell == 1 else f"{base}-2"


def _setup(config_path: str | None, data_dir: str | None, source: str | None, cell: str,
           pins: tuple[int | None, int | None], sensor: dict[str, Any]) -> _Target:
    try:
        cfg = load_config(config_path)
        values = {k: int(v) for k, v in sensor.items() if v is not None}
        if values:
            cfg = cfg.with_values("sensor", **values)
        if data_dir:
            cfg = cfg.with_values("store", data_dir=str(data_dir))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    chosen = source or (cfg.sensor.source if cfg.sensor.source in SOURCES else "hx711")
    wired = cfg.sensor if cell == "1" else cfg.sensor2
    data_pin = pins[0] if pins[0] is not None else wired.data_pin
    clock_pin = pins[1] if pins[1] is not None else wired.clock_pin
    if cell == "2" and chosen == "hx711" and not (data_pin and clock_pin):
        raise click.ClickException("cell 2 has no pins: set [sensor2] data_pin and clock_pin in the config "
                                   "(suggested BCM 23 and 24) or give --data-pin and --clock-pin")
    return _Target(cfg, chosen, cfg.data_dir(), int(cell), data_pin, clock_pin)


def _open_raw(target: _Target, emulated_kg: float) -> Any:
    s = target.cfg.sensor
    try:
        if target.source == "hx711-emulated":
            from firmware.sensors.hx711.emulated import still_load_reader

            click.echo(f"(emulated HX711 under a still {emulated_kg:g} kg load, "
                       f"{s.rate_hz} SPS, gain {s.gain})")
            return still_load_reader(emulated_kg, rate_hz=s.rate_hz, gain=s.gain)
        from firmware.sensors.hx711 import open_hx711_reader

        click.echo(f"HX711 cell {target.cell} on DT=BCM{target.data_pin}, SCK=BCM{target.clock_pin}, "
                   f"{s.rate_hz} SPS, gain {s.gain}")
        return open_hx711_reader(target.data_pin, target.clock_pin, rate_hz=s.rate_hz, gain=s.gain,
                                 ready_timeout_s=s.ready_timeout_s)
    except (SensorFault, ValueError) as exc:
        raise click.ClickException(f"cannot open the sensor: {exc}") from None


def _check(raw: Any, cal: Calibration, seconds: float = 1.0) -> str:
    codes = collect_codes(raw, seconds)
    if not codes:
        return "no reading to check"
    spread_kg = spread_counts(codes) / abs(cal.scale)
    return f"the step now reads {cal.kg(robust_mean(codes)):.2f} kg (spread {spread_kg:.2f} kg)"


def _show_current(target: _Target) -> Calibration:
    """Echo the calibration in use before anything changes, so the owner sees what is replaced."""
    current = load_calibration(target.data_dir, target.name)
    click.echo(f"Current calibration: {current.describe()}")
    return current


def _read_and_save(target: _Target, raw: Any, seconds: float, *, refused: str, ask: tuple[str, str],
                   measure: Callable[[], Calibration], done: Callable[[Calibration], str]) -> None:
    """The walk tare and calibrate share: ask for the step to be set up (`ask`: what to do, the
    key prompt), `measure` reads it still and saves, then echo the result, a check reading and the
    file. A refusal becomes a click error starting "`refused` refused"; the sensor is closed either way.
    """
    try:
        click.echo(ask[0])
        click.pause(ask[1])
        click.echo(f"Reading for {seconds:g} s - do not touch the step...")
        new = measure()
        click.echo(f"Done: {done(new)} ({new.date}); {_check(raw, new)}.")
        click.echo(f"Saved to {calibration_path(target.data_dir, target.name)}")
    except CalibrationError as exc:
        raise click.ClickException(f"{refused} refused: {exc}") from None
    finally:
        raw.close()


@click.command("tare")
@_common
@click.option("--force", is_flag=True,
              help="Accept a tare that moves zero by more than 10 kg (the step was rebuilt).")
@click.option("--emulated-kg", type=float, default=0.0, show_default=True,
              help="With hx711-emulated: the still load on the emulated step.")
def tare_command(source, data_dir, config_path, seconds, cell, data_pin, clock_pin, rate, gain, force,
                 emulated_kg) -> None:
    """Set zero: read the EMPTY step for a few seconds (refused if the load is not still)."""
    target = _setup(config_path, data_dir, source, cell, (data_pin, clock_pin),
                    {"rate_hz": rate, "gain": gain})
    _show_current(target)
    raw = _open_raw(target, emulated_kg)
    _read_and_save(target, raw, seconds, refused="tare",
                   ask=("Step off the step and take everything off it.",
                        "Press any key when the step is empty..."),
                   measure=lambda: tare(raw, target.data_dir, seconds, name=target.name, force=force),
                   done=lambda new: f"zero is {new.offset:.0f} counts")


@click.command("calibrate")
@_common
@click.option("--known-kg", type=click.FloatRange(0.5, 300), required=True, help="The known weight, in kg.")
@click.option("--emulated-kg", type=float, default=None,
              help="With hx711-emulated: the still load on the emulated step (default: the known weight).")
def calibrate_command(source, data_dir, config_path, seconds, cell, data_pin, clock_pin, rate, gain, known_kg,
                      emulated_kg) -> None:
    """Set the scale: read a KNOWN weight on the tared step (tare first)."""
    target = _setup(config_path, data_dir, source, cell, (data_pin, clock_pin),
                    {"rate_hz": rate, "gain": gain})
    if _show_current(target).is_default:
        click.echo("Warning: the step was never tared; tare the empty step first for a true scale.")
    raw = _open_raw(target, known_kg if emulated_kg is None else emulated_kg)
    where = "over this cell's half of the outer edge" if target.cfg.sensor2.data_pin or target.cell == 2 \
        else "on the outer edge of the step, right above the cell"
    _read_and_save(target, raw, seconds, refused="calibration",
                   ask=(f"Put the {known_kg:g} kg weight {where}, then let go.",
                        "Press any key when it rests still..."),
                   measure=lambda: calibrate(raw, target.data_dir, known_kg, seconds, name=target.name),
                   done=lambda new: f"{new.scale:.1f} counts per kg")
