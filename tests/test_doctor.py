"""`stretchstep doctor` with fakes for every outside fact (systemctl, timedatectl, the running
service's /api/health, the disk, the addresses): each check says what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from firmware.calibration import Calibration, save_calibration
from firmware.config import DEFAULTS
from firmware.doctor import FAIL, OK, WARN, Facts, diagnose
from firmware.running_service import RunningService

HEALTHY = {"ok": True, "state": "empty", "fault": None, "samples_seen": 1200,
           "config": {"source": "hx711", "data_dir": "/var/lib/stretchstep"}}


def facts(*, active: bool = True, synced: bool = True, avahi: bool = True, health: dict | None = HEALTHY,
          free_mb: float = 5000.0, addresses: tuple[str, ...] = ("192.0.2.7",)) -> Facts:
    answers = {("systemctl", "is-active", "stretchstep"): (0, "active") if active else (3, "inactive"),
               ("systemctl", "is-active", "avahi-daemon"): (0, "active") if avahi else (3, "inactive"),
               ("timedatectl", "show", "-p", "NTPSynchronized", "--value"): (0, "yes" if synced else "no")}
    service = RunningService("http://127.0.0.1:8080", health) if health is not None else None
    return Facts(run=lambda argv: answers[tuple(argv)], find_service=lambda cfg: service,
                 disk_free_mb=lambda path: free_mb, addresses=lambda: list(addresses),
                 name=lambda: "stretchstep.local")


def by_name(checks: list[Any]) -> dict[str, Any]:
    return {check.name: check for check in checks}


def hardware(tmp_path: Path):
    return DEFAULTS.with_values("sensor", source="hx711").with_values("store", data_dir=str(tmp_path))


def test_the_network_line_gives_the_port_the_running_service_answers_on(tmp_path) -> None:
    """Started by hand with `run --port 9000` (found through its lock): the addresses the
    doctor gives phones carry 9000, not the config's 8080."""
    moved = facts()
    service = RunningService("http://127.0.0.1:9000", HEALTHY)
    moved.find_service = lambda cfg: service
    checks = by_name(diagnose(hardware(tmp_path), moved))
    assert checks["network"].detail.startswith("http://stretchstep.local:9000/ (http://192.0.2.7:9000/)")
    assert checks["service"].detail.endswith("http://127.0.0.1:9000")


def test_a_healthy_calibrated_step_passes_every_check(tmp_path) -> None:
    save_calibration(Calibration().calibrated([21_000 * 20 + d for d in range(-50, 50)], 20.0), tmp_path)
    checks = by_name(diagnose(hardware(tmp_path), facts()))
    assert {name: c.level for name, c in checks.items()} == {
        "service": OK, "sensor": OK, "calibrated": OK, "clock": OK, "disk": OK, "network": OK}
    assert checks["network"].detail.startswith("http://stretchstep.local:8080/ (http://192.0.2.7:8080/)")
    assert all(not c.fix for c in checks.values())


def test_a_dead_step_gets_one_fix_per_problem(tmp_path) -> None:
    checks = by_name(diagnose(hardware(tmp_path), facts(active=False, health=None, synced=False, avahi=False,
                                                        free_mb=10)))
    assert checks["service"].level == FAIL and "sudo systemctl start stretchstep" in checks["service"].fix
    assert "inactive" in checks["service"].detail
    assert checks["sensor"].level == WARN and "stretchstep bringup" in checks["sensor"].fix
    assert checks["calibrated"].level == FAIL
    assert "stretchstep calibrate --known-kg" in checks["calibrated"].fix
    assert checks["clock"].level == WARN and "timedatectl set-ntp true" in checks["clock"].fix
    assert checks["disk"].level == FAIL and "10 MB free" in checks["disk"].detail
    assert checks["network"].level == WARN and "avahi-daemon" in checks["network"].fix


def test_a_sensor_fault_the_service_reports_points_at_the_wiring(tmp_path) -> None:
    faulty = {**HEALTHY, "fault": "unplugged", "state": "fault"}
    check = by_name(diagnose(hardware(tmp_path), facts(health=faulty)))["sensor"]
    assert check.level == FAIL and "'unplugged'" in check.detail and "section 8" in check.fix


def test_no_address_means_the_phone_cannot_reach_it(tmp_path) -> None:
    check = by_name(diagnose(hardware(tmp_path), facts(addresses=())))["network"]
    assert check.level == FAIL and "raspi-config" in check.fix
    loopback = hardware(tmp_path).with_values("web", host="127.0.0.1")
    check = by_name(diagnose(loopback, facts()))["network"]
    assert check.level == WARN and "listens on 127.0.0.1 only" in check.detail and "0.0.0.0" in check.fix


def test_a_simulated_device_is_not_mistaken_for_a_sensor(tmp_path) -> None:
    simulated = {**HEALTHY, "config": {"source": "simulated"}}
    checks = by_name(diagnose(DEFAULTS.with_values("store", data_dir=str(tmp_path)), facts(health=simulated)))
    assert checks["sensor"].level == WARN and "not a sensor" in checks["sensor"].detail
    assert checks["calibrated"].level == OK


def test_the_command_prints_every_check_and_fails_on_a_failure(tmp_path) -> None:
    from firmware.cli import main

    config = tmp_path / "c.toml"
    config.write_text(f"[web]\nhost = '127.0.0.1'\nport = 9\n[store]\ndata_dir = '{tmp_path}'\n"
                      "[sensor]\nsource = 'hx711'\n")
    done = CliRunner().invoke(main, ["doctor", "--config", str(config)])
    assert done.exit_code == 1                    # nothing answers on port 9: the service is down
    assert f"config: {config}; data dir: {tmp_path}" in done.output
    for name in ("service", "sensor", "calibrated", "clock", "disk", "network"):
        assert f"  {name}" in done.output
    assert "-> " in done.output


def test_closed_health_and_an_unreadable_data_dir_are_warnings_with_the_way_round(tmp_path) -> None:
    closed = {"ok": True, "time": 1.0}                     # open_reads = false: health says little
    (tmp_path / "calibration.json").mkdir()                 # reading it fails, as without sudo
    checks = by_name(diagnose(hardware(tmp_path), facts(health=closed)))
    assert checks["sensor"].level == WARN and "log in" in checks["sensor"].fix
    assert "STRETCHSTEP_ACCESS_CODE=<code> stretchstep doctor" in checks["sensor"].fix
    assert checks["calibrated"].level == WARN and "sudo stretchstep doctor" in checks["calibrated"].fix


def test_run_says_its_config_warns_while_uncalibrated_and_names_the_lan_name(tmp_path, capsys) -> None:
    from firmware.cli import _before_run
    from firmware.doctor import lan_name

    _before_run(hardware(tmp_path))
    err = capsys.readouterr().err
    assert f"data dir: {tmp_path}" in err
    assert "WARNING: the step is not calibrated (hx711" in err
    assert f"http://{lan_name()}:8080/" in err
    save_calibration(Calibration().calibrated([21_000 * 20 + d for d in range(-50, 50)], 20.0), tmp_path)
    _before_run(hardware(tmp_path))
    assert "not calibrated" not in capsys.readouterr().err


def test_the_calibration_checked_is_that_of_the_source_the_service_runs(tmp_path) -> None:
    """A service started by hand with `run --source hx711` while the config names no sensor: the
    doctor, reading the config, said "nothing to calibrate" about a service reading a cell."""
    cfg = DEFAULTS.with_values("store", data_dir=str(tmp_path))              # source: simulated
    checks = by_name(diagnose(cfg, facts()))                                 # the service: hx711
    assert checks["calibrated"].level == FAIL and "not calibrated" in checks["calibrated"].detail
    assert by_name(diagnose(cfg, facts(health=None)))["calibrated"].level == OK   # none running


def test_a_service_holding_the_history_on_another_port_is_named_with_the_way_to_ask_it(tmp_path) -> None:
    """`run --port 9000` by hand: nothing answers on the config's port, but the data dir's lock
    (a real one, held here) says a stretchstep runs: doctor says so, not "start it"."""
    import os

    from firmware.datalock import DataDirLock

    cfg = hardware(tmp_path)
    with DataDirLock(cfg.history_dir()):
        gone = facts(active=False, health=None)
        gone.holder = Facts().holder          # the real lock check
        check = by_name(diagnose(cfg, gone))["service"]
    assert check.level == FAIL and f"pid {os.getpid()}" in check.detail and "port 8080" in check.detail
    assert "stretchstep doctor --port N" in check.fix and "systemctl start" not in check.fix
    check = by_name(diagnose(cfg, facts(active=False, health=None)))["service"]   # the lock is free
    assert "sudo systemctl start stretchstep" in check.fix


def test_doctor_asks_the_port_it_is_given(tmp_path) -> None:
    from firmware.cli import main

    config = tmp_path / "stretchstep.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    done = CliRunner().invoke(main, ["doctor", "--config", str(config), "--port", "9123"])
    assert "nothing answers on port 9123" in done.output and done.exit_code == 1
    bad = CliRunner().invoke(main, ["doctor", "--config", str(config), "--port", "0"])
    assert bad.exit_code == 2 and "--port" in bad.output and "Traceback" not in bad.output
