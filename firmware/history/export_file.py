"""Reading a JSON export file without holding its kept traces.

Why not `json.load`: with every day's trace kept, a year's export is some 400 MB, nearly all of it
the traces' base64; `json.load` holds the file's text and the parsed strings at once, twice the
file (847 MB at the import's peak, `python bench/export_size.py --keep-days 365`), where a Pi Zero
2 W has 512 MB. So the top-level object is read key by key, a chunk of the file at a time: every
value but "traces" is parsed whole, as `json` would (the tables are tens of MB for a year), and
"traces" is only stepped over (each item parsed and dropped, so the whole file's syntax is
checked before anything is written), its place in the file kept; `KeptItems` reads the items
again from there, one at a time, each time the import goes through them.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1 << 20
DECODER = json.JSONDecoder()
SPACE = re.compile(r"[ \t\n\r]*")
CSV_HEADER = "type,id,day,"    # export.CSV_COLUMNS: what `export` writes without --format json
CUT_SHORT = ": the file stops before the JSON does, it was cut short (a copy that did not finish?)"


class ExportUnreadable(ValueError):
    """The file is not JSON (the message says where), or it changed while it was read."""


class _Text:
    """A UTF-8 file read forward a chunk at a time, as text, knowing where each character lies."""

    def __init__(self, fh: BinaryIO, start: int = 0) -> None:
        fh.seek(start)
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._base = start          # the byte offset of buf[0]
        self.buf = ""
        self.pos = 0
        self.eof = False

    def offset(self, pos: int | None = None) -> int:
        """The byte offset of buf[pos] (default: the current position) in the file."""
        pos = self.pos if pos is None else pos
        return self._base + (pos if self.buf.isascii() else len(self.buf[:pos].encode("utf-8")))

    def _more(self, size: int = CHUNK) -> bool:
        """Drop what was read, append `size` more bytes; False at the end of the file."""
        if self.eof:
            return False
        raw = self._fh.read(size)
        self.eof = not raw
        self._base = self.offset()
        try:
            self.buf = self.buf[self.pos:] + self._decoder.decode(raw, final=self.eof)
        except UnicodeDecodeError:
            raise ExportUnreadable(f"not UTF-8 text (near byte {self._base + len(self.buf)})") from None
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.pos = SPACE.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def take(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            found = repr(char) if char else f"the end of the file{CUT_SHORT}"
            raise ExportUnreadable(f"expected {' or '.join(map(repr, allowed))} at byte {self.offset()}, "
                                   f"found {found}")
        self.pos += 1
        return char

    def value(self) -> Any:
        """The next JSON value, reading on until it is whole."""
        self.peek()
        size = CHUNK
        while True:
            try:
                value, end = DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated") or exc.pos >= len(self.buf) - 8
                if cut and self._more(size):        # perhaps only cut short by the chunk: read on
                    size *= 2
                    continue
                what = f"{exc.msg.removesuffix(' at')} at byte {self.offset(exc.pos)}"
                ends = exc.msg.startswith("Unterminated") or exc.pos >= len(self.buf.rstrip())
                raise ExportUnreadable(f"{what}{CUT_SHORT if ends else ''}") from None
            if end < len(self.buf) or not self._more():   # a number at the end may go on
                self.pos = end
                return value


def read_export(path: str | Path) -> Any:
    """The export in `path` as `json.load` would give it, but with "traces" (when it is a list)
    as `KeptItems`. A file that does not hold an object is parsed whole (it is no export)."""
    with open(path, "rb") as fh:
        text = _Text(fh)
        first = text.peek()
        if not first:
            raise ExportUnreadable("the file is empty")
        if text.buf.startswith(CSV_HEADER):
            raise ExportUnreadable("this is the CSV export; import reads the JSON one "
                                   "(stretchstep export --format json)")
        data = _object(text, path) if first == "{" else text.value()
        if text.peek():
            raise ExportUnreadable(f"extra data after the JSON at byte {text.offset()}")
    return data


def _object(text: _Text, path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = {}
    text.take("{")
    if text.peek() == "}":
        text.pos += 1
        return data
    while True:
        if text.peek() != '"':
            text.take('"')
        key = text.value()
        text.take(":")
        if key == "traces" and text.peek() == "[":
            data[key] = KeptItems(path, text.offset(), sum(1 for _ in _items(text)))
        else:
            data[key] = text.value()
        if text.take(",}") == "}":
            return data


def _items(text: _Text) -> Iterator[Any]:
    """The items of the list that starts at the current position, one at a time."""
    text.take("[")
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        yield text.value()
        if text.take(",]") == "]":
            return


class KeptItems:
    """The "traces" list of an export file, read from the file again each time it is gone through
    (one item alive at a time). The file must not change meanwhile; if it does, that is said."""

    def __init__(self, path: str | Path, offset: int, count: int) -> None:
        self.path = Path(path)
        self.offset = offset
        self.count = count
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_size, st.st_mtime_ns

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        try:
            same = self._stat() == self._stamp
        except OSError:
            same = False
        if not same:
            raise ExportUnreadable(f"{self.path} changed while it was imported")
        with open(self.path, "rb") as fh:
            yield from _items(_Text(fh, self.offset))
