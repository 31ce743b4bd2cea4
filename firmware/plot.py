"""A small pure-Python SVG writer for a trace, what the detector found, and the ground truth.

Why hand-written SVG: the device (a Pi) and CI have no numpy or matplotlib, and a plot of a
stretch session is only a polyline, a few shaded spans and markers. Long traces are decimated
to min/max pairs per pixel column, so a 2 Hz bounce in a 10-minute trace still shows its full
swing instead of being averaged away. Every drawn thing carries a class (stretch, hold,
marker breath, truth-stretch, ...) so tests and CSS can find it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from firmware import events as ev
from firmware.events import Event
from firmware.sensors.base import Sample

COLORS = {
    "force": "#1f6fb2", "stretch": "#4cc2ff", "hold": "#3ddc84", "breath": "#138a4a",
    "bounce": "#d11a2a", "hold_complete": "#0b7a3b", "hold_start": "#b77900", "fault": "#ff8c00",
    "truth": "#8a6bd1", "axis": "#55636f", "grid": "#e3e8ec", "step": "#888888",
}
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 44, 34
TRUTH_LANE = 40


@dataclass(frozen=True)
class Frame:
    """Maps trace time and kg to pixels."""

    t0: float
    t1: float
    lo: float
    hi: float
    left: float
    right: float
    top: float
    bottom: float

    def x(self, t: float) -> float:
        return self.left + (self.right - self.left) * (t - self.t0) / (self.t1 - self.t0)

    def y(self, kg: float) -> float:
        return self.bottom - (self.bottom - self.top) * (kg - self.lo) / (self.hi - self.lo)


def nice_step(span: float, target_ticks: int = 8) -> float:
    """A 1/2/5 x 10^k step giving about `target_ticks` ticks over `span`."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def ticks(lo: float, hi: float, target: int = 8) -> list[float]:
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 10) for i in range(max(0, count))]


@dataclass
class Extent:
    """The time and kg range of a trace, taken one sample at a time, so a plot can know its
    frame without holding the trace (`stretchstep plot` of a day-long file)."""

    t0: float = math.inf
    t1: float = -math.inf
    lo: float = math.inf
    hi: float = -math.inf

    def add(self, s: Sample) -> None:
        if s.t < self.t0:
            self.t0 = s.t
        if s.t > self.t1:
            self.t1 = s.t
        if s.ok and math.isfinite(s.kg):
            if s.kg < self.lo:
                self.lo = s.kg
            if s.kg > self.hi:
                self.hi = s.kg

    @classmethod
    def of(cls, samples: Iterable[Sample]) -> Extent:
        extent = cls()
        for s in samples:
            extent.add(s)
        return extent


def decimate(samples: Iterable[Sample], frame: Frame, per_px: float = 2.0) -> list[list[tuple[float, float]]]:
    """Polyline segments (broken at missing samples) with at most ~per_px points per pixel:
    each pixel column keeps its min and max in time order, so peaks survive. Streams: the
    samples may be a generator over a file of any length."""
    width = max(1.0, frame.right - frame.left)
    columns = max(1, int(width * per_px / 2))
    scale = columns / (frame.t1 - frame.t0)
    segments: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    col = -1
    lo_s: Sample | None = None
    hi_s: Sample | None = None

    def flush() -> None:
        if lo_s is None or hi_s is None:
            return
        pair = (lo_s, hi_s) if lo_s.t <= hi_s.t else (hi_s, lo_s)
        for s in pair if lo_s is not hi_s else (lo_s,):
            current.append((frame.x(s.t), frame.y(s.kg)))

    for s in samples:
        if not s.ok or not math.isfinite(s.kg):
            flush()
            lo_s = hi_s = None
            col = -1
            if current:
                segments.append(current)
                current = []
            continue
        c = int((s.t - frame.t0) * scale)
        if c != col:
            flush()
            col, lo_s, hi_s = c, s, s
        else:
            if s.kg < lo_s.kg:  # type: ignore[union-attr]
                lo_s = s
            if s.kg > hi_s.kg:  # type: ignore[union-attr]
                hi_s = s
    flush()
    if current:
        segments.append(current)
    return segments


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:.0f}"


def _num(v: float) -> str:
    return f"{v:g}"


class Svg:
    """An append-only list of SVG elements; attributes are escaped."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, tag: str, text: str | None = None, **attrs: Any) -> None:
        attr = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v), {chr(34): "&quot;"})}"'
                        for k, v in attrs.items() if v is not None)
        if text is None:
            self.parts.append(f"<{tag} {attr}/>")
        else:
            self.parts.append(f"<{tag} {attr}>{escape(text)}</{tag}>")

    def open(self, tag: str, **attrs: Any) -> None:
        attr = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
        self.parts.append(f"<{tag} {attr}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")


def render_svg(samples: Iterable[Sample], events: list[Event], truth: dict | None = None, *,
               width: int = 1200, height: int = 360, title: str = "", extent: Extent | None = None) -> str:
    """The whole picture as an SVG document string (see module doc).

    With `extent` (of the same samples) the samples are read once, as a stream; without it
    they are gathered first to find it."""
    if width < 200 or height < 120:
        raise ValueError(f"width must be >= 200 and height >= 120 pixels, got {width}x{height}")
    if extent is None:
        samples = list(samples)
        extent = Extent.of(samples)
    frame = _frame(extent, events, truth, width, height)
    svg = Svg()
    svg.parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                     f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">')
    svg.add("rect", x=0, y=0, width=width, height=height, fill="white", class_="background")
    if title:
        svg.add("text", title, x=MARGIN_LEFT, y=16, font_size=14, font_weight="bold", class_="title")
    _axes(svg, frame)
    _spans(svg, frame, events)
    _force(svg, frame, samples)
    _markers(svg, frame, events)
    if truth is not None:
        _truth_lane(svg, frame, truth, height)
    _legend(svg, width, truth is not None)
    svg.parts.append("</svg>")
    return "\n".join(svg.parts) + "\n"


def _frame(extent: Extent, events: Sequence[Event], truth: dict | None,
           width: int, height: int) -> Frame:
    times = [e.t for e in events] + [t for t in (extent.t0, extent.t1) if math.isfinite(t)]
    t0, t1 = (min(times), max(times)) if times else (0.0, 1.0)
    if not t1 - t0 >= 1e-6 * max(1.0, abs(t0)):   # also when the span overflows or is tiny
        t1 = t0 + 1.0
    lo, hi = (min(0.0, extent.lo), extent.hi) if extent.hi >= extent.lo else (0.0, 1.0)
    hi = hi + 0.05 * (hi - lo) if hi > lo else lo + 1.0
    bottom = height - MARGIN_BOTTOM - (TRUTH_LANE if truth is not None else 0)
    return Frame(t0, t1, lo, hi, MARGIN_LEFT, width - MARGIN_RIGHT, MARGIN_TOP, bottom)


def _axes(svg: Svg, f: Frame) -> None:
    svg.open("g", class_="axes")
    for kg in ticks(f.lo, f.hi, 6):
        y = round(f.y(kg), 1)
        svg.add("line", x1=f.left, x2=f.right, y1=y, y2=y, stroke=COLORS["grid"], class_="grid")
        svg.add("text", _num(kg), x=f.left - 6, y=y + 4, text_anchor="end", fill=COLORS["axis"])
    for t in ticks(f.t0, f.t1, 12):
        x = round(f.x(t), 1)
        svg.add("line", x1=x, x2=x, y1=f.bottom, y2=f.bottom + 4, stroke=COLORS["axis"])
        svg.add("text", _num(t), x=x, y=f.bottom + 16, text_anchor="middle", fill=COLORS["axis"])
    svg.add("rect", x=f.left, y=f.top, width=round(f.right - f.left, 1), height=round(f.bottom - f.top, 1),
            fill="none", stroke=COLORS["axis"], class_="frame")
    svg.add("text", "kg", x=f.left - 6, y=f.top - 6, text_anchor="end", fill=COLORS["axis"], class_="y-label")
    svg.add("text", "s", x=f.right, y=f.bottom + 28, text_anchor="end", fill=COLORS["axis"], class_="x-label")
    svg.close("g")


def stretch_spans(events: Iterable[Event]) -> list[tuple[float, float | None, float]]:
    """(start, hold_start or None, end) of each detected stretch, from stretch_end summaries
    (or a stretch_start still open at the end of the events)."""
    spans: list[tuple[float, float | None, float]] = []
    open_start: float | None = None
    open_hold: float | None = None
    last_t = 0.0
    for e in events:
        last_t = e.t
        if e.kind == ev.STRETCH_START:
            open_start, open_hold = e.t, None
        elif e.kind == ev.HOLD_START:
            open_hold = e.t
        elif e.kind == ev.STRETCH_END:
            start = e.data.get("start", open_start if open_start is not None else e.t)
            hold = e.data.get("hold_start", open_hold)
            spans.append((float(start), None if hold is None else float(hold), float(e.data.get("end", e.t))))
            open_start = open_hold = None
    if open_start is not None:
        spans.append((open_start, open_hold, last_t))
    return spans


def _spans(svg: Svg, f: Frame, events: Sequence[Event]) -> None:
    svg.open("g", class_="detected")
    h = round(f.bottom - f.top, 1)
    for start, hold, end in stretch_spans(events):
        x0, x1 = f.x(start), f.x(end)
        svg.add("rect", x=round(x0, 1), y=f.top, width=round(max(1.0, x1 - x0), 1), height=h,
                fill=COLORS["stretch"], fill_opacity=0.15, class_="stretch")
        if hold is not None:
            xh = f.x(hold)
            svg.add("rect", x=round(xh, 1), y=f.top, width=round(max(1.0, x1 - xh), 1), height=h,
                    fill=COLORS["hold"], fill_opacity=0.15, class_="hold")
    svg.close("g")


def _force(svg: Svg, f: Frame, samples: Iterable[Sample]) -> None:
    svg.open("g", class_="force", fill="none", stroke=COLORS["force"], stroke_width=1.2,
             stroke_linejoin="round")
    for segment in decimate(samples, f):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
        svg.add("polyline", points=points)
    svg.close("g")


def _markers(svg: Svg, f: Frame, events: Sequence[Event]) -> None:
    svg.open("g", class_="markers")
    for e in events:
        x = round(f.x(e.t), 1)
        if e.kind == ev.BREATH:
            y = f.top + 8
            svg.add("path", d=f"M{x - 4},{y - 6} L{x + 4},{y - 6} L{x},{y} Z", fill=COLORS["breath"],
                    class_="marker breath")
        elif e.kind == ev.BOUNCE:
            svg.add("line", x1=x, x2=x, y1=f.top, y2=f.bottom, stroke=COLORS["bounce"], stroke_width=2,
                    class_="marker bounce")
            svg.add("text", "bounce", x=x + 3, y=f.top + 22, fill=COLORS["bounce"], class_="marker-label")
        elif e.kind == ev.HOLD_START:
            svg.add("line", x1=x, x2=x, y1=f.top, y2=f.bottom, stroke=COLORS["hold_start"],
                    stroke_dasharray="4 3", class_="marker hold_start")
        elif e.kind == ev.HOLD_COMPLETE:
            svg.add("line", x1=x, x2=x, y1=f.top, y2=f.bottom, stroke=COLORS["hold_complete"],
                    stroke_width=2, class_="marker hold_complete")
            svg.add("circle", cx=x, cy=f.top + 14, r=4, fill=COLORS["hold_complete"], class_="marker-dot")
        elif e.kind in (ev.SENSOR_FAULT, ev.SENSOR_OK):
            svg.add("line", x1=x, x2=x, y1=f.top, y2=f.bottom, stroke=COLORS["fault"],
                    stroke_dasharray="2 2", class_=f"marker {e.kind}")
        elif e.kind in (ev.STEP_ON, ev.STEP_OFF):
            svg.add("line", x1=x, x2=x, y1=f.bottom - 8, y2=f.bottom, stroke=COLORS["step"],
                    stroke_width=2, class_=f"marker {e.kind}")
    svg.close("g")


def _truth_lane(svg: Svg, f: Frame, truth: dict, height: int) -> None:
    top = f.bottom + MARGIN_BOTTOM - 8
    lane_h = TRUTH_LANE - 12
    svg.open("g", class_="truth-lane")
    svg.add("text", "truth", x=f.left - 6, y=top + lane_h / 2 + 4, text_anchor="end", fill=COLORS["truth"])
    svg.add("line", x1=f.left, x2=f.right, y1=top + lane_h, y2=top + lane_h, stroke=COLORS["grid"])
    for item in truth.get("stretches", []):
        start, end = float(item["start"]), float(item["end"])
        x0, x1 = f.x(start), f.x(end)
        svg.add("rect", x=round(x0, 1), y=top, width=round(max(1.0, x1 - x0), 1), height=lane_h,
                fill=COLORS["truth"], fill_opacity=0.25, class_="truth-stretch")
        if item.get("hold_start") is not None:
            xh = f.x(float(item["hold_start"]))
            svg.add("rect", x=round(xh, 1), y=top, width=round(max(1.0, x1 - xh), 1), height=lane_h,
                    fill=COLORS["truth"], fill_opacity=0.35, class_="truth-hold")
        for bt in item.get("breath_times") or []:
            xb = round(f.x(float(bt)), 1)
            svg.add("line", x1=xb, x2=xb, y1=top + 4, y2=top + lane_h - 4, stroke=COLORS["breath"],
                    class_="truth-breath")
        if item.get("breaths") is not None:
            svg.add("text", f"{item['breaths']} br", x=round(x0 + 3, 1), y=top + lane_h - 5,
                    fill="#222", class_="truth-label")
    for item in truth.get("bounces", []):
        x0 = f.x(float(item["t"]))
        x1 = f.x(float(item.get("end", item["t"])))
        svg.add("rect", x=round(x0, 1), y=top, width=round(max(3.0, x1 - x0), 1), height=lane_h,
                fill=COLORS["bounce"], fill_opacity=0.6, class_="truth-bounce")
    svg.close("g")


def _legend(svg: Svg, width: int, with_truth: bool) -> None:
    items = [("force", "line", "force (kg)"), ("stretch", "box", "stretch"), ("hold", "box", "hold"),
             ("hold_start", "line", "hold start"), ("breath", "tri", "breath"),
             ("hold_complete", "line", "hold complete"), ("bounce", "line", "bounce")]
    if with_truth:
        items.append(("truth", "box", "truth"))
    widths = [26 + 6.5 * len(label) for _, _, label in items]   # ~6.5 px per 11 px character
    x = max(float(MARGIN_LEFT), width - MARGIN_RIGHT - sum(widths))
    y = 30
    svg.open("g", class_="legend")
    for (key, shape, label), item_w in zip(items, widths, strict=True):
        color = COLORS[key]
        if shape == "box":
            svg.add("rect", x=x, y=y - 8, width=14, height=10, fill=color, fill_opacity=0.35)
        elif shape == "tri":
            svg.add("path", d=f"M{x + 3},{y - 8} L{x + 11},{y - 8} L{x + 7},{y} Z", fill=color)
        else:
            svg.add("line", x1=x, x2=x + 14, y1=y - 3, y2=y - 3, stroke=color, stroke_width=2)
        svg.add("text", label, x=round(x + 18, 1), y=y)
        x += item_w
    svg.close("g")
