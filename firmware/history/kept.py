"""The kept force traces in a JSON export (format 3): listed, streamed out, checked on the way back
(`staged.py` writes them back).

Why the trace files go in whole, as base64 of their gzip bytes, and not as rows of samples: a
day on the step is some 10^5 samples; as JSON numbers a year of them would be gigabytes to write
and, worse, one Python float each to read back on a Pi. As gzip they are about 5 bytes a sample,
one string per file, and `import` restores the very file the plot and `reanalyze` read. The
export is streamed (`export.json_chunks`): the database part is built in memory (tens of MB for a year
at most), each trace file is read and encoded 48 KiB at a time, so neither the web process nor
`stretchstep export` ever holds a whole trace.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from firmware.history.days import DAY_RE

CHUNK = 3 * 16 * 1024          # a multiple of 3: each chunk's base64 joins the next's with no padding
GZIP_MAGIC = b"\x1f\x8b"


class TraceRefused(ValueError):
    """A trace in an export cannot be restored (the message names it)."""


@dataclass(frozen=True)
class KeptTrace:
    session_id: int
    day: str
    path: Path


def kept_traces(data_dir: str | Path | None, session_ids: Iterable[int],
                since_day: date | None = None) -> list[KeptTrace]:
    """The kept trace files of these sessions, from `since_day` on (None: all), oldest first."""
    if data_dir is None:
        return []
    # here, not at the top: firmware.traces imports firmware.history
    from firmware.traces.keeper import session_traces, trace_day

    found = []
    for sid in sorted(set(session_ids)):
        for path in session_traces(data_dir, sid):
            day = trace_day(path)
            if since_day is None or day >= since_day.isoformat():
                found.append(KeptTrace(sid, day, path))
    return found


def trace_json(trace: KeptTrace) -> Iterator[str]:
    """One trace as a JSON object, piece by piece; nothing when the file went (pruned meanwhile)."""
    try:
        size = trace.path.stat().st_size   # a file still being appended: what is there now
        fh = trace.path.open("rb")
    except OSError:
        return
    with fh:
        meta = json.dumps({"session_id": trace.session_id, "day": trace.day, "size": size})
        yield f"{meta[:-1]}, \"gzip_base64\": \""
        left = size
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield base64.b64encode(chunk).decode("ascii")
        yield "\"}"


def remove(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def decoded(n: int, item: Any, session_ids: set[int]) -> tuple[int, str, bytes]:
    where = f"traces[{n}]"
    if not isinstance(item, dict):
        raise TraceRefused(f"{where} must be an object")
    sid, day, text = item.get("session_id"), item.get("day"), item.get("gzip_base64")
    if isinstance(sid, bool) or not isinstance(sid, int):
        raise TraceRefused(f"{where}: session_id must be a number (a session's id), got {sid!r}")
    if sid not in session_ids:
        raise TraceRefused(f"{where} is for session {sid}, which the export does not hold")
    if not isinstance(day, str) or not DAY_RE.match(day) or not _is_date(day):
        raise TraceRefused(f"{where}: day must be YYYY-MM-DD (a real date), got {day!r}")
    try:
        blob = base64.b64decode(text if isinstance(text, str) else "", validate=True)
    except (binascii.Error, ValueError):
        raise TraceRefused(f"{where}: gzip_base64 is not base64") from None
    if not blob.startswith(GZIP_MAGIC):
        raise TraceRefused(f"{where}: gzip_base64 does not hold a gzip file")
    size = item.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != len(blob):
        raise TraceRefused(f"{where} holds {len(blob)} bytes where the export says {size}: it was cut short")
    return sid, day, blob


def _is_date(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True
