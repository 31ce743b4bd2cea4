"""The service's runtime folder: the sampler's socket, and the routine's scratch day while the
history cannot be written.

Why a fixed name per history instead of a fresh `mkdtemp`: a supervisor killed with -9 cannot
remove its folder, and fresh names would pile up in /tmp for ever. One name per history dir,
claimed only while that history's lock is held, means the next start finds the leftover and
clears it (and a sampler that outlives its supervisor removes it on the way out). Why
`$RUNTIME_DIRECTORY` first: under the systemd unit (`RuntimeDirectory=`) it is
/run/stretchstep, a tmpfs systemd empties on stop; `$XDG_RUNTIME_DIR` is the per-login
equivalent; /tmp only when neither is set.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

PREFIX = "stretchstep-"


# A unix socket's path must fit in 108 bytes: "<base>/stretchstep-<12 hex>/sampler.sock" does
# when the base does.
MAX_BASE_LEN = 80


def runtime_base() -> Path:
    """Where runtime folders go: systemd's RuntimeDirectory, the login's runtime dir, or /tmp
    (also when the others are too long a path for the socket)."""
    for name in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        # systemd joins several RuntimeDirectory= entries with ':'; the first is ours
        value = os.environ.get(name, "").split(":")[0]
        usable = value and len(value) <= MAX_BASE_LEN and Path(value).is_dir()
        if usable and os.access(value, os.W_OK | os.X_OK):
            return Path(value)
    return Path(tempfile.gettempdir())


def runtime_name(history_dir: Path) -> str:
    """One name per history dir: several devices (tests, the fleet bench) share one base."""
    digest = hashlib.sha256(str(Path(history_dir).resolve()).encode()).hexdigest()[:12]
    return f"{PREFIX}{digest}"


def claim_runtime_dir(history_dir: Path) -> Path:
    """A fresh owner-only folder for this history's run; call with the history's lock held.

    A folder of ours left by a killed run is removed first. One that is not ours (another user
    made it first in a shared /tmp) is never touched: we fall back to a random name."""
    base = runtime_base()
    path = base / runtime_name(history_dir)
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
        shutil.rmtree(path)
    path.mkdir(mode=0o700)
    return path


def identity(path: Path) -> tuple[int, int]:
    """Which folder this is (device, inode): a name claimed again is another folder."""
    info = path.stat()
    return info.st_dev, info.st_ino


def remove_orphaned(path: Path, claimed: tuple[int, int]) -> None:
    """Remove a runtime folder whose supervisor died without doing so (kill -9): called by the
    sampler, the last one out. Never one a new supervisor has claimed since under the same name
    (systemd restarts the service within seconds): that one is another folder."""
    try:
        if identity(path) == claimed:
            shutil.rmtree(path)
    except OSError:
        pass          # gone already, or not ours to remove: the next start clears it
