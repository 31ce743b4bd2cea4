#!/usr/bin/env python3
"""Install stretchstep on Raspberry Pi OS (Bookworm, Pi Zero 2 W and up) in one command.

    sudo python3 hardware/install.py [--hostname stretchstep] [--port 8080]
    sudo python3 hardware/install.py --uninstall [--purge]
    python3 hardware/install.py --root /tmp/stage      # staging: write the tree, run nothing

What it does, each step safe to repeat (hardware/README.md section 5 says the same):

1. apt: python3-venv, python3-lgpio (the GPIO library prebuilt: pip's lgpio would need swig and
   liblgpio-dev to compile, so the venv sees the system one), swig, liblgpio-dev and
   python3-dev (in case pip still wants to build it), avahi-daemon (the `.local` name).
2. a system user `stretchstep` in the `gpio` group;
3. the source in /opt/stretchstep/src and a venv in /opt/stretchstep/venv
   (`--system-site-packages`, for python3-lgpio) with `stretchstep[pi]` installed; the
   command linked as /usr/local/bin/stretchstep;
4. /etc/stretchstep/config.toml written from the defaults, every key shown commented (kept as
   it is when it already exists), and /var/lib/stretchstep owned by the user;
5. the systemd unit and an avahi service file (`_http._tcp` on the configured port);
6. the unit enabled and (re)started, then the addresses printed.

`--root DIR` stages everything under DIR and runs no command (no apt, useradd, pip or
systemctl); it prints what it would run. CI installs into a temp folder that way and checks
the tree. Only the standard library is used: it runs before the venv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SRC))

from firmware import config as configuration  # noqa: E402  (the source tree, before any venv)

USER = "stretchstep"
APT_PACKAGES = ["python3-venv", "python3-lgpio", "python3-dev", "swig", "liblgpio-dev", "avahi-daemon"]
PREFIX = "/opt/stretchstep"
VENV = f"{PREFIX}/venv"
SOURCE_COPY = f"{PREFIX}/src"
CONFIG = "/etc/stretchstep/config.toml"
DATA = "/var/lib/stretchstep"
UNIT = "/etc/systemd/system/stretchstep.service"
AVAHI = "/etc/avahi/services/stretchstep.service"
LINK = "/usr/local/bin/stretchstep"
# bench/ too: bench/pulse_width.py --pins real is run on the Pi itself (hardware/README.md §6)
COPIED = ["firmware", "webui", "hardware", "bench", "pyproject.toml", "README.md"]
SUPPORTED = ("bookworm", "trixie")
CONFIG_HEADER = """stretchstep settings, read by the service and by every `stretchstep` command on this Pi.
Written by hardware/install.py from the defaults: uncomment a key to change it, then
`sudo systemctl restart stretchstep`. `stretchstep config` prints what is in effect."""


class InstallError(RuntimeError):
    """A step that failed; the message says which and what to do."""


@dataclass
class Installer:
    root: Path = Path("/")
    hostname: str | None = None
    port: int | None = None
    echo: Callable[[str], None] = print
    planned: list[list[str]] = field(default_factory=list)

    @property
    def staging(self) -> bool:
        return self.root != Path("/")

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def run(self, argv: list[str], *, check: bool = True) -> int:
        """Run a command (staging: only list it). A failure with `check` is an InstallError."""
        self.planned.append(argv)
        if self.staging:
            self.echo("would run: " + " ".join(argv))
            return 0
        self.echo("$ " + " ".join(argv))
        done = subprocess.run(argv, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise InstallError(f"`{' '.join(argv)}` failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-600:]}")
        return done.returncode

    def write(self, path: str, text: str, mode: int = 0o644) -> bool:
        """Write a file unless it already says exactly this; whether it changed."""
        target = self.at(path)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(mode)
        os.replace(tmp, target)
        self.echo(f"wrote {path}")
        return True

    # --- the steps --------------------------------------------------------------------------
    def check_system(self) -> None:
        if not self.staging and os.geteuid() != 0:
            raise InstallError("run it as root: sudo python3 hardware/install.py")
        release = self.at("/etc/os-release")
        text = release.read_text(encoding="utf-8") if release.exists() else ""
        codename = next((line.split("=", 1)[1].strip('"') for line in text.splitlines()
                         if line.startswith("VERSION_CODENAME=")), "unknown")
        if codename not in SUPPORTED:
            self.echo(f"note: made for Raspberry Pi OS {' or '.join(SUPPORTED)}; this is {codename!r}")

    def packages(self) -> None:
        missing = [p for p in APT_PACKAGES if self.staging or not _dpkg_installed(p)]
        if missing:
            self.run(["apt-get", "update"])
            self.run(["apt-get", "install", "-y", "--no-install-recommends", *missing])

    def user(self) -> None:
        if not self._user_exists():
            self.run(["useradd", "--system", "--user-group", "--home-dir", DATA, "--no-create-home",
                      "--shell", "/usr/sbin/nologin", USER])
        if not self._group_exists("gpio"):
            self.run(["groupadd", "--system", "gpio"])   # Raspberry Pi OS has it; elsewhere it is inert
        self.run(["usermod", "--append", "--groups", "gpio", USER])

    def files(self) -> None:
        self._copy_source()
        for path in (PREFIX, "/etc/stretchstep", DATA):
            self.at(path).mkdir(parents=True, exist_ok=True)
        self.run(["chown", f"{USER}:{USER}", DATA])
        self.at(DATA).chmod(0o700)        # owner-only, as the firmware keeps its data dir
        if self.at(CONFIG).exists():
            self.echo(f"kept {CONFIG} as it is")
        else:
            values = {"sensor": {"source": "hx711"}, "store": {"data_dir": DATA}}
            if self.port is not None:
                values["web"] = {"port": self.port}
            self.write(CONFIG, configuration.commented_toml(values, CONFIG_HEADER))
        cfg = self.config()
        self.write(UNIT, (SRC / "hardware" / "stretchstep.service").read_text(encoding="utf-8"))
        self.write(AVAHI, avahi_service(cfg.web.port))

    def config(self) -> configuration.Config:
        try:
            return configuration.load(self.at(CONFIG))
        except configuration.ConfigError as exc:
            raise InstallError(f"{exc}; fix it (or move it away to get a fresh one) and run again") from None

    def venv(self) -> None:
        if not self.at(f"{VENV}/bin/python").exists():
            self.run(["python3", "-m", "venv", "--system-site-packages", VENV])
        self.run([f"{VENV}/bin/pip", "install", "--upgrade", f"{SOURCE_COPY}[pi]"])
        link = self.at(LINK)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink() or os.readlink(link) != f"{VENV}/bin/stretchstep":
            link.unlink(missing_ok=True)
            link.symlink_to(f"{VENV}/bin/stretchstep")
            self.echo(f"linked {LINK}")

    def set_hostname(self) -> None:
        """`--hostname NAME`: the Pi answers as NAME.local; /etc/hosts follows (as raspi-config
        does), or sudo would complain that it cannot resolve its own name."""
        name = self.hostname
        if not name:
            return
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", name):
            raise InstallError(f"--hostname {name!r}: use lower-case letters, digits and '-' (up to 63), "
                               "e.g. stretchstep")
        self.run(["hostnamectl", "set-hostname", name])
        hosts = self.at("/etc/hosts")
        lines = hosts.read_text(encoding="utf-8").splitlines() if hosts.exists() else []
        kept = [line for line in lines if not line.startswith("127.0.1.1")]
        self.write("/etc/hosts", "\n".join([*kept, f"127.0.1.1\t{name}"]) + "\n")

    def start(self) -> None:
        self.set_hostname()
        self.run(["systemctl", "daemon-reload"])
        self.run(["systemctl", "enable", "stretchstep"])
        self.run(["systemctl", "restart", "stretchstep"])
        self.run(["systemctl", "try-reload-or-restart", "avahi-daemon"], check=False)

    def announce(self) -> None:
        cfg = self.config()
        port = cfg.web.port
        name = (self.hostname or socket.gethostname()).split(".")[0] + ".local"
        done = f"staged into {self.root}" if self.staging else "installed"
        self.echo(f"\nstretchstep is {done}. Open on your phone: http://{name}:{port}/")
        for address in _addresses():
            self.echo(f"  or http://{address}:{port}/")
        if self.staging:
            return
        if _wait_for_service(port):
            self.echo(_access_code_line())
        else:
            self.echo("the service has not answered yet: journalctl -u stretchstep -f")
        self.echo("next: stretchstep doctor, then calibrate (hardware/README.md section 7)")

    def install(self) -> None:
        self.check_system()
        self.packages()
        self.user()
        self.files()
        self.venv()
        self.start()
        self.announce()

    def uninstall(self, purge: bool = False) -> None:
        """Stop and remove the service, the venv, the link, the unit and avahi file. History,
        calibration and the config stay unless `purge` (then the user goes too)."""
        self.check_system()
        self.run(["systemctl", "disable", "--now", "stretchstep"], check=False)
        for path in (UNIT, AVAHI, LINK):
            target = self.at(path)
            if target.exists() or target.is_symlink():
                target.unlink()
                self.echo(f"removed {path}")
        shutil.rmtree(self.at(PREFIX), ignore_errors=True)
        self.run(["systemctl", "daemon-reload"], check=False)
        if purge:
            for path in ("/etc/stretchstep", DATA):
                shutil.rmtree(self.at(path), ignore_errors=True)
                self.echo(f"removed {path}")
            if self._user_exists():
                self.run(["userdel", USER], check=False)
        else:
            self.echo(f"kept {CONFIG} and {DATA} (history, calibration); --purge removes them")

    # --- helpers ----------------------------------------------------------------------------
    def _copy_source(self) -> None:
        target = self.at(SOURCE_COPY)
        if target.resolve() == SRC:
            return
        target.mkdir(parents=True, exist_ok=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "*.egg-info")
        for name in COPIED:
            source = SRC / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True, ignore=ignore)
            elif source.exists():
                shutil.copy2(source, target / name)
        self.echo(f"copied the source to {SOURCE_COPY}")

    def _user_exists(self) -> bool:
        return _has_entry(self.at("/etc/passwd"), USER)

    def _group_exists(self, group: str) -> bool:
        return _has_entry(self.at("/etc/group"), group)


def avahi_service(port: int) -> str:
    """DNS-SD for avahi: browsers and apps that look for web services on the LAN find the step."""
    return ('<?xml version="1.0" standalone="no"?>\n'
            '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">\n'
            "<!-- stretchstep's dashboard, written by hardware/install.py -->\n"
            "<service-group>\n"
            '  <name replace-wildcards="yes">stretchstep on %h</name>\n'
            "  <service>\n"
            "    <type>_http._tcp</type>\n"
            f"    <port>{port}</port>\n"
            "    <txt-record>path=/</txt-record>\n"
            "  </service>\n"
            "</service-group>\n")


def _has_entry(path: Path, name: str) -> bool:
    if not path.exists():
        return False
    return any(line.split(":", 1)[0] == name for line in path.read_text(encoding="utf-8").splitlines())


def _dpkg_installed(package: str) -> bool:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    except FileNotFoundError:
        return False
    return done.returncode == 0 and done.stdout.strip().endswith("installed")


def _addresses() -> list[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=2).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [word for word in out.split() if "." in word]


def _wait_for_service(port: int, timeout_s: float = 60.0) -> bool:
    """Whether the service answers on loopback within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                json.loads(response.read())
            return True
        except (OSError, ValueError):
            time.sleep(1)
    return False


def _access_code_line() -> str:
    """The service prints a new access code once (only its hash is kept): find it in its log."""
    try:
        log = subprocess.run(["journalctl", "-u", "stretchstep", "-o", "cat", "--no-pager", "-n", "200"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        log = ""
    shown = [line for line in log.splitlines() if "access code" in line and "shown this once" in line]
    if shown:
        return shown[-1]
    return ("the access code is the one printed at the first install (only its hash is kept); "
            "lost it? sudo stretchstep access-code --reset")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install stretchstep as a service on Raspberry Pi OS.")
    parser.add_argument("--root", type=Path, default=Path("/"),
                        help="stage into this folder instead of the system; runs no command")
    parser.add_argument("--hostname", help="also set the host name (the device is then NAME.local)")
    parser.add_argument("--port", type=int, help="the dashboard's port in a new config (default 8080)")
    parser.add_argument("--uninstall", action="store_true", help="remove the service, venv and files")
    parser.add_argument("--purge", action="store_true", help="with --uninstall: also history, config, user")
    args = parser.parse_args(argv)
    installer = Installer(root=args.root, hostname=args.hostname, port=args.port)
    try:
        if args.uninstall:
            installer.uninstall(purge=args.purge)
        else:
            installer.install()
    except (InstallError, OSError) as exc:
        print(f"install failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
