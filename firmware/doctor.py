"""`stretchstep doctor`: the checks a person makes when the step seems dead, each with what to do.

Service running, sensor answering, calibrated, clock synced, disk space, address and `.local`
name. Nothing here touches the pins while the service runs (its own `/api/health` says how the
sensor is); every outside fact (systemctl, timedatectl, the service's answer, the disk, the
host name) comes through `Facts`, so tests give fakes and a Pi gives the real ones.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from firmware.config import Config, ConfigError

OK, WARN, FAIL = "ok", "warn", "FAIL"
LOW_DISK_MB, FULL_DISK_MB = 200, 20
UNIT = "stretchstep"


@dataclass(frozen=True)
class Check:
    name: str
    level: str           # OK, WARN or FAIL
    detail: str
    fix: str = ""        # what to do; empty when nothing needs doing

    def line(self) -> str:
        text = f"{self.level:<4}  {self.name:<10} {self.detail}"
        return text + (f"\n      {'':<10} -> {self.fix}" if self.fix else "")


def lan_name() -> str:
    """The name mDNS (avahi) answers for on the LAN: this host's name + .local."""
    return socket.gethostname().split(".")[0] + ".local"


def _run(argv: list[str]) -> tuple[int, str]:
    """A command's exit status and output; 127 when it is not installed."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=5)
    except FileNotFoundError:
        return 127, ""
    except (OSError, subprocess.SubprocessError) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def _addresses() -> list[str]:
    from firmware.service import lan_addresses

    return lan_addresses()


@dataclass
class Facts:
    """Where the doctor learns things; each is a function so tests can replace it."""

    run: Callable[[list[str]], tuple[int, str]] = _run
    find_service: Callable[[Config], Any] = field(default=None)  # type: ignore[assignment]
    disk_free_mb: Callable[[Path], float] = lambda p: shutil.disk_usage(p).free / 1e6
    addresses: Callable[[], list[str]] = _addresses
    name: Callable[[], str] = lan_name
    holder: Callable[[Config], str | None] = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.find_service is None:
            from firmware.running_service import find_running

            self.find_service = find_running
        if self.holder is None:
            self.holder = _data_dir_holder


def _data_dir_holder(cfg: Config) -> str | None:
    """The pid of the stretchstep holding this config's history, or None."""
    from firmware.datalock import DataDirLock

    return DataDirLock(cfg.history_dir()).holder()


def check_service(cfg: Config, facts: Facts) -> tuple[Check, Any]:
    rc, out = facts.run(["systemctl", "is-active", UNIT])
    service = facts.find_service(cfg)
    if service is not None:
        how = "the systemd service" if rc == 0 else "a stretchstep (not the systemd unit)"
        return Check("service", OK, f"{how} answers at {service.base_url}"), service
    holder = facts.holder(cfg)
    if holder is not None:   # running, but not where the config says: `run --port` by hand?
        return Check("service", FAIL, f"a stretchstep (pid {holder}) holds the history in "
                                      f"{cfg.history_dir()}, but nothing answers on port {cfg.web.port}",
                     "if it was started with --port N, ask there: stretchstep doctor --port N; "
                     f"if it is stuck: kill {holder} and start it again"), None
    if rc == 127:
        return Check("service", FAIL, f"nothing answers on port {cfg.web.port}",
                     "start it: stretchstep run (or install the service: hardware/README.md section 5)"), None
    first = out.splitlines()[0] if out else "inactive"
    state = first if len(first.split()) == 1 else f"unknown ({first})"   # e.g. no systemd in a container
    return Check("service", FAIL, f"systemd unit {UNIT} is {state}; nothing answers on port {cfg.web.port}",
                 f"sudo systemctl start {UNIT}; if it stops again: journalctl -u {UNIT} -n 50"), None


def check_sensor(cfg: Config, service: Any) -> Check:
    if service is None:
        return Check("sensor", WARN, "cannot ask: the service is not running",
                     "with the service stopped, `stretchstep bringup` reads the chip directly")
    health = service.health
    if "samples_seen" not in health:
        return Check("sensor", WARN, "the service shows its health only with the access code "
                     "(open_reads = false)", "STRETCHSTEP_ACCESS_CODE=<code> stretchstep doctor (the code "
                     "goes with the request), or open the dashboard and log in, or look at its log")
    source = (health.get("config") or {}).get("source", cfg.sensor.source)
    fault = health.get("fault")
    if fault:
        return Check("sensor", FAIL, f"{source}: sensor fault '{fault}'",
                     "hardware/README.md section 8 says what each fault means and which wire to check")
    if not health.get("samples_seen"):
        return Check("sensor", FAIL, f"{source}: no samples yet",
                     f"journalctl -u {UNIT} -n 50 shows why the sampling loop does not run")
    kind = "a simulated person, not a sensor" if source.startswith(("simulated", "replay")) else "answering"
    level = WARN if "simulated" in kind else OK
    fix = "set [sensor] source = \"hx711\" in the config" if level == WARN else ""
    return Check("sensor", level, f"{source}: {kind}, state {health.get('state')!r}", fix)


def check_calibrated(cfg: Config) -> Check:
    from firmware.calibration import cell_names, uncalibrated_warning

    if not cell_names(cfg):
        return Check("calibrated", OK, f"nothing to calibrate for source {cfg.sensor.source!r}")
    warning = uncalibrated_warning(cfg)
    if warning and warning.startswith("calibration unreadable"):
        return Check("calibrated", WARN, warning, "the data dir is the service's: sudo stretchstep doctor")
    if warning:
        return Check("calibrated", FAIL, warning.removeprefix("WARNING: "),
                     "stretchstep tare, then stretchstep calibrate --known-kg KG (hardware/README.md §7)")
    return Check("calibrated", OK, f"calibration saved in {cfg.data_dir()}")


def check_clock(facts: Facts) -> Check:
    rc, out = facts.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    if rc == 127:
        return Check("clock", WARN, "timedatectl not found: cannot tell whether the clock is synced")
    if rc == 0 and out.strip() == "yes":
        return Check("clock", OK, "synchronized (NTP)")
    return Check("clock", WARN, "not synchronized: history dates and streaks may be wrong",
                 "connect the Pi to the network; sudo timedatectl set-ntp true")


def check_disk(cfg: Config, facts: Facts) -> Check:
    where = cfg.data_dir()
    probe = next((p for p in (where, *where.parents) if p.exists()), Path("/"))
    try:
        free = facts.disk_free_mb(probe)
    except OSError as exc:
        return Check("disk", FAIL, f"cannot read free space at {probe}: {exc.strerror}")
    if free < FULL_DISK_MB:
        return Check("disk", FAIL, f"{free:.0f} MB free at {probe}: history cannot be written",
                     "free space: sudo apt clean; sudo journalctl --vacuum-size=50M")
    if free < LOW_DISK_MB:
        return Check("disk", WARN, f"{free:.0f} MB free at {probe}", "free some space soon (sudo apt clean)")
    return Check("disk", OK, f"{free:.0f} MB free at {probe}")


def check_network(cfg: Config, facts: Facts) -> Check:
    port = cfg.web.port
    if cfg.web.host not in ("0.0.0.0", "::", ""):
        return Check("network", WARN, f"the dashboard listens on {cfg.web.host} only: phones on the "
                     "LAN cannot reach it", 'set [web] host = "0.0.0.0" in the config and restart')
    addresses = facts.addresses()
    name = facts.name()
    if not addresses:
        return Check("network", FAIL, "no LAN address: the phone cannot reach the step",
                     "connect to Wi-Fi: sudo raspi-config (System Options > Wireless LAN), or nmtui")
    rc, _ = facts.run(["systemctl", "is-active", "avahi-daemon"])
    urls = ", ".join(f"http://{a}:{port}/" for a in addresses)
    if rc != 0:
        return Check("network", WARN, f"{urls}; the name {name} is not announced (avahi-daemon not running)",
                     "sudo apt install avahi-daemon && sudo systemctl enable --now avahi-daemon")
    return Check("network", OK, f"http://{name}:{port}/ ({urls})")


def _as_running(cfg: Config, service: Any) -> Config:
    """The config with the source and port the running service reports (`run --source` or
    `--port` given by hand): its calibration is the one to check, its port the one phones use."""
    if service is None:
        return cfg
    source = (service.health.get("config") or {}).get("source")
    try:
        port = urlsplit(service.base_url).port
        if port and port != cfg.web.port:
            cfg = cfg.with_values("web", port=port)
        if source and source != cfg.sensor.source:
            cfg = cfg.with_values("sensor", source=source)
    except (ConfigError, ValueError):
        pass
    return cfg


def diagnose(cfg: Config, facts: Facts | None = None) -> list[Check]:
    facts = facts or Facts()
    service_check, service = check_service(cfg, facts)
    running = _as_running(cfg, service)
    return [service_check, check_sensor(cfg, service), check_calibrated(running), check_clock(facts),
            check_disk(cfg, facts), check_network(running, facts)]
