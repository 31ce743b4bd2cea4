"""One process per data dir: an `fcntl.flock` on a lock file that names its holder's pid (and,
once its web server is up, the address it answers at on this machine).

Two instances writing one history would interleave sessions and fight over the routine, so the
second one refuses to start and says which process holds the dir. The kernel drops the lock when
the holder dies (even by SIGKILL or a power cut), so a stale lock file never blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

LOCK_NAME = "stretchstep.lock"


ATTEMPTS, PAUSE_S = 5, 0.05


def _flock_soon(fd: int) -> None:
    """The exclusive lock, tried a few times: `holder()` in a command takes a shared lock for an
    instant, which must not make a starting service think the dir is in use. OSError if held."""
    for attempt in range(ATTEMPTS):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(PAUSE_S)


class DataDirLocked(RuntimeError):
    """Another process holds the data dir; the message names it."""


class DataDirLock:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _flock_soon(fd)
        except OSError:
            held = os.pread(fd, 512, 0).decode("ascii", "replace").split() or ["unknown"]
            os.close(fd)
            where = f", answering at {held[1]}" if len(held) > 1 else ""
            raise DataDirLocked(f"{self.folder} is in use by another stretchstep (pid {held[0]}{where}); "
                                "stop that one first, or give this one another --data-dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def note_address(self, url: str | None) -> None:
        """Say where the holder answers (a second line under the pid): a service started with
        `run --port N` is then found by `doctor`, `tare` and `calibrate` without being told N."""
        if self._fd is not None and url:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n{url}\n".encode("ascii", "replace"), 0)

    def holder(self) -> str | None:
        """The pid holding the dir right now, or None: for commands that must not work behind a
        running service's back."""
        held = self._held_lines()
        return None if held is None else (held[0] if held else "unknown")

    def address(self) -> str | None:
        """The address the holder noted (`note_address`), or None if the dir is free or it noted none."""
        held = self._held_lines()
        return held[1] if held is not None and len(held) > 1 else None

    def _held_lines(self) -> list[str] | None:
        """The lock file's lines while another process holds it, else None. Tried with a shared
        lock for an instant, which writes nothing."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return os.pread(fd, 512, 0).decode("ascii", "replace").split()
        finally:
            os.close(fd)          # closing drops the shared lock, if it was taken
        return None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
