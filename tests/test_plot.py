"""The SVG writer: valid XML, spans and markers where the events are, the truth lane, decimation."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware import events as ev
from firmware.events import Event
from firmware.plot import Frame, decimate, nice_step, render_svg, stretch_spans, ticks
from firmware.sensors.base import Sample

NS = {"svg": "http://www.w3.org/2000/svg"}


def trace(seconds: float = 60.0, rate: float = 80.0) -> list[Sample]:
    out = []
    for i in range(int(seconds * rate)):
        t = i / rate
        kg = 30.0 + (25.0 if 10 <= t < 40 else 0.0)
        if 30 <= t < 33:
            kg += 6.0 * math.sin(2 * math.pi * 2.0 * t)    # a 2 Hz bounce
        out.append(Sample(t, kg))
    out[100] = Sample(out[100].t, math.nan, "spiking")      # a missing sample breaks the line
    return out


EVENTS = [
    Event(ev.STEP_ON, 1.0), Event(ev.STRETCH_START, 10.0), Event(ev.HOLD_START, 12.0),
    Event(ev.BREATH, 16.0, {"n": 1}), Event(ev.BREATH, 22.0, {"n": 2}), Event(ev.BREATH, 28.0, {"n": 3}),
    Event(ev.BOUNCE, 31.0, {"hz": 2.0, "pp_kg": 12.0}), Event(ev.HOLD_COMPLETE, 35.0, {"hold_s": 23}),
    Event(ev.STRETCH_END, 41.0, {"start": 10.0, "hold_start": 12.0, "end": 41.0, "breaths": 3}),
]
TRUTH = {"stretches": [{"start": 9.8, "hold_start": 12.1, "end": 41.2, "breaths": 3,
                        "breath_times": [16.1, 22.0, 27.9]}],
         "bounces": [{"t": 30.0, "end": 33.0}]}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for el in root.iter() if cls in (el.get("class") or "").split()]


def test_valid_svg_with_spans_markers_axes_and_legend():
    root = parse(render_svg(trace(), EVENTS, title="demo <trace> & co"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "1200"
    assert by_class(root, "title")[0].text == "demo <trace> & co"
    assert len(by_class(root, "stretch")) == 1 and len(by_class(root, "hold")) == 1
    assert len(by_class(root, "breath")) == 3 and len(by_class(root, "bounce")) == 1
    assert len(by_class(root, "hold_start")) == 1 and len(by_class(root, "hold_complete")) == 1
    assert by_class(root, "truth-lane") == []
    axis_text = [t.text for t in by_class(root, "axes")[0].iter("{http://www.w3.org/2000/svg}text")]
    assert "kg" in axis_text and "s" in axis_text and "0" in axis_text and "50" in axis_text
    legend = [t.text for t in by_class(root, "legend")[0].iter("{http://www.w3.org/2000/svg}text")]
    assert {"force (kg)", "breath", "bounce", "hold complete"} <= set(legend)


def test_markers_sit_at_their_times():
    root = parse(render_svg(trace(), EVENTS, width=1200))
    left, right = 56, 1200 - 16
    x_of = lambda t: left + (right - left) * (t - 0.0) / (60.0 - 1 / 80)  # noqa: E731
    bounce = by_class(root, "bounce")[0]
    assert float(bounce.get("x1")) == pytest.approx(x_of(31.0), abs=0.2)
    span = by_class(root, "stretch")[0]
    assert float(span.get("x")) == pytest.approx(x_of(10.0), abs=0.2)
    assert float(span.get("width")) == pytest.approx(x_of(41.0) - x_of(10.0), abs=0.3)


def test_truth_lane_shows_stretches_breaths_and_bounces():
    root = parse(render_svg(trace(), EVENTS, TRUTH))
    lane = by_class(root, "truth-lane")
    assert len(lane) == 1
    assert len(by_class(root, "truth-stretch")) == 1 and len(by_class(root, "truth-hold")) == 1
    assert len(by_class(root, "truth-breath")) == 3 and len(by_class(root, "truth-bounce")) == 1
    frame = by_class(root, "frame")[0]
    force_bottom = float(frame.get("y")) + float(frame.get("height"))
    assert float(by_class(root, "truth-stretch")[0].get("y")) > force_bottom   # beneath, its own lane


def test_decimation_keeps_the_bounce_swing_and_bounds_the_points():
    samples = trace(seconds=600.0)             # 48 000 samples
    root = parse(render_svg(samples, EVENTS, width=1200))
    polylines = [p for p in root.iter("{http://www.w3.org/2000/svg}polyline")]
    assert len(polylines) == 2                 # broken once, at the missing sample
    points = [tuple(map(float, xy.split(","))) for p in polylines for xy in p.get("points").split()]
    assert len(points) <= 2 * (1200 - 72) + 4
    ys = [y for x, y in points]
    short = parse(render_svg(samples[: 80 * 60], EVENTS, width=1200))
    short_ys = [float(xy.split(",")[1]) for p in short.iter("{http://www.w3.org/2000/svg}polyline")
                for xy in p.get("points").split()]
    assert min(ys) == pytest.approx(min(short_ys), abs=1.0)   # the bounce peak survives 10x decimation


def test_empty_input_and_bad_size():
    root = parse(render_svg([], []))
    assert list(root.iter("{http://www.w3.org/2000/svg}polyline")) == [] and by_class(root, "axes")
    with pytest.raises(ValueError, match="width must be >= 200"):
        render_svg([], [], width=50)


def test_open_stretch_is_drawn_to_the_last_event_and_helpers():
    spans = stretch_spans([Event(ev.STRETCH_START, 5.0), Event(ev.HOLD_START, 7.0), Event(ev.BREATH, 9.0)])
    assert spans == [(5.0, 7.0, 9.0)]
    assert nice_step(100.0) == 20.0 and nice_step(7.0) == 1.0
    assert ticks(0.0, 59.0, 6) == [0, 10, 20, 30, 40, 50] and ticks(0.0, 61.0, 6) == [0, 20, 40, 60]
    assert decimate([], type("F", (), {"left": 0, "right": 10, "t0": 0.0, "t1": 1.0})()) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-50, max_value=200, allow_nan=False), min_size=1, max_size=3000),
       st.integers(min_value=200, max_value=1600))
def test_decimation_keeps_every_extreme_and_the_point_budget(kgs, width):
    samples = [Sample(i / 80.0, kg) for i, kg in enumerate(kgs)]
    frame = Frame(0.0, max(1.0, len(kgs) / 80.0), min(0.0, min(kgs)), max(kgs) + 1.0, 56, width - 16, 40, 300)
    points = [p for seg in decimate(samples, frame) for p in seg]
    assert len(points) <= 2 * int(width - 72) + 2
    ys = [y for _, y in points]
    assert min(ys) == pytest.approx(frame.y(max(kgs))) and max(ys) == pytest.approx(frame.y(min(kgs)))
    xs = [x for x, _ in points]
    assert xs == sorted(xs)                                   # time order kept inside each column
