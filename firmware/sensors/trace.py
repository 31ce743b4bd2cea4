"""Trace files (DESIGN §5): write, read and replay `t,kg` recordings.

    # stretchstep trace v1
    # rate_hz=80
    t,kg
    0.0000,0.012

Readers ignore `# key=value` lines and columns they do not know. A malformed line raises
`TraceError` naming the file and line, so a user can find it; nothing is guessed.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from firmware.sensors.base import Sample

MAGIC = "# stretchstep trace v1"


class TraceError(ValueError):
    """A trace file that cannot be read; the message names the file and line."""


@dataclass
class Trace:
    path: str
    meta: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    @property
    def rate_hz(self) -> float:
        return rate_from(self.meta, self.samples, self.path)


def rate_from(meta: dict[str, str], samples: list[Sample], where: str = "trace") -> float:
    """The declared `rate_hz`, or the median sample spacing when the header has none."""
    if "rate_hz" in meta:
        try:
            rate = float(meta["rate_hz"])
        except ValueError:
            raise TraceError(f"{where}: header rate_hz={meta['rate_hz']!r} is not a number") from None
        if 0 < rate <= MAX_RATE_HZ:
            return rate
        raise TraceError(f"{where}: header rate_hz={meta['rate_hz']!r} must be above 0 and at "
                         f"most {MAX_RATE_HZ:g}")
    gaps = sorted(b.t - a.t for a, b in zip(samples, samples[1:], strict=False) if b.t > a.t)
    return 1.0 / gaps[len(gaps) // 2] if gaps else 0.0


class TraceWriter:
    """Appends samples to a trace file, flushing now and then so a crash loses little."""

    def __init__(self, path: str | Path, rate_hz: float, meta: dict[str, object] | None = None):
        self.path = Path(path)
        self._fh: TextIO = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._fh.write(f"{MAGIC}\n# rate_hz={rate_hz:g}\n")
        for key, value in (meta or {}).items():
            self._fh.write(f"# {key}={value}\n")
        self._fh.write("t,kg\n")
        self._count = 0

    def write(self, sample: Sample) -> None:
        kg = "nan" if math.isnan(sample.kg) else f"{sample.kg:.4f}"
        self._fh.write(f"{sample.t:.4f},{kg}\n")
        self._count += 1
        if self._count % 800 == 0:
            self._fh.flush()

    def write_all(self, samples: Iterable[Sample]) -> int:
        for sample in samples:
            self.write(sample)
        return self._count

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MAX_LINE = 4096                    # bytes; a trace line is ~20, a header line well under 200
MAX_RATE_HZ = 1000.0               # the HX711 gives 10 or 80; anything above 1 kHz is a typo
T_LIMIT, KG_LIMIT = 1e12, 1e6      # s, kg: past these a value is a corrupt line, not a reading


def iter_trace(path: str | Path, meta: dict[str, str] | None = None) -> Iterator[Sample]:
    """Stream samples from a trace; fills `meta` (if given) from the header as it goes.

    Reads line by line with a bounded line length, so memory stays small whatever the file
    (a day-long trace, /dev/zero, a binary file): a line past MAX_LINE bytes, bytes that are not
    UTF-8, or values no step could give are a TraceError naming the line, never quoted whole."""
    where = str(path)
    meta = {} if meta is None else meta
    try:
        fh = open_binary(path)
    except OSError as exc:
        raise TraceError(f"{where}: cannot open trace: {exc.strerror}") from None
    with fh, contextlib.suppress(EOFError):  # a kept .gz trace torn by a power cut ends at the tear
        columns: tuple[int, int] | None = None
        last_t = -math.inf
        for lineno, line in enumerate(_lines(fh, where), start=1):
            if not line:
                continue
            if line.startswith("#"):
                key, sep, value = line[1:].partition("=")
                if sep:
                    meta[key.strip()] = value.strip()
                    if key.strip() == "rate_hz":
                        rate_from(meta, [], f"{where}:{lineno}")
                continue
            if columns is None:
                columns = _header_columns(line, where, lineno)
                continue
            sample = _parse_row(line, columns, where, lineno)
            if sample.t < last_t:
                raise TraceError(
                    f"{where}:{lineno}: time goes back ({sample.t} after {last_t}); "
                    "t must never decrease"
                )
            last_t = sample.t
            yield sample
        if columns is None:
            raise TraceError(f"{where}: no 't,kg' header line found; is this a stretchstep trace?")


def open_binary(path: str | Path) -> BinaryIO:
    """A trace file for reading; `.gz` (the traces a session keeps) is decompressed on the fly."""
    if str(path).endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # noqa: SIM115


def _lines(fh: BinaryIO, where: str) -> Iterator[str]:
    """Stripped text lines, each read with a bounded buffer (a .gz too: no bomb unpacks whole)."""
    lineno = 0
    while True:
        try:
            raw = fh.readline(MAX_LINE + 1)
        except (OSError, zlib.error) as exc:  # a damaged .gz (EOFError, a torn one, goes up)
            raise TraceError(f"{where}:{lineno + 1}: cannot read: {exc}") from None
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise TraceError(f"{where}:{lineno}: line is longer than {MAX_LINE} bytes; "
                             "is this a stretchstep trace?")
        try:
            yield raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise TraceError(f"{where}:{lineno}: not text (byte {exc.start + 1} of the line is not "
                             "UTF-8); is this a stretchstep trace?") from None


def _shown(line: str, limit: int = 60) -> str:
    """A line quoted in an error, cut short: enough to recognise it."""
    return repr(line if len(line) <= limit else line[:limit] + "...")


def _header_columns(line: str, where: str, lineno: int) -> tuple[int, int]:
    names = [name.strip() for name in line.split(",")]
    if "t" not in names or "kg" not in names:
        raise TraceError(
            f"{where}:{lineno}: expected a header naming columns 't' and 'kg', got {_shown(line)}"
        )
    return names.index("t"), names.index("kg")


def _parse_row(line: str, columns: tuple[int, int], where: str, lineno: int) -> Sample:
    cells = line.split(",")
    t_col, kg_col = columns
    if len(cells) <= max(t_col, kg_col):
        raise TraceError(f"{where}:{lineno}: expected at least {max(columns) + 1} columns: {_shown(line)}")
    try:
        t = float(cells[t_col])
        kg = float(cells[kg_col])
    except ValueError:
        raise TraceError(f"{where}:{lineno}: not numbers: {_shown(line)}") from None
    if not math.isfinite(t) or abs(t) > T_LIMIT:
        raise TraceError(f"{where}:{lineno}: t must be a finite number of seconds within "
                         f"±{T_LIMIT:g}: {_shown(line)}")
    if abs(kg) > KG_LIMIT and math.isfinite(kg):
        raise TraceError(f"{where}:{lineno}: kg={kg:g} is not a load a step can see "
                         f"(within ±{KG_LIMIT:g}): {_shown(line)}")
    return Sample(t, kg) if math.isfinite(kg) else Sample(t, math.nan, fault="missing")


def read_trace(path: str | Path) -> Trace:
    meta: dict[str, str] = {}
    samples = list(iter_trace(path, meta))
    return Trace(str(path), meta, samples)


class ReplaySource:
    """Replays a trace as a sample source; paced by the loop unless `fast` (as fast as it can)."""

    live = False

    def __init__(self, path: str | Path, *, fast: bool = False):
        self.path = Path(path)
        self.fast = fast
        self.meta: dict[str, str] = {}
        # Read the header now so a bad file fails at start-up, not mid-run.
        head = iter_trace(self.path, self.meta)
        first = next(head, None)
        self.rate_hz = rate_from(self.meta, [first] if first else [], str(path)) or 80.0

    def samples(self) -> Iterator[Sample]:
        yield from iter_trace(self.path)

    def close(self) -> None:
        pass
