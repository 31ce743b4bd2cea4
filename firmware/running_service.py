"""Talking to a stretchstep that is already running on this machine, through its own API.

While `stretchstep run` (or the installed service) holds the HX711's pins, a second process
reading them would garble both; `stretchstep tare` / `calibrate` hand the job to the running
one instead. It is found on loopback at the configured port (`/api/health`), or where the holder of the
data dir's lock says it answers (firmware.datalock), and it is the same
device only if it keeps its data in the same data dir. Writes carry the access code from the
config or the data dir's `access_code` file, as the page's would.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from firmware.config import Config

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


class ServiceCallError(RuntimeError):
    """The running service answered with a refusal or could not be asked; the message says which."""


@dataclass(frozen=True)
class RunningService:
    base_url: str
    health: dict[str, Any]

    @property
    def data_dir(self) -> str | None:
        return (self.health.get("config") or {}).get("data_dir")

    @property
    def closed(self) -> bool:
        """Its reads are closed (`open_reads = false`) and we gave no code it took: its health
        said only whether it is ok, not what it runs nor where it keeps its data."""
        return "control" not in self.health


def local_url(cfg: Config) -> str | None:
    """Where this machine's service answers for itself: loopback for a wildcard bind; None for port 0."""
    if not cfg.web.port:
        return None
    host = "127.0.0.1" if cfg.web.host in WILDCARD_HOSTS else cfg.web.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{cfg.web.port}"


def find_running(cfg: Config, timeout_s: float = 1.5, *, code: str | None = None) -> RunningService | None:
    """The stretchstep answering at the configured address, else at the address the one holding
    this config's data dir noted in its lock (`run --port N` by hand); None if neither answers.

    The access code (`code`, else the config's) goes with the request: with closed reads the
    service tells only a caller with the code what it runs (see `RunningService.closed`)."""
    from firmware.datalock import DataDirLock

    code = code or read_access_code(cfg)
    configured = local_url(cfg)
    service = _ask_health(configured, code, timeout_s) if configured else None
    if service is None:
        noted = DataDirLock(cfg.history_dir()).address()
        if noted and noted != configured:
            service = _ask_health(noted, code, timeout_s)
    return service


def _ask_health(url: str, code: str | None, timeout_s: float) -> RunningService | None:
    """The stretchstep at `url` with its health, or None if nothing (or something else) answers."""
    request = urllib.request.Request(url + "/api/health", headers={"X-Access-Code": code} if code else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            health = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(health, dict) or "ok" not in health:
        return None         # something else listens on that port
    return RunningService(url, health)


def read_access_code(cfg: Config) -> str | None:
    """The code writes need, if this machine knows it: the config's, else $STRETCHSTEP_ACCESS_CODE.

    The data dir keeps only a hash of the code (firmware.access), so otherwise the person is
    asked for it (it is printed when the service first starts)."""
    return cfg.web.access_code or os.environ.get("STRETCHSTEP_ACCESS_CODE") or None


def call(service: RunningService, path: str, body: dict[str, Any], code: str,
         timeout_s: float = 15.0) -> dict[str, Any]:
    """POST to the service's API; its JSON answer, or ServiceCallError with its error message."""
    request = urllib.request.Request(
        service.base_url + path, data=json.dumps(body).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "X-Access-Code": code})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8")).get("error") or exc.reason
        except (ValueError, AttributeError):
            message = exc.reason
        if exc.code in (401, 403):
            message = f"{message} (the access code from the config or the data dir was not accepted)"
        raise ServiceCallError(str(message)) from None
    except (OSError, ValueError) as exc:
        raise ServiceCallError(f"the running service at {service.base_url} did not answer: {exc}") from None
