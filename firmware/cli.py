"""The `stretchstep` command: run, record, analyze, plot, config (+ tare, calibrate).

Errors a user can fix (a bad config key, a malformed trace, an unknown source) are printed as
one clear line and exit with status 2; nothing here prints a traceback for them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from firmware import config as configuration
from firmware.cli_calibration import calibrate_command, tare_command
from firmware.cli_common import config_option, data_dir_option, load_config, source_option
from firmware.cli_history import export_command, import_command, reanalyze_command, report_command
from firmware.config import ConfigError
from firmware.sensors.trace import TraceError
from firmware.service import ServiceError
from firmware.sources import SourceError

USER_ERRORS = (ConfigError, TraceError, SourceError, ServiceError)


class FriendlyGroup(click.Group):
    """Turns the errors a user can fix into one readable line instead of a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None


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
@click.option("--speed", type=float, default=None, help="Run a simulated/replayed source N times faster.")
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
    sys.exit(run_service(cfg))


@main.command()
@source_option
@click.option("--seconds", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="How many seconds of samples to record (source time).")
@click.option("--realtime", is_flag=True, help="Pace a simulated/replayed source in real time.")
@config_option
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def record(source, seconds, realtime, config_path, out) -> None:
    """Record a trace (DESIGN §5 format) from any source to OUT.csv."""
    from firmware.recording import record_trace

    cfg = load_config(config_path, source=source)
    click.echo(configuration.describe(cfg), err=True)
    record_trace(cfg, Path(out), seconds, realtime=realtime, echo=click.echo)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (DESIGN §5).")
@click.option("--body-kg", type=click.FloatRange(20, 300), default=None, help="Body weight, if known.")
@click.argument("trace", type=click.Path(dir_okay=False))
def analyze(as_json, body_kg, trace) -> None:
    """Find stretches, breaths and bounces in a recorded TRACE."""
    from firmware.analysis import analyze_trace, format_table

    result = analyze_trace(trace, body_kg=body_kg)
    click.echo(json.dumps(result) if as_json else format_table(result))


@main.command()
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="Output SVG (default: TRACE with .svg).")
@click.option("--body-kg", type=click.FloatRange(20, 300), default=None)
@click.argument("trace", type=click.Path(dir_okay=False))
def plot(out, body_kg, trace) -> None:
    """Draw TRACE with what the detector found (and the ground truth if a .truth.json sits beside it)."""
    from firmware.plotting import plot_trace

    path = plot_trace(Path(trace), Path(out) if out else None, body_kg=body_kg)
    click.echo(f"wrote {path}")


main.add_command(tare_command)
main.add_command(calibrate_command)
for _command in (export_command, import_command, report_command, reanalyze_command):
    main.add_command(_command)


@main.command(name="config")
@config_option
@data_dir_option
def show_config(config_path, data_dir) -> None:
    """Print the effective configuration (file + defaults) as TOML."""
    cfg = load_config(config_path, data_dir)
    click.echo(f"# effective {configuration.describe(cfg)}")
    click.echo(configuration.to_toml(cfg))
