"""`stretchstep export`, `import`, `report` and `reanalyze`: the history, taken out and brought up to date.

Each reads the same data dir as `stretchstep run` (so on an installed device, the service's) and
says which one it used. Outputs are written atomically (`firmware.files.write_atomic`), so a
failure never leaves half a report or erases an older one.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click

from firmware.cli_common import config_option, data_dir_option, load_config
from firmware.config import Config
from firmware.datalock import DataDirLock, DataDirLocked
from firmware.files import PUBLIC_MODE, write_atomic
from firmware.history import (
    ExportUnreadable,
    History,
    ImportRefused,
    export_data,
    export_events,
    export_traces,
    history_context,
    import_data,
    json_chunks,
    mend_import,
    read_export,
    render_report,
    to_csv,
)
from firmware.routine.build import RoutineBook, say_body_kg
from firmware.store import Store
from firmware.traces import reanalyze
from firmware.words import counted


class DateParam(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a date YYYY-MM-DD", param, ctx)


def _open_store(cfg: Config, *, must_exist: bool = True) -> Store:
    path = cfg.history_dir() / "history.sqlite"
    if must_exist and not path.exists():
        raise click.ClickException(f"no history in {cfg.history_dir()} yet (no history.sqlite): "
                                   "`stretchstep run` starts it there; or is --data-dir / "
                                   "[store] data_dir wrong?")
    click.echo(f"history: {path}", err=True)
    return Store(path)


@contextlib.contextmanager
def _writing_alone(cfg: Config, what: str) -> Iterator[None]:
    """Hold the data dir's lock while a command rewrites history (`import`, `reanalyze`).

    Why: reanalyzing a session while `stretchstep run` is still writing it stored the stretch in
    progress twice (once cut at the end of the kept trace, once when it really ended); so these
    commands, like a second `run`, refuse while another process holds the data dir."""
    try:
        with DataDirLock(cfg.history_dir()):
            yield
    except DataDirLocked as exc:
        hint = "the service stops with: sudo systemctl stop stretchstep"
        raise click.ClickException(f"{what}: {exc}; {hint}") from None


def _mend(store: Store, cfg: Config) -> None:
    """Finish or undo a killed import before rewriting history (as `run` does at start), saying so."""
    mended = mend_import(store, cfg.history_dir())
    if mended:
        click.echo(mended, err=True)


class _Counted:
    """The items of an iterable as they go through, counted (the export's summary line)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.count += 1
            yield item


def write_output(out: Path, text: str | Iterable[str]) -> None:
    """`firmware.files.write_atomic`, with a missing folder or a refusal as one clear line."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise click.ClickException(f"cannot write {out}: folder {folder} does not exist")
    try:
        write_atomic(out, text, mode=PUBLIC_MODE)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None


@click.command(name="export")
@click.option("--since", type=DateParam(), default=None, help="First day to export (default: everything).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="csv: stretches and pain, for a spreadsheet; json: everything, for `stretchstep import`.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: standard output).")
@config_option
@data_dir_option
def export_command(since, fmt, out, config_path, data_dir) -> None:
    """Export every stretch and the pain log (CSV for a spreadsheet); JSON also keeps the profiles,
    settings, routines, events and kept force traces, to import elsewhere."""
    cfg = load_config(config_path, data_dir)
    hc = history_context(cfg)
    store = _open_store(cfg)
    start = hc.day_clock.bounds(since)[0] if since else None
    events = _Counted(export_events(store, start))      # read (and counted) only by the JSON
    try:
        data = export_data(store, hc.day_clock, since=start)
        traces = export_traces(data, hc.data_dir, hc.day_clock, start) if fmt == "json" else []
        text = to_csv(data) if fmt == "csv" else json_chunks(data, events, traces)
        if out is None:
            for piece in (text,) if isinstance(text, str) else text:
                click.echo(piece, nl=False)
            return
        write_output(out, text)
    finally:
        store.close()
    stretches, pain = counted(len(data["stretches"]), "stretch", "stretches"), \
        counted(len(data["pain"]), "pain entry", "pain entries")
    if fmt == "csv":
        click.echo(f"wrote {stretches} and {pain} to {out}")
    else:
        click.echo(f"wrote {stretches}, {pain}, {counted(events.count, 'event')} and "
                   f"{counted(len(traces), 'kept trace')} to {out}")


@click.command(name="import")
@click.argument("export_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@config_option
@data_dir_option
def import_command(export_file, config_path, data_dir) -> None:
    """Load a JSON export (from `stretchstep export --format json`) into an empty data dir."""
    cfg = load_config(config_path, data_dir)
    try:
        data = read_export(export_file)
    except ExportUnreadable as exc:
        raise click.ClickException(f"{export_file}: not a JSON export: {exc}") from None
    cfg.history_dir().mkdir(parents=True, exist_ok=True)
    with _writing_alone(cfg, "cannot import"):
        store = _open_store(cfg, must_exist=False)
        try:
            _mend(store, cfg)
            added = import_data(store, data, cfg.history_dir())
        except ImportRefused as exc:
            raise click.ClickException(f"{export_file}: {exc}") from None
        finally:
            store.close()
    click.echo(f"imported {counted(added['stretches'], 'stretch', 'stretches')}, "
               f"{counted(added['pain'], 'pain entry', 'pain entries')}, "
               f"{counted(added['sessions'], 'session')}, {counted(added['events'], 'event')}, "
               f"{counted(added['traces'], 'kept trace')}, "
               f"{counted(added['profiles'], 'profile')} and {counted(added['routines'], 'routine')} "
               f"into {cfg.history_dir()}")


@click.command(name="report")
@click.option("--week", "days", flag_value=7, default=True, help="The last 7 days (the default).")
@click.option("--days", "days", type=click.IntRange(1, 366), help="Another number of days.")
@click.option("--end", type=DateParam(), default=None, help="Last day of the report (default: today).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output HTML (default: stretchstep-report-END.html here).")
@config_option
@data_dir_option
def report_command(days, end, out, config_path, data_dir) -> None:
    """A printable HTML page of the week (charts as SVG) to hand to a physiotherapist."""
    cfg = load_config(config_path, data_dir)
    store = _open_store(cfg)
    hc = history_context(cfg, store)
    now = time.time() if end is None else hc.day_clock.bounds(end)[1] - 1
    try:
        figures = History(store, hc.day_clock, goal=hc.daily_goal(), routines_done=hc.routines_done).report(
            int(days), now)
    finally:
        store.close()
    last = figures["days"][-1]["day"]
    out = out or Path(f"stretchstep-report-{last}.html")
    write_output(out, render_report(figures))
    click.echo(f"wrote {out} ({figures['days'][0]['day']} to {last})")


@click.command(name="reanalyze")
@click.option("--since", type=DateParam(), required=True, help="Replay sessions from this day on.")
@config_option
@data_dir_option
def reanalyze_command(since, config_path, data_dir) -> None:
    """Replay kept session traces through this version's detector and update the history.

    The detector is told what the running device tells its own now: the active profile's hold
    targets and body weight (firmware.routine.profiles.body_kg_in_use), so a replay judges foot
    shifts and completed holds as the live detector does."""
    cfg = load_config(config_path, data_dir)
    hc = history_context(cfg)
    store = _open_store(cfg)
    try:
        with _writing_alone(cfg, "cannot reanalyze"):
            _mend(store, cfg)
            body_kg = body_kg_line(cfg, store)
            settings = RoutineBook.from_config(cfg).stored_settings(store)
            targets = (settings.target_s, settings.target_breaths) if settings is not None else (
                cfg.detector.target_s, cfg.detector.target_breaths)
            click.echo(f"{body_kg[1]}; hold target {targets[0]:g} s"
                       + (f" or {targets[1]} breaths" if targets[1] else ""))
            totals = reanalyze(store, cfg.history_dir(), hc.day_clock.bounds(since)[0], target_s=targets[0],
                               target_breaths=targets[1], body_kg=body_kg[0], echo=click.echo)
    finally:
        store.close()
    if totals["files"] + totals["incomplete"] == 0:
        click.echo(f"no kept traces since {since} in {cfg.history_dir() / 'traces'} "
                   f"([store] keep_traces_days = {cfg.store.keep_traces_days})", err=True)
        sys.exit(1)
    left = f"; {counted(totals['incomplete'], 'file')} with samples missing left as they were" \
        if totals["incomplete"] else ""
    click.echo(f"replayed {counted(totals['files'], 'trace file')}: {totals['old']} stretches before, "
               f"{totals['new']} now{left}")


def body_kg_line(cfg: Config, store: Store | None) -> tuple[float | None, str]:
    """The body weight the device's detector uses now (None: none), and that said in words;
    `store` None: no history yet."""
    book = RoutineBook.from_config(cfg)
    kg, source, active = book.body_kg(store)
    return kg, f"body weight for the detector: {say_body_kg(kg, source, active, book.default_body_kg)}"


__all__ = ["body_kg_line", "export_command", "import_command", "reanalyze_command", "report_command"]
