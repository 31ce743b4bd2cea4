"""The `stretchstep` command: run, record, analyze, plot, config, access-code, doctor
(+ tare, calibrate, bringup).

Errors a user can fix (a bad config key, a malformed trace, an unknown source, a file that
cannot be read or written) are printed as one clear line and exit with status 2, like click's
own usage errors; nothing here prints a traceback for them. Status 1 is left for a real fault.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
from pathlib import Path

import click

from firmware import config as configuration
from firmware.access import AccessError
from firmware.calibration import CalibrationError
from firmware.cli_calibration import bringup_command, calibrate_command, tare_command
from firmware.cli_common import (
    config_option,
    data_dir_option,
    load_config,
    refuse_behind_a_service,
    source_option,
)
from firmware.cli_history import export_command, import_command, reanalyze_command, report_command
from firmware.config import Config, ConfigError
from firmware.publish.fleet import fleet_command
from firmware.sensors.trace import TraceError
from firmware.service import ServiceError
from firmware.sources import SourceError
from firmware.store import Store, StoreError

USER_ERRORS = (ConfigError, TraceError, SourceError, ServiceError, AccessError, StoreError,
               CalibrationError)


class UserError(click.ClickException):
    """One line on stderr, exit status 2."""

    exit_code = 2


class FriendlyGroup(click.Group):
    """Turns the errors a user can fix into one readable line instead of a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise UserError(str(exc)) from None
        except click.ClickException as exc:   # a command's own one-line refusal: a user error too
            if type(exc) is click.ClickException:
                exc.exit_code = UserError.exit_code
            raise
        except BrokenPipeError:           # `stretchstep export | head`: the reader has had enough
            _quiet_stdout()
            sys.exit(1)
        except UnicodeError as exc:       # a file that is not text, read by a path we missed
            raise UserError(f"not text: {exc.reason}") from None
        except OSError as exc:            # a file or folder that is missing, a folder, read-only
            where = f"{exc.filename}: " if exc.filename else ""
            raise UserError(f"{where}{exc.strerror or exc}") from None


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush into the closed pipe does not
    print an error of its own (as the Python docs advise for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):         # no real stdout (a test's runner): nothing to flush
        pass


class FiniteRange(click.FloatRange):
    """click.FloatRange lets NaN through (every comparison with it is false)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number in the range {self._describe_range()}.", param, ctx)
        return number


@click.group(cls=FriendlyGroup)
@click.version_option(package_name="stretchstep")
def main() -> None:
    """stretchstep: a stair step that watches calf stretches."""


@main.command()
@source_option
@click.option("--host", default=None, help="Address to listen on (default 0.0.0.0: the whole LAN).")
@click.option("--port", type=int, default=None, help="Port for the dashboard (default 8080).")
@data_dir_option
@config_option
@click.option("--speed", type=FiniteRange(0.1, 1000), default=None,
              help="Run a simulated/replayed source N times faster.")
def run(source, host, port, data_dir, config_path, speed) -> None:
    """Run the device: sampling loop + dashboard (simulated person unless a sensor is configured)."""
    from firmware.service import run_service

    cfg = load_config(config_path, data_dir, source)
    if host is not None:
        cfg = cfg.with_values("web", host=host)
    if port is not None:
        cfg = cfg.with_values("web", port=port)
    if speed is not None:
        cfg = cfg.with_values("simulation", speed=speed)
    _before_run(cfg)
    sys.exit(run_service(cfg))


def _before_run(cfg: Config) -> None:
    """What `run` says before it starts: the config it uses, an uncalibrated step, its LAN name."""
    from firmware.calibration import uncalibrated_warning
    from firmware.doctor import lan_name

    click.echo(configuration.describe(cfg), err=True)
    warning = uncalibrated_warning(cfg)
    if warning:
        click.echo(warning, err=True)
    if cfg.web.host in ("0.0.0.0", "::", "") and cfg.web.port:
        click.echo(f"by name on the LAN (mDNS): http://{lan_name()}:{cfg.web.port}/", err=True)


@main.command()
@source_option
@click.option("--seconds", type=FiniteRange(0.1, 10 * 86400), default=60.0, show_default=True,
              help="How many seconds of samples to record (source time).")
@click.option("--realtime", is_flag=True, help="Pace a simulated/replayed source in real time.")
@config_option
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def record(source, seconds, realtime, config_path, out) -> None:
    """Record a trace (DESIGN §5 format) from any source to OUT.csv."""
    from firmware.recording import record_trace

    cfg = load_config(config_path, source=source)
    click.echo(configuration.describe(cfg), err=True)
    if cfg.sensor.source in ("hx711", "hx711-iio"):    # the running service holds the chip
        refuse_behind_a_service(cfg, "recording from the sensor")
    record_trace(cfg, Path(out), seconds, realtime=realtime, echo=click.echo)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (DESIGN §5).")
@click.option("--body-kg", type=FiniteRange(20, 300), default=None, help="Body weight, if known.")
@click.argument("trace", type=click.Path(dir_okay=False))
def analyze(as_json, body_kg, trace) -> None:
    """Find stretches, breaths and bounces in a recorded TRACE."""
    from firmware.analysis import analyze_trace, format_table

    result = analyze_trace(trace, body_kg=body_kg)
    click.echo(json.dumps(result) if as_json else format_table(result))


@main.command()
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="Output SVG (default: TRACE with .svg).")
@click.option("--body-kg", type=FiniteRange(20, 300), default=None)
@click.argument("trace", type=click.Path(dir_okay=False))
def plot(out, body_kg, trace) -> None:
    """Draw TRACE with what the detector found (and the ground truth if a .truth.json sits beside it)."""
    from firmware.plotting import plot_trace

    path = plot_trace(Path(trace), Path(out) if out else None, body_kg=body_kg)
    click.echo(f"wrote {path}")


main.add_command(tare_command)
main.add_command(calibrate_command)
main.add_command(bringup_command)


@main.command()
@config_option
@data_dir_option
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port the service was started on, if not the config's (`run --port`).")
def doctor(config_path, data_dir, port) -> None:
    """When the step seems dead: service, sensor, calibration, clock, disk, address - and what to do."""
    from firmware.doctor import FAIL, diagnose

    cfg = load_config(config_path, data_dir)
    if port is not None:
        cfg = cfg.with_values("web", port=port)
    click.echo(configuration.describe(cfg))
    checks = diagnose(cfg)
    for check in checks:
        click.echo(check.line())
    if any(check.level == FAIL for check in checks):
        sys.exit(1)
for _command in (export_command, import_command, report_command, reanalyze_command, fleet_command):
    main.add_command(_command)


@main.command(name="config")
@config_option
@data_dir_option
def show_config(config_path, data_dir) -> None:
    """Print the effective configuration (file + defaults) as TOML."""
    from firmware.access import describe, load_access_code

    cfg = load_config(config_path, data_dir)
    click.echo(f"# effective {configuration.describe(cfg)}")
    click.echo(f"# {describe(load_access_code(cfg.data_dir(), cfg.web.access_code))}")
    click.echo(f"# {_body_kg_said(cfg)}")
    click.echo(configuration.to_toml(cfg))


def _body_kg_said(cfg: Config) -> str:
    """Why: a weight entered on the phone overrides [person] body_kg, which the TOML below
    alone would not show; read from the history if there is one (nothing is written)."""
    from firmware.cli_history import body_kg_line

    path = cfg.history_dir() / "history.sqlite"
    if not path.exists():
        return body_kg_line(cfg, None)[1]
    try:
        store = Store(path)
        try:
            return body_kg_line(cfg, store)[1]
        finally:
            store.close()
    except (StoreError, OSError, sqlite3.Error) as exc:
        return f"{body_kg_line(cfg, None)[1]} (the history could not be read: {exc})"


@main.command(name="access-code")
@click.option("--reset", is_flag=True, help="Make a new code (the old one stops working at once).")
@config_option
@data_dir_option
def access_code(reset, config_path, data_dir) -> None:
    """Say whether an access code is set; with --reset, make a new one and show it once.

    Run it on the device: the code is stored only as a hash, so a lost one cannot be shown
    again, only replaced. A running stretchstep takes the new code without a restart."""
    from firmware.access import describe, link, load_access_code, reset_access_code
    from firmware.service import lan_addresses

    cfg = load_config(config_path, data_dir)
    if cfg.web.access_code:
        click.echo("the access code is set in the config file ([web] access_code); change it there")
        return
    if not reset:
        click.echo(describe(load_access_code(cfg.data_dir(), "")))
        return
    fresh = reset_access_code(cfg.data_dir()).fresh
    port = cfg.web.port or 8080
    for host in lan_addresses() or ["127.0.0.1"]:
        click.echo(f"open on your phone: {link(host, port, fresh)}")
    click.echo(f"new access code: {fresh} (shown this once; stored hashed)")
