"""Hypothesis against the two readers of files people hand in: the trace reader (and analyze
over what it yields) and the config loader. Whatever the bytes, the answer is a value or the
module's own clear error (TraceError / ConfigError) — never another exception."""

from __future__ import annotations

import json
import math
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware import config
from firmware.analysis import analyze_trace
from firmware.config import ConfigError
from firmware.sensors.trace import KG_LIMIT, MAX_LINE, T_LIMIT, TraceError, read_trace

FIXTURE_OK = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])

number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**400, 10**400).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e309", "", " ", "0x10", "1_000", "١٢"]),
    st.text(max_size=8),
)
row = st.lists(number_text, min_size=0, max_size=4).map(",".join)
line = st.one_of(
    row, row, row,
    st.sampled_from(["t,kg", "kg,t", "t,kg,raw", "# stretchstep trace v1", "time,weight", ""]),
    st.builds(lambda k, v: f"# {k}={v}", st.sampled_from(["rate_hz", "source", "x"]), number_text),
    st.text(max_size=40),
)
trace_text = st.lists(line, max_size=30).map("\n".join)
trace_bytes = st.one_of(trace_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                        st.binary(max_size=3000))


def check_trace(path) -> None:
    try:
        trace = read_trace(path)
    except TraceError as exc:
        assert str(path) in str(exc) and len(str(exc)) < MAX_LINE
        return
    last = -math.inf
    for s in trace.samples:
        assert math.isfinite(s.t) and abs(s.t) <= T_LIMIT and s.t >= last
        assert (s.ok and abs(s.kg) <= KG_LIMIT) or (math.isnan(s.kg) and s.fault == "missing")
        last = s.t
    try:
        result = analyze_trace(path)
    except TraceError:
        return
    json.dumps(result, allow_nan=True)
    assert result["samples"] == len(trace.samples)


@FIXTURE_OK
@given(content=trace_bytes)
def test_trace_reader_answers_samples_or_trace_error(tmp_path, content):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    check_trace(path)


@FIXTURE_OK
@given(rows=st.lists(st.tuples(st.floats(-1e13, 1e13), st.floats(allow_nan=True)), max_size=40))
def test_trace_with_a_good_header_and_any_numbers(tmp_path, rows):
    path = tmp_path / "fuzz.csv"
    path.write_text("# stretchstep trace v1\n# rate_hz=80\nt,kg\n"
                    + "".join(f"{t!r},{kg!r}\n" for t, kg in rows))
    check_trace(path)


toml_scalar = st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(), st.booleans(),
                        st.text(max_size=20))
toml_value = st.recursive(toml_scalar, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
section_names = st.sampled_from(["sensor", "web", "detector", "routine", "cues", "store", "x"])
key_names = st.sampled_from(["source", "rate_hz", "host", "port", "access_code", "allowed_hosts",
                             "target_s", "reps", "first_leg", "enabled", "data_dir", "nope"])
raw_config = st.dictionaries(section_names, st.one_of(
    st.dictionaries(key_names, toml_value, max_size=4), toml_scalar), max_size=4)


@settings(max_examples=300, deadline=None)
@given(raw=raw_config)
def test_config_from_any_table_is_a_config_or_config_error(raw):
    try:
        cfg = config.from_dict(raw, where="fuzz.toml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml: ")
        return
    assert isinstance(cfg, config.Config)


@FIXTURE_OK
@given(content=st.one_of(st.binary(max_size=500), st.text(max_size=300).map(
    lambda t: t.encode("utf-8", "surrogatepass"))))
def test_config_loader_answers_a_config_or_config_error(tmp_path, content):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(content)
    try:
        config.load(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


host = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=20)


@FIXTURE_OK
@given(code=st.text(st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=64),
       hosts=st.lists(host, max_size=3))
def test_config_round_trips_any_code_and_host_list(tmp_path, code, hosts):
    cfg = config.DEFAULTS.with_values("web", access_code=code, allowed_hosts=tuple(hosts))
    path = tmp_path / "round.toml"
    path.write_text(config.to_toml(cfg), encoding="utf-8")
    assert config.load(path) == cfg
