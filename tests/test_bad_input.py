"""Issue 11's table of user mistakes, each through the command as typed: one clear line on
stderr, exit status 2, no traceback, and nothing the user had is lost or overwritten."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

from firmware.cli import main
from firmware.sensors.trace import TraceWriter, read_trace

GOOD = "# stretchstep trace v1\n# rate_hz=10\nt,kg\n" + "".join(f"{i / 10:.1f},{i % 7}\n" for i in range(50))


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("STRETCHSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args])

    return invoke


def user_error(result, *needles: str) -> str:
    """The run ended as a user's mistake: status 2, one line naming the problem, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def write(path, content: bytes | str):
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("content, needle", [
    (bytes(range(255, -1, -1)) * 8, "bad.csv:1: not text (byte 1"),
    (b"# stretchstep trace v1\nt,kg\n0.0,1\n\xff\xfe,2\n", "bad.csv:4: not text"),
    (b"# stretchstep trace v1\n# rate_hz=1e9\nt,kg\n0,1\n", "rate_hz='1e9' must be above 0 and at most 1000"),
    (b"# rate_hz=nan\nt,kg\n0,1\n", "rate_hz='nan'"),
    (b"t,kg\n0.0,1e308\n0.1,-1e308\n", "bad.csv:2: kg=1e+308 is not a load"),
    (b"t,kg\n1e308,1\n", "bad.csv:2: t must be a finite number"),
    (b"t,kg\n0,1\n" + b"7" * 10_000_000 + b"\n", "bad.csv:3: line is longer than 4096 bytes"),
    (b"\x00" * 100_000, "bad.csv:1: line is longer than"),
])
@pytest.mark.parametrize("command", ["analyze", "plot"])
def test_bad_traces_are_one_line_naming_file_and_line(cli, tmp_path, content, needle, command):
    path = write(tmp_path / "bad.csv", content)
    line = user_error(cli(command, path), needle)
    assert len(line) < 300                      # a 10 MB line is never quoted whole
    assert not (tmp_path / "bad.svg").exists()


def test_analyze_dev_zero_stops_at_once_with_a_clear_line(cli):
    user_error(cli("analyze", "/dev/zero"), "/dev/zero:1: line is longer than 4096 bytes")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "19", "1e9"])
def test_body_kg_must_be_a_finite_number_in_range(cli, tmp_path, value):
    path = write(tmp_path / "t.csv", GOOD)
    user_error(cli("analyze", "--body-kg", value, path), "--body-kg")


def test_out_in_a_missing_folder(cli, tmp_path):
    path = write(tmp_path / "t.csv", GOOD)
    user_error(cli("plot", "-o", tmp_path / "nowhere" / "t.svg", path), "folder", "does not exist")
    user_error(cli("record", "--seconds", 1, tmp_path / "nowhere" / "t.csv"), "does not exist")


def test_record_onto_the_replayed_trace_is_refused_and_the_trace_kept(cli, tmp_path):
    path = write(tmp_path / "x.csv", GOOD)
    before = path.read_bytes()
    user_error(cli("record", "--source", f"replay:{path}", "--seconds", 1, path),
               "is the trace being replayed")
    assert path.read_bytes() == before


def test_record_writes_through_a_temporary_file(cli, tmp_path):
    src = write(tmp_path / "x.csv", GOOD)
    out = tmp_path / "y.csv"
    out.write_text("older recording\n")
    result = cli("record", "--source", f"replay:{src}", "--seconds", 2, out)
    assert result.exit_code == 0, result.output
    assert len(read_trace(out).samples) == 20
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_plot_of_a_trace_named_svg_does_not_overwrite_it(cli, tmp_path):
    path = write(tmp_path / "session.svg", GOOD)
    result = cli("plot", path)
    assert result.exit_code == 0, result.output
    assert path.read_text() == GOOD and (tmp_path / "session.plot.svg").read_text().startswith("<svg")
    user_error(cli("plot", "-o", path, path), "is the trace itself")
    assert path.read_text() == GOOD


def test_bad_truth_file_beside_the_trace(cli, tmp_path):
    path = write(tmp_path / "t.csv", GOOD)
    write(tmp_path / "t.truth.json", b"\xff\xfe")
    user_error(cli("plot", path), "t.truth.json", "not a truth file")
    write(tmp_path / "t.truth.json", json.dumps({"stretches": [{"start": "soon"}]}))
    user_error(cli("plot", path), "not a truth file")


@pytest.mark.parametrize("content, needle", [
    (b"\xff\xfe[web]\n", "not a text file"),
    (bytes(range(256)), "not a text file"),
    (b"[web]\nhost = 'my laptop'\n", "web.host"),
    (b"[web]\naccess_code = '1234'\n", "8 to 64 characters"),
])
def test_bad_config_files(cli, tmp_path, content, needle):
    path = write(tmp_path / "c.toml", content)
    user_error(cli("config", "--config", path), needle)


def test_config_that_is_a_folder(cli, tmp_path):
    user_error(cli("config", "--config", tmp_path), "is a directory")


def test_an_export_cut_short_is_refused_saying_where_and_imports_nothing(cli, tmp_path):
    text = json.dumps({"format": "stretchstep-export", "version": 3, "sessions": [],
                       "traces": [{"session_id": 1, "day": "2026-03-08", "gzip_base64": "H4sI" * 100}]})
    path = write(tmp_path / "cut.json", text[:200])
    user_error(cli("import", path, "--data-dir", tmp_path / "fresh"), "cut.json: not a JSON export",
               "Unterminated string starting at byte 128: the file stops before the JSON does, "
               "it was cut short")
    fresh = tmp_path / "fresh"
    assert not list(fresh.rglob("*.sqlite")) and not list(fresh.rglob("session-*"))


def test_the_csv_export_given_to_import_is_refused_saying_which_export_it_reads(cli, tmp_path):
    path = write(tmp_path / "all.csv", "type,id,day,time,leg,knee,rep,hold_s\nstretch,1,2026-03-08,\n")
    user_error(cli("import", path, "--data-dir", tmp_path / "fresh"),
               "all.csv: not a JSON export: this is the CSV export; import reads the JSON one "
               "(stretchstep export --format json)")


def test_an_export_naming_a_session_by_a_string_is_refused_saying_an_id_is_a_number(cli, tmp_path):
    path = write(tmp_path / "e.json", json.dumps({
        "format": "stretchstep-export", "version": 3,
        "sessions": [{"id": 1, "source": "hx711", "started": 1.0}],
        "traces": [{"session_id": "1", "day": "2026-03-08", "gzip_base64": "H4sI"}]}))
    user_error(cli("import", path, "--data-dir", tmp_path / "fresh"),
               "traces[0]: session_id must be a number (a session's id), got '1'")


def test_bad_host_is_a_user_error(cli, tmp_path):
    """192.0.2.1 (TEST-NET) is no address of this machine: bind fails locally, nothing is sent."""
    user_error(cli("run", "--host", "192.0.2.1", "--port", 0), "cannot listen on 192.0.2.1:0")
    user_error(cli("run", "--host", "not a host", "--port", 0), "web.host")


def test_corrupt_or_newer_history_stops_run_and_is_left_alone(cli, tmp_path):
    import sqlite3

    data = tmp_path / "data" / "simulated"   # a simulated run keeps its history apart (issue 13)
    data.mkdir(parents=True)
    garbage = b"not a database at all " * 500
    write(data / "history.sqlite", garbage)
    user_error(cli("run", "--port", 0, "--host", "127.0.0.1"), "history.sqlite", "move it")
    assert (data / "history.sqlite").read_bytes() == garbage
    (data / "history.sqlite").unlink()
    sqlite3.connect(data / "history.sqlite").execute("PRAGMA user_version = 99").connection.close()
    user_error(cli("run", "--port", 0, "--host", "127.0.0.1"), "schema version 99, newer than")


def test_read_only_data_dir_is_a_user_error(cli, tmp_path, monkeypatch):
    """CI runs as root (chmod does not stop root), so the read-only file system is faked."""
    import errno

    from firmware import files

    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", read_only)
    user_error(cli("run", "--port", 0, "--host", "127.0.0.1"), "Read-only file system", "writable")


def test_data_dir_a_file(cli, tmp_path):
    (tmp_path / "data").write_text("not a folder")
    user_error(cli("run", "--port", 0, "--host", "127.0.0.1"), "it is a file, not a folder", "--data-dir")


def test_access_code_a_folder(cli, tmp_path):
    (tmp_path / "data" / "access_code").mkdir(parents=True)
    user_error(cli("run", "--port", 0, "--host", "127.0.0.1"), "is a folder, not the access code file")


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b'{"offset": "x"}', b"[1, 2]"])
def test_corrupt_calibration_file_in_tare(cli, tmp_path, content):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "calibration-hx711-emulated.json", content)
    user_error(cli("tare", "--source", "hx711-emulated"), "calibration-hx711-emulated.json",
               "not a calibration file")


def test_history_calibration_and_access_files_are_owner_only(cli, tmp_path):
    from firmware.access import ensure_access_code
    from firmware.calibration import Calibration, save_calibration
    from firmware.store import Store

    data = tmp_path / "fresh"
    Store(data / "history.sqlite").close()
    ensure_access_code(data, "")
    save_calibration(Calibration(), data, "hx711-emulated")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_trace_writer_round_trip_still_reads(tmp_path):
    """The bounded reader takes everything the writer writes."""
    from firmware.sensors.base import Sample

    path = tmp_path / "t.csv"
    with TraceWriter(path, 80, {"note": "x" * 1000}) as writer:
        writer.write_all(Sample(i / 80, -5e5 + i) for i in range(100))
    assert len(read_trace(path).samples) == 100


def test_a_damaged_gz_trace_is_one_line(cli, tmp_path):
    import gzip

    write(tmp_path / "kept.csv.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 50 + b"garbage" * 10)
    user_error(cli("analyze", tmp_path / "kept.csv.gz"), "kept.csv.gz")
    huge_line = gzip.compress(b"t,kg\n" + b"9" * 50_000_000)          # a bomb: 50 MB in ~50 kB
    write(tmp_path / "bomb.csv.gz", huge_line)
    user_error(cli("analyze", tmp_path / "bomb.csv.gz"), "bomb.csv.gz:2: line is longer than 4096")


def test_access_code_command_shows_status_and_reset_shows_the_new_code_once(cli, tmp_path):
    import re

    from firmware.access import load_access_code

    data = tmp_path / "data"
    assert "no access code yet" in cli("access-code").output
    first = cli("access-code", "--reset")
    assert first.exit_code == 0, first.output
    code = re.search(r"#code=(\d{8})\b", first.output).group(1)
    assert f"new access code: {code}" in first.output
    assert load_access_code(data, "").check(code)
    status = cli("access-code").output
    assert "set" in status and code not in status
    second = re.search(r"#code=(\d{8})\b", cli("access-code", "--reset").output).group(1)
    assert not load_access_code(data, "").check(code) and load_access_code(data, "").check(second)


def test_a_commands_own_refusal_exits_2_too(cli, tmp_path):
    """cli_history and cli_calibration refuse with click.ClickException: the same status 2."""
    user_error(cli("export", "--data-dir", tmp_path / "empty"), "no history")


def test_as_a_real_process_the_error_is_one_line_on_stderr_and_status_2(tmp_path):
    import subprocess
    import sys

    bad = write(tmp_path / "bad.csv", b"\xff\xfe\x00 not a trace")
    result = subprocess.run([sys.executable, "-m", "firmware", "analyze", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"Error: {bad}:1: not text (byte 1 of the line is not "
                                                  "UTF-8); is this a stretchstep trace?"]
