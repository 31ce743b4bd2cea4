"""systemd's notify protocol, written out (no libsystemd): READY=1, WATCHDOG=1, STOPPING=1.

A datagram to the unix socket named by `$NOTIFY_SOCKET` (a leading "@" is the abstract
namespace). Outside systemd the variable is unset and every call is a cheap no-op. The sampler
feeds the watchdog from its loop, so a hung loop stops the pings and systemd restarts the
service; as the sampler is not the unit's main process the unit needs `NotifyAccess=all`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification; False when not under systemd or the socket is gone (never raises)."""
    path = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not path:
        return False
    if path.startswith("@"):
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(path)
            sock.sendall(message.encode("utf-8"))
        return True
    except OSError:
        return False


class Watchdog:
    """`feed()` sends WATCHDOG=1 at most every half `$WATCHDOG_USEC`; a no-op when that is unset.

    Cheap enough to call on every sample: one clock read and a comparison."""

    def __init__(self, env: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._env = dict(os.environ if env is None else env)
        usec = self._env.get("WATCHDOG_USEC", "")
        self.interval_s = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None
        self._clock = clock
        self._next = 0.0
        self.fed = 0

    def feed(self) -> None:
        if self.interval_s is None:
            return
        now = self._clock()
        if now >= self._next:
            self._next = now + self.interval_s
            if notify("WATCHDOG=1", self._env):
                self.fed += 1

    # a Device sink: fed by every sample the loop processes
    def on_sample(self, t: float, kg: float, status: dict) -> None:
        self.feed()

    def on_event(self, event: object, status: dict) -> None:
        """Events need no ping of their own."""
