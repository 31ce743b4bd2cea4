"""An import's kept traces: staged, recorded in the same transaction as the rows, then moved into
`traces/`; and a killed import finished or undone by the next start (`mend_import`).

Why this order: the traces used to be moved into `traces/` before the rows committed, so a kill or
power cut between the two left trace files with no history; a later session of the same id and
day appended to such a file, and the next import refused or doubled it. Now:

1. each trace is written (fsync'd) into the hidden folder `traces/.import-PID`;
2. the rows and a record of that folder and its files (the settings key `STAGED_KEY`) commit in
   one transaction, synchronous=FULL, so the commit is on disk before anything moves;
3. the files are moved into `traces/` (each `os.replace` is atomic), the staging folder is
   removed and `traces/` fsync'd;
4. the record is deleted.

So the record exists exactly when the rows committed and some staged files may still wait; a
staging folder without the record is an import whose rows never committed. `mend_import` (called
by the sampler at start-up before a new session begins, and by `import` and `reanalyze`) therefore
moves the files the record names (step 3 and 4 again: each is idempotent) or, with no record,
deletes the staging folders: the data dir is then fully imported, or as before the import.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.files import fsync_dir, private_dir, write_atomic
from firmware.history.export_file import KeptItems
from firmware.history.kept import TraceRefused, decoded, remove
from firmware.store import Store

STAGED_KEY = "import_staged"     # not a setting: the export leaves it out, an import never sets it
STAGING_RE = re.compile(r"\.import-\d+")
NAME_RE = re.compile(r"session-\d+-\d{4}-\d\d-\d\d\.csv\.gz")


@dataclass(frozen=True)
class Staged:
    """An import's trace files waiting in `folder` (`traces/.import-PID`) to move into `traces/`."""

    folder: Path
    names: tuple[str, ...]


def stage_traces(data_dir: str | Path, items: Any, session_ids: set[int]) -> Staged | None:
    """Write an export's traces into a fresh staging folder (names made here, never taken from the
    file); None when there are none. TraceRefused names the first item that cannot be.

    Why two passes: a year of traces decoded at once is some 300 MB, too much for a 512 MB Pi
    (`items` is read from the file again for each pass, `export_file.KeptItems`). The first pass
    decodes and checks each item and drops it, so nothing is written when any is bad; the second
    decodes each again and writes it, one alive at a time."""
    if not isinstance(items, list | KeptItems):
        raise TraceRefused("traces must be a list")
    from firmware.traces.keeper import trace_dir, trace_name  # here: firmware.traces imports history

    seen: set[tuple[int, str]] = set()
    for n, item in enumerate(items):
        sid, day = decoded(n, item, session_ids)[:2]      # the bytes go at once
        if (sid, day) in seen:
            raise TraceRefused(f"traces[{n}]: a second trace for session {sid} on {day}")
        seen.add((sid, day))
    if not items:
        return None
    staged = Staged(trace_dir(data_dir) / f".import-{os.getpid()}", ())
    try:
        private_dir(staged.folder)
        names = []
        for n, item in enumerate(items):
            sid, day, blob = decoded(n, item, session_ids)
            names.append(write_atomic(staged.folder / trace_name(sid, day), blob).name)
            del blob
    except BaseException as exc:
        discard(staged.folder)
        if isinstance(exc, OSError):
            raise TraceRefused(f"cannot write the kept traces into {staged.folder.parent}: "
                               f"{exc.strerror}") from None
        raise
    return Staged(staged.folder, tuple(names))


def record_staged(conn: sqlite3.Connection, staged: Staged) -> None:
    """Note the staged files in the import's open transaction (they commit with its rows)."""
    value = json.dumps({"folder": staged.folder.name, "names": list(staged.names)})
    conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key)"
                 " DO UPDATE SET value = excluded.value", (STAGED_KEY, value))


def move_staged(store: Store, data_dir: str | Path) -> tuple[int, int] | None:
    """Move the recorded staged files into `traces/`, then drop the record; (moved now, missing),
    or None when no import waits. Safe to repeat after a crash at any point of it."""
    staged = _recorded(store, data_dir)
    if staged is None:
        return None
    moved = missing = 0
    for name in staged.names:
        target = staged.folder.parent / name
        if (staged.folder / name).exists():
            os.replace(staged.folder / name, target)
            moved += 1
        elif not target.exists():
            missing += 1
    discard(staged.folder)
    fsync_dir(staged.folder.parent)       # the moves (and the folder gone) on disk before the record goes
    store.connection().execute("DELETE FROM settings WHERE key = ?", (STAGED_KEY,))
    return moved, missing


def mend_import(store: Store, data_dir: str | Path) -> str | None:
    """Finish or undo what a killed import left; a line saying what was done, or None if nothing
    was to do. Call it holding the data dir's lock, before a session may write traces."""
    from firmware.traces.keeper import trace_dir  # here: firmware.traces imports history

    try:
        done = move_staged(store, data_dir)
    except OSError as exc:     # the rows are there and new sessions get new ids: safe to go on
        return (f"cannot yet finish an import that was stopped after its history was saved "
                f"({exc}); its traces wait in {trace_dir(data_dir)}, the next start tries again")
    if done is not None:
        moved, missing = done
        gone = f"; {missing} of its traces were not found" if missing else ""
        return (f"finished an import that was stopped after its history was saved: moved {moved} "
                f"kept trace(s) into {trace_dir(data_dir)}{gone}")
    folders = [p for p in trace_dir(data_dir).glob(".import-*") if STAGING_RE.fullmatch(p.name)]
    if not folders:
        return None
    files = sum(discard(folder) for folder in folders)
    if not files:                          # an empty one: nothing was left to undo
        return None
    return (f"removed {files} file(s) an import left in {trace_dir(data_dir)} when it was stopped "
            "before its history was saved (the history was not changed; import again)")


def discard(folder: Path) -> int:
    """Delete a staging folder and the files in it; how many files there were."""
    files = list(folder.iterdir()) if folder.is_dir() else []
    remove(files)
    with contextlib.suppress(OSError):
        folder.rmdir()
    return len(files)


def _recorded(store: Store, data_dir: str | Path) -> Staged | None:
    from firmware.traces.keeper import trace_dir  # here: firmware.traces imports history

    row = store.connection().execute("SELECT value FROM settings WHERE key = ?", (STAGED_KEY,)).fetchone()
    if row is None:
        return None
    try:
        value = json.loads(row["value"])
    except ValueError:                     # damaged: never a reason for the device not to start
        value = {}
    value = value if isinstance(value, dict) else {}
    folder, names = str(value.get("folder", "")), value.get("names", [])
    if not STAGING_RE.fullmatch(folder):   # never a folder outside traces/, nor traces/ itself
        folder, names = ".import-0", []
    names = names if isinstance(names, list) else []
    return Staged(trace_dir(data_dir) / folder, tuple(str(n) for n in names if NAME_RE.fullmatch(str(n))))
