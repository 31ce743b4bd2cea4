"""The weekly report: one self-contained HTML page a person can print or hand to a physiotherapist.

Everything it shows comes from `History.report` (the same figures as GET /api/history), drawn
as inline SVG so the file needs nothing else: no scripts, no fonts, no network.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from firmware.words import counted

W, H, PAD = 640, 220, 36
CSS = """
body{font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;max-width:720px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}
table{border-collapse:collapse;width:100%}.wide{overflow-x:auto}
th,td{text-align:right;padding:.25em .5em;border-bottom:1px solid #ddd;white-space:nowrap}
th:first-child,td:first-child{text-align:left;white-space:nowrap}.muted{color:#555}svg{width:100%;height:auto}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg,table{break-inside:avoid}}
"""


def _fmt(value: Any, suffix: str = "") -> str:
    return "–" if value is None else f"{value:g}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def _held(seconds: float) -> str:
    """Time held as a person reads it: "45 s", and from two minutes on "48 min" (2890.4 s was
    a number to work out, and it wrapped its table cell)."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _share(value: float | None) -> str:
    """A load share as a percentage, as the History page shows it."""
    return "–" if value is None else f"{value * 100:.0f} %"


def holds_chart(days: list[dict[str, Any]]) -> str:
    """Clean (green) and bounced (red) stretches per day as bars; pain (dark) and stiffness (dashed)
    on their own 0-10 axis at the right, with days that have no entry left as gaps."""
    n = max(len(days), 1)
    top = max([d["clean"] + d["bounced"] for d in days] + [1])
    plot_w, plot_h = W - 2 * PAD, H - 2 * PAD
    slot = plot_w / n
    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="holds and pain per day">']
    for k in range(0, 11, 5):  # the pain axis
        y = PAD + plot_h * (1 - k / 10)
        parts.append(f'<line x1="{PAD}" x2="{W - PAD}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
                     f'<text x="{W - PAD + 4}" y="{y + 4:.1f}" font-size="11">{k}</text>')
    parts.append(f'<text x="{W - 4}" y="{PAD - 12}" font-size="11" text-anchor="end">pain (line), stiffness'
                 ' (dashed), 0-10</text>'
                 f'<text x="4" y="{PAD - 12}" font-size="11">holds: clean (green), bounced (red)</text>'
                 f'<text x="{PAD - 6}" y="{PAD + 4}" font-size="11" text-anchor="end">{top}</text>')
    for i, d in enumerate(days):
        x = PAD + i * slot + slot * 0.2
        bw = slot * 0.6
        clean_h = plot_h * d["clean"] / top
        bounced_h = plot_h * d["bounced"] / top
        base = PAD + plot_h
        parts.append(_bar(x, base - clean_h, bw, clean_h, "#2e7d32"))
        parts.append(_bar(x, base - clean_h - bounced_h, bw, bounced_h, "#c62828"))
        label = date.fromisoformat(d["day"]).strftime("%a %d")
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{H - PAD + 16}" font-size="11"'
                     f' text-anchor="middle">{label}</text>')
    for key, dash in (("pain", ""), ("stiffness", ' stroke-dasharray="5 4"')):
        for run in _runs(days, key):
            xy = [(PAD + i * slot + slot / 2, PAD + plot_h * (1 - v / 10)) for i, v in run]
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="#1a237e" stroke-width="2"{dash}/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1a237e"/>' for x, y in xy)
    parts.append("</svg>")
    return "".join(parts)


def _bar(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"/>'


def _runs(days: list[dict[str, Any]], key: str) -> list[list[tuple[int, float]]]:
    """Consecutive days with a value: a line is never drawn across a day with no entry."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, d in enumerate(days):
        if d[key] is None:
            runs.append([])
        else:
            runs[-1].append((i, d[key]))
    return [r for r in runs if r]


def render_report(history: dict[str, Any], *, title: str = "stretchstep: the week") -> str:
    days = history["days"]
    first, last = days[0]["day"], days[-1]["day"]
    rows = "".join(
        f"<tr><td>{escape(d['day'])}</td><td>{_fmt(d['routines'])}</td><td>{d['holds']}</td>"
        f"<td>{d['clean']}</td><td>{d['bounced']}</td><td>{_held(d['hold_s'])}</td>"
        f"<td>{_fmt(d['breaths_per_hold'])}</td><td>{_fmt(d['pain'])}</td>"
        f"<td>{_fmt(d['stiffness'])}</td></tr>"
        for d in days)
    totals = {k: sum(d[k] for d in days) for k in ("routines", "holds", "clean", "bounced")}
    trend_rows = "".join(
        f"<tr><td>{escape(side)} leg, knee {escape(knee)}</td><td>{sum(p['holds'] for p in pts)}</td>"
        f"<td>{_share(pts[0]['share'])}</td><td>{_share(pts[-1]['share'])}</td></tr>"
        for side, knees in sorted(history["trends"].items()) for knee, pts in sorted(knees.items()))
    pg = history["pain_by_goal"]
    goal = history["goal"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(title)} {escape(first)} to {escape(last)}</title><style>{CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">{escape(first)} to {escape(last)} · daily goal {counted(goal, 'routine')} ·
streak {counted(history['streak'], 'day')}</p>
<h2>Summary</h2>
<div class="wide"><table><tr><th></th><th>routines</th><th>holds</th><th>clean</th><th>bounced</th></tr>
<tr><td>this week</td><td>{totals['routines']}</td><td>{totals['holds']}</td><td>{totals['clean']}</td>
<td>{totals['bounced']}</td></tr></table></div>
<p id="pain-by-goal">Mean pain on days the goal was met: <b>{_fmt(pg['goal_met']['pain'])}</b>
({counted(pg['goal_met']['days'], 'day')} with pain logged);
on other days: <b>{_fmt(pg['goal_missed']['pain'])}</b>
({counted(pg['goal_missed']['days'], 'day')}).</p>
<h2>Each day</h2>
{holds_chart(days)}
<div class="wide"><table id="days"><tr><th>day</th><th>routines</th><th>holds</th><th>clean</th>
<th>bounced</th><th>held</th><th>breaths/hold</th><th>pain</th><th>stiffness</th></tr>{rows}</table></div>
<h2>Each side and knee</h2>
<p class="muted">Hold load as a share of the standing load just before it: it rises as a tight calf lets the
heel drop further.</p>
<div class="wide"><table id="trends"><tr><th>slot</th><th>holds</th><th>first day</th><th>last day</th></tr>
{trend_rows or '<tr><td colspan="4">no completed holds with a known leg and knee this week</td></tr>'}
</table></div>
<p class="muted">Made by stretchstep. A hold is a stretch held to its target; it is clean when it had
no bounce (bouncing in a calf stretch can tear fibres).</p>
</body></html>
"""
