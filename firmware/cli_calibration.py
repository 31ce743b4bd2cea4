"""`stretchstep tare` and `stretchstep calibrate --known-kg KG`: walk the owner through it.

Both use the configuration `run` finds (an installed Pi's /etc/stretchstep/config.toml) and
say which config file and data dir they use. While a stretchstep with a sensor is running on
this machine with that data dir (the installed service), they go through its API on loopback:
it holds the pins, and it knows from its detector whether the step is empty. Otherwise they
read the sensor directly. Either way a load that is not still is refused with what was seen,
and the result is saved to the data dir where `run` picks it up. `--source hx711-emulated`
does the same on the emulated chip (a still load of `--emulated-kg`), without hardware.
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
from firmware.cli_common import refuse_behind_a_service
from firmware.config import Config, ConfigError, describe
from firmware.config import load as load_config
from firmware.running_service import ServiceCallError, call, find_running, local_url, read_access_code
from firmware.sensors.hx711 import SensorFault

SOURCES = ("hx711", "hx711-iio", "hx711-emulated")


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--source", type=click.Choice(SOURCES), default=None,
                     help="hx711 (the real chip), hx711-iio (through the kernel driver) or "
                          "hx711-emulated (default: the configured one, else hx711)."),
        click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                     help="Where the calibration is saved (default: the config's, as for `run`)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                     help="TOML config file (pins, rate, gain; default: the one `run` finds)."),
        click.option("--seconds", type=click.FloatRange(0.5, 30), default=None,
                     help="How long to read (default 2 s; bringup 5 s)."),
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
        base = "hx711-emulated" if self.source == "hx711-emulated" else "hx711"
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
    if cell == "2" and chosen != "hx711-emulated" and not (data_pin and clock_pin):
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
        if target.source == "hx711-iio":
            from firmware.sensors.hx711.iio import IIOHX711Reader

            click.echo(f"HX711 through the kernel's IIO driver, {s.rate_hz} SPS, gain {s.gain}")
            return IIOHX711Reader(rate_hz=s.rate_hz, gain=s.gain)
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
    current = load_calibration(target.data_dir, target.name)    # a bad file: a user error (cli.py)
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
    except OSError as exc:
        raise click.ClickException(
            f"cannot save to {target.data_dir} ({exc.strerror}): run it as the user that owns it "
            "(on an installed Pi: sudo -u stretchstep stretchstep ...)") from None
    finally:
        raw.close()


def _through_service(target: _Target, ask: tuple[str, str], path: str, body: dict[str, Any],
                     refused: str) -> bool:
    """Hand the job to a running stretchstep with a sensor and this data dir; False if there is none."""
    service, code = find_running(target.cfg), read_access_code(target.cfg)
    if service is not None and service.closed:   # open_reads = false: it says more only with the code
        click.echo(f"A stretchstep answers at {service.base_url}, with its readings behind the access code.")
        code = click.prompt("Access code (printed when the service first started)", hide_input=True)
        asked, service = service.base_url, find_running(target.cfg, code=code)
        if service is None or service.closed:
            raise click.ClickException(f"{refused} refused: the stretchstep at {asked} did "
                                       "not accept that access code")
    if service is None or not service.health.get("control"):
        _refuse_behind_a_service(target, refused)
        return False
    if service.data_dir is not None and Path(service.data_dir) != Path(target.data_dir):
        click.echo(f"(a stretchstep at {service.base_url} keeps its data in {service.data_dir}, not "
                   f"{target.data_dir}: reading the sensor directly)")
        return False
    running = (service.health.get("config") or {}).get("source")
    if running and running != target.source:     # it does not hold this sensor (open reads show it)
        click.echo(f"(a stretchstep at {service.base_url} runs the {running} source, not {target.source}: "
                   "reading the sensor directly)")
        return False
    click.echo(f"The stretchstep running at {service.base_url} holds the sensor: asking it.")
    try:
        code = code or click.prompt(
            "Access code (printed when the service first started)", hide_input=True)
        click.echo(ask[0])
        click.pause(ask[1])
        answer = call(service, path, body, code)
    except ServiceCallError as exc:
        raise click.ClickException(f"{refused} refused: {exc}") from None
    result = answer.get("result") or {}
    click.echo(f"Done: {result.get('message', 'ok')}")
    for saved in result.get("paths", []):
        click.echo(f"Saved to {saved}")
    return True


def _refuse_behind_a_service(target: _Target, what: str) -> None:
    """Nothing took the job at the configured address, yet a stretchstep may hold this data dir
    (started with another --port, say): refused then (cli_common.refuse_behind_a_service)."""
    refuse_behind_a_service(target.cfg.with_values("sensor", source=target.source), what,
                            where=local_url(target.cfg) or "the configured port")


@click.command("tare")
@_common
@click.option("--force", is_flag=True,
              help="Accept a tare that moves zero by more than 10 kg (the step was rebuilt).")
@click.option("--emulated-kg", type=float, default=0.0, show_default=True,
              help="With hx711-emulated: the still load on the emulated step.")
def tare_command(source, data_dir, config_path, seconds, cell, data_pin, clock_pin, rate, gain, force,
                 emulated_kg) -> None:
    """Set zero: read the EMPTY step for a few seconds (refused if the load is not still)."""
    seconds = seconds or 2.0
    target = _setup(config_path, data_dir, source, cell, (data_pin, clock_pin),
                    {"rate_hz": rate, "gain": gain})
    click.echo(describe(target.cfg))
    ask = ("Step off the step and take everything off it.", "Press any key when the step is empty...")
    if force and find_running(target.cfg) is not None:
        click.echo("(--force reads the chip directly: it is used only while the service is stopped)")
    if _through_service(target, ask, "/api/tare", {}, "tare"):
        return
    _show_current(target)
    raw = _open_raw(target, emulated_kg)
    _read_and_save(target, raw, seconds, refused="tare", ask=ask,
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
    seconds = seconds or 2.0
    target = _setup(config_path, data_dir, source, cell, (data_pin, clock_pin),
                    {"rate_hz": rate, "gain": gain})
    click.echo(describe(target.cfg))
    where = "over this cell's half of the outer edge" if target.cfg.sensor2.data_pin or target.cell == 2 \
        else "on the outer edge of the step, right above the cell"
    ask = (f"Put the {known_kg:g} kg weight {where}, then let go.", "Press any key when it rests still...")
    if _through_service(target, ask, "/api/calibrate", {"known_kg": known_kg}, "calibration"):
        return
    if _show_current(target).is_default:
        click.echo("Warning: the step was never tared; tare the empty step first for a true scale.")
    raw = _open_raw(target, known_kg if emulated_kg is None else emulated_kg)
    _read_and_save(target, raw, seconds, refused="calibration", ask=ask,
                   measure=lambda: calibrate(raw, target.data_dir, known_kg, seconds, name=target.name),
                   done=lambda new: f"{new.scale:.1f} counts per kg")


@click.command("bringup")
@_common
def bringup_command(source, data_dir, config_path, seconds, cell, data_pin, clock_pin, rate, gain) -> None:
    """Bring-up: does the chip answer, its raw codes, the rate it achieves, on which pins."""
    from firmware.sensors.hx711 import bring_up

    seconds = seconds or 5.0

    target = _setup(config_path, data_dir, source, cell, (data_pin, clock_pin),
                    {"rate_hz": rate, "gain": gain})
    click.echo(describe(target.cfg))
    service = find_running(target.cfg)
    if target.source != "hx711-emulated":
        if service is not None and (service.closed or service.health.get("control")):
            raise click.ClickException(
                f"the stretchstep running at {service.base_url} holds the sensor; stop it first "
                "(sudo systemctl stop stretchstep), or see `stretchstep doctor` for what it reports")
        _refuse_behind_a_service(target, "bring-up")
    raw = _open_raw(target, 1.0)
    try:
        status = bring_up(raw, seconds, echo=click.echo)
    finally:
        raw.close()
    if status:
        raise click.ClickException("the chip did not pass bring-up (see above; hardware/README.md section 6)")
