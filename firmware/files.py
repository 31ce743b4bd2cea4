"""Writing files safely: owner-only where they are private, and atomically always.

Why 0600 / 0700 for the data dir (history, calibration, the access code's hash): it holds pain
notes, and on a shared Pi other accounts have no business reading them. Why write-then-rename
with fsync: a power cut mid-write must leave the old file or the new one, never half of one,
and an output never replaces its own input before that input was read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

FILE_MODE = 0o600
PUBLIC_MODE = 0o644
DIR_MODE = 0o700


def private_dir(path: str | Path) -> Path:
    """Create the folder (and parents) if needed; a folder we create is owner-only."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        path.chmod(DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def create_private(path: str | Path) -> None:
    """Make an empty owner-only file if there is none (sqlite then keeps its mode for -wal/-shm)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)


def write_atomic(path: str | Path, text: str | bytes | Iterable[str], *, mode: int = FILE_MODE) -> Path:
    """Replace `path` with `text` atomically (temp file, fsync, rename, fsync of the folder);
    owner-only unless `mode` says otherwise. `text` may come in pieces (a streamed export), or
    be bytes (a restored gzip trace)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        raw = isinstance(text, bytes)
        with (os.fdopen(fd, "wb") if raw else os.fdopen(fd, "w", encoding="utf-8", newline="\n")) as fh:
            for piece in (text,) if isinstance(text, str | bytes) else text:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return path


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one existing file (an output must never be its own input)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def fsync_dir(folder: Path) -> None:
    """Put a folder's renames on disk (a power cut must not undo a move the history relies on)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
