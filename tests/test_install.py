"""hardware/install.py staged into a temp root (`--root`: files written, no command run), the tree
checked, run twice, uninstalled; and the unit file verified by `systemd-analyze verify`."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from firmware import config

ROOT = Path(__file__).resolve().parents[1]
UNIT_FILE = ROOT / "hardware" / "stretchstep.service"


def load_installer():
    spec = importlib.util.spec_from_file_location("stretchstep_install", ROOT / "hardware" / "install.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


install = load_installer()


def stage(root: Path, *args: str) -> tuple[list[list[str]], str]:
    """Install (or uninstall) into `root`: the commands it would run and what it printed."""
    lines: list[str] = []
    installer = install.Installer(root=root, echo=lines.append)
    if "--uninstall" in args:
        installer.uninstall(purge="--purge" in args)
    else:
        installer.install()
    return installer.planned, "\n".join(lines)


def test_a_staged_install_writes_the_whole_tree_and_plans_every_command(tmp_path) -> None:
    planned, out = stage(tmp_path)
    cfg = config.load(tmp_path / "etc/stretchstep/config.toml")
    assert cfg.sensor.source == "hx711" and cfg.store.data_dir == "/var/lib/stretchstep"
    assert cfg.web == config.DEFAULTS.web and cfg.cues == config.DEFAULTS.cues
    text = (tmp_path / "etc/stretchstep/config.toml").read_text()
    for section in ("sensor", "sensor2", "cues", "web", "store"):
        assert f"[{section}]" in text
    assert "# buzzer_pin = 18" in text and "# port = 8080" in text     # every key shown, commented
    assert (tmp_path / "etc/systemd/system/stretchstep.service").read_text() == UNIT_FILE.read_text()
    avahi = ET.parse(tmp_path / "etc/avahi/services/stretchstep.service").getroot()
    assert avahi.findtext("service/type") == "_http._tcp" and avahi.findtext("service/port") == "8080"
    assert (tmp_path / "var/lib/stretchstep").is_dir()
    assert (tmp_path / "opt/stretchstep/src/firmware/calibration/__init__.py").exists()
    assert (tmp_path / "opt/stretchstep/src/pyproject.toml").exists()
    assert (tmp_path / "opt/stretchstep/src/bench/pulse_width.py").exists()   # run on the Pi (§6)
    assert not list((tmp_path / "opt/stretchstep/src").rglob("__pycache__"))
    assert os.readlink(tmp_path / "usr/local/bin/stretchstep") == "/opt/stretchstep/venv/bin/stretchstep"
    commands = [" ".join(argv) for argv in planned]
    apt = next(c for c in commands if c.startswith("apt-get install"))
    assert "python3-lgpio" in apt and "swig" in apt and "liblgpio-dev" in apt and "avahi-daemon" in apt
    assert any(c.startswith("useradd --system") and c.endswith(" stretchstep") for c in commands)
    assert "usermod --append --groups gpio stretchstep" in commands
    assert "python3 -m venv --system-site-packages /opt/stretchstep/venv" in commands
    assert "/opt/stretchstep/venv/bin/pip install --upgrade /opt/stretchstep/src[pi]" in commands
    assert commands.index("systemctl daemon-reload") < commands.index("systemctl enable stretchstep") \
        < commands.index("systemctl restart stretchstep")
    assert "http://" in out and ".local:8080/" in out


def test_installing_again_keeps_the_owners_config_and_changes_only_what_follows_it(tmp_path) -> None:
    stage(tmp_path)
    path = tmp_path / "etc/stretchstep/config.toml"
    path.write_text(path.read_text().replace("# port = 8080", "port = 9000"))
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nstretchstep:x:990:990::/:/bin/false\n")
    (tmp_path / "etc/group").write_text("gpio:x:997:\n")
    planned, out = stage(tmp_path)
    assert "port = 9000" in path.read_text() and "kept /etc/stretchstep/config.toml" in out
    wrote = [line for line in out.splitlines() if line.startswith("wrote ")]
    assert wrote == ["wrote /etc/avahi/services/stretchstep.service"]      # it follows the port
    assert "<port>9000</port>" in (tmp_path / "etc/avahi/services/stretchstep.service").read_text()
    commands = [" ".join(argv) for argv in planned]
    assert not any(c.startswith(("useradd", "groupadd")) for c in commands)


def test_uninstall_keeps_history_and_config_unless_purged(tmp_path) -> None:
    stage(tmp_path)
    (tmp_path / "var/lib/stretchstep/history.sqlite").write_text("precious")
    planned, out = stage(tmp_path, "--uninstall")
    assert not (tmp_path / "etc/systemd/system/stretchstep.service").exists()
    assert not (tmp_path / "etc/avahi/services/stretchstep.service").exists()
    assert not (tmp_path / "opt/stretchstep").exists()
    assert not (tmp_path / "usr/local/bin/stretchstep").is_symlink()
    assert (tmp_path / "var/lib/stretchstep/history.sqlite").read_text() == "precious"
    assert (tmp_path / "etc/stretchstep/config.toml").exists()
    assert ["systemctl", "disable", "--now", "stretchstep"] in planned
    stage(tmp_path, "--uninstall", "--purge")
    assert not (tmp_path / "var/lib/stretchstep").exists() and not (tmp_path / "etc/stretchstep").exists()


def test_the_command_line_stages_and_a_bad_config_is_one_line(tmp_path, capsys) -> None:
    assert install.main(["--root", str(tmp_path), "--port", "8123"]) == 0
    assert config.load(tmp_path / "etc/stretchstep/config.toml").web.port == 8123
    (tmp_path / "etc/stretchstep/config.toml").write_text("[web]\nport = 'x'\n")
    assert install.main(["--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("install failed: ") and "web.port" in err and err.count("\n") == 1


def test_installed_settings_are_what_every_command_uses(tmp_path) -> None:
    from click.testing import CliRunner

    from firmware.cli import main

    stage(tmp_path)
    staged = tmp_path / "etc/stretchstep/config.toml"
    done = CliRunner().invoke(main, ["config", "--config", str(staged)])
    assert done.exit_code == 0 and "data dir: /var/lib/stretchstep" in done.output


# --- the unit ------------------------------------------------------------------------------------

def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT_FILE.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_unit_fits_the_pi() -> None:
    unit = unit_settings()
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["all"] and unit["WatchdogSec"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["ExecStart"] == [f"/opt/stretchstep/venv/bin/stretchstep run --config {install.CONFIG}"]
    assert "--source" not in unit["ExecStart"][0]                     # the source is the config's
    assert unit["WorkingDirectory"] == [install.DATA] and unit["RuntimeDirectory"] == ["stretchstep"]
    assert unit["ConfigurationDirectory"] == ["stretchstep"] and unit["StateDirectory"] == ["stretchstep"]
    assert "LG_WD=/run/stretchstep" in unit["Environment"]           # lgpio's pipes: a writable place
    assert unit["SupplementaryGroups"] == ["gpio"] and unit["User"] == [install.USER]
    for hides_gpio in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock",
                       "ProtectKernelTunables"):
        assert hides_gpio not in unit, f"{hides_gpio} would cut the service off /dev/gpiochip* or sysfs"
    assert unit["ProtectSystem"] == ["strict"] and unit["NoNewPrivileges"] == ["yes"]


def test_the_unit_lets_the_sampling_thread_have_the_scheduling_it_asks_for() -> None:
    """The sampler asks for SCHED_FIFO so a preemption cannot hold PD_SCK high past 60 us (which
    resets the HX711). The unit had RestrictRealtime=yes and no capabilities: under systemd it
    always fell back to "ordinary". CAP_SYS_NICE, and nothing else, is what it needs."""
    from firmware.service import sampler

    assert "SCHED_FIFO" in Path(sampler.__file__).read_text()
    unit = unit_settings()
    assert unit["AmbientCapabilities"] == ["CAP_SYS_NICE"]
    assert unit["CapabilityBoundingSet"] == ["CAP_SYS_NICE"]          # the only one
    assert unit.get("RestrictRealtime", ["no"]) == ["no"]


def test_type_notify_is_backed_by_code_that_notifies() -> None:
    """Type=notify with no READY=1 would time the start out; a watchdog nobody feeds kills it."""
    from firmware.service import notify, sampler, supervisor

    assert 'notify("READY=1")' in Path(supervisor.__file__).read_text()
    assert "WATCHDOG=1" in Path(notify.__file__).read_text()
    assert "Watchdog()" in Path(sampler.__file__).read_text()     # fed from the sampling loop (a child:
    assert unit_settings()["NotifyAccess"] == ["all"]              # hence NotifyAccess=all)


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing in CI: .ci/run installs systemd")
        pytest.skip("systemd-analyze is not installed here (CI installs it: .ci/run)")
    return found


def verify(unit: Path, tmp_path: Path) -> str:
    """`systemd-analyze verify` on a copy whose ExecStart points at a stand-in executable (the venv
    is not built in a staged install); everything else in the unit is checked as written."""
    fake = tmp_path / "bin" / "stretchstep"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    copy = tmp_path / "units" / "stretchstep.service"
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(unit.read_text().replace("/opt/stretchstep/venv/bin/stretchstep", str(fake)))
    done = subprocess.run([systemd_analyze(), "verify", str(copy)], capture_output=True, text=True,
                          timeout=60)
    return f"{done.returncode}:{(done.stdout + done.stderr).strip()}"


def test_systemd_analyze_verify_passes_on_the_unit(tmp_path) -> None:
    assert verify(UNIT_FILE, tmp_path) == "0:"


def test_the_verify_check_catches_a_broken_unit(tmp_path) -> None:
    broken = tmp_path / "broken.service"
    broken.write_text(UNIT_FILE.read_text().replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps"))
    assert "NoNewPrivileges" in verify(broken, tmp_path) or "perhaps" in verify(broken, tmp_path)


def test_a_hostname_is_set_and_the_hosts_file_follows(tmp_path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    lines: list[str] = []
    installer = install.Installer(root=tmp_path, hostname="stretchstep", echo=lines.append)
    installer.install()
    assert ["hostnamectl", "set-hostname", "stretchstep"] in installer.planned
    assert (tmp_path / "etc/hosts").read_text() == "127.0.0.1\tlocalhost\n127.0.1.1\tstretchstep\n"
    assert "http://stretchstep.local:8080/" in "\n".join(lines)
    with pytest.raises(install.InstallError, match="lower-case letters"):
        install.Installer(root=tmp_path, hostname="Step One", echo=lines.append).set_hostname()
