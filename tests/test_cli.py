"""The command as a user types it: record from any source, analyze (table and DESIGN §5 JSON),
plot, config; errors a user can fix are one line naming what is wrong."""

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from firmware.cli import main
from firmware.sensors.trace import read_trace


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("STRETCHSTEP_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("source", ["simulated:bouncy", "hx711-emulated"])
def test_record_then_analyze_gives_the_design_json(cli, tmp_path, source):
    out = tmp_path / "t.csv"
    result = cli("record", "--source", source, "--seconds", 90, out)
    assert result.exit_code == 0, result.output
    trace = read_trace(out)
    assert trace.rate_hz == 80 and trace.meta["source"] == source
    assert 90 * 80 - 2 <= len(trace.samples) <= 90 * 80
    result = cli("analyze", "--json", out)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"rate_hz", "samples", "duration_s", "stretches", "bounces", "steps"}
    assert data["samples"] == len(trace.samples)
    assert data["stretches"], "a person on the step for 90 s stretches at least once"
    assert set(data["stretches"][0]) >= {"start", "hold_start", "end", "hold_s", "breaths", "bounces",
                                         "completed", "peak_kg"}
    table = cli("analyze", out).output
    assert "stretch" in table and f"{len(data['stretches'])} stretch" in table


def test_plot_writes_svg_with_truth_lane(cli, tmp_path):
    from firmware.sensors import simulated
    from firmware.sensors.trace import TraceWriter

    person = simulated.scenario("bouncy", seed=2, rate_hz=10.0)
    path = tmp_path / "b.csv"
    with TraceWriter(path, 10) as writer:
        writer.write_all(person.samples())
    path.with_suffix(".truth.json").write_text(json.dumps(person.truth))
    result = cli("plot", path)
    assert result.exit_code == 0, result.output
    svg = path.with_suffix(".svg").read_text()
    ET.fromstring(svg)
    assert "truth" in svg.lower()


def test_malformed_trace_names_file_and_line(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("# stretchstep trace v1\nt,kg\n0.0,1\n0.1,x\n")
    result = cli("analyze", bad)
    assert result.exit_code != 0
    assert f"{bad}:4:" in result.output


def test_config_prints_effective_values(cli, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[web]\nport = 9001\n")
    result = cli("config", "--config", path)
    assert result.exit_code == 0
    assert "port = 9001" in result.output and "[detector]" in result.output
    assert str(tmp_path / "data") in result.output
    assert cli("record", "--source", "nowhere", tmp_path / "x.csv").exit_code != 0
