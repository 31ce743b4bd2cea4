import math

import pytest

from firmware.sensors.base import Sample
from firmware.sensors.trace import ReplaySource, TraceError, TraceWriter, read_trace


def test_write_then_read_round_trips(tmp_path):
    path = tmp_path / "t.csv"
    samples = [Sample(i / 80, 0.5 * i) for i in range(10)] + [Sample(10 / 80, math.nan, "missing")]
    with TraceWriter(path, 80, {"source": "test"}) as writer:
        writer.write_all(samples)
    text = path.read_text().splitlines()
    assert text[:4] == ["# stretchstep trace v1", "# rate_hz=80", "# source=test", "t,kg"]
    trace = read_trace(path)
    assert trace.rate_hz == 80
    assert trace.meta["source"] == "test"
    assert [s.kg for s in trace.samples[:10]] == pytest.approx([s.kg for s in samples[:10]], abs=1e-4)
    assert trace.samples[-1].fault == "missing"


def test_extra_columns_and_headers_are_ignored(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("# stretchstep trace v1\n# unknown=1\nleg,t,kg,raw\nL,0.0,1.5,7\nL,0.1,1.6,8\n")
    trace = read_trace(path)
    assert [(s.t, s.kg) for s in trace.samples] == [(0.0, 1.5), (0.1, 1.6)]
    assert trace.rate_hz == pytest.approx(10)


@pytest.mark.parametrize(
    ("body", "line", "what"),
    [
        ("t,kg\n0.0,1\n0.1,abc\n", 4, "not numbers"),
        ("t,kg\n0.0,1\n0.1\n", 4, "columns"),
        ("t,kg\n0.2,1\n0.1,1\n", 4, "time goes back"),
        ("time,weight\n0.0,1\n", 2, "header naming columns"),
    ],
)
def test_malformed_trace_names_file_and_line(tmp_path, body, line, what):
    path = tmp_path / "bad.csv"
    path.write_text("# stretchstep trace v1\n" + body)
    with pytest.raises(TraceError, match=what) as info:
        read_trace(path)
    assert f"{path}:{line}:" in str(info.value)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(TraceError, match="cannot open"):
        read_trace(tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TraceError, match="no 't,kg' header"):
        read_trace(tmp_path / "empty.csv")


def test_replay_source_reads_rate_up_front_and_replays(tmp_path):
    path = tmp_path / "t.csv"
    with TraceWriter(path, 10) as writer:
        writer.write_all(Sample(i / 10, float(i)) for i in range(5))
    source = ReplaySource(path)
    assert source.rate_hz == 10 and source.live is False
    assert [s.kg for s in source.samples()] == [0, 1, 2, 3, 4]
    (tmp_path / "bad.csv").write_text("# rate_hz=zero\nt,kg\n0,1\n")
    with pytest.raises(TraceError, match="rate_hz"):
        ReplaySource(tmp_path / "bad.csv")
