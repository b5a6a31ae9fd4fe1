"""PURE: cohort figures in, SVG text out (clinician dashboard). No Flask, no database, no clock.

Three charts, drawn like ``line_chart`` (presentation attributes and classes only, because
the CSP forbids inline styles; ``<title>`` on every mark for hover and screen readers):

- ``rate_chart``: response rate per group as a dot with its 95% interval bar;
- ``change_chart``: mean % change from baseline at each nominal time point, one line per group;
- ``km_chart``: Kaplan-Meier curves of time to loss of response, one step line per group.

Groups are told apart by shape and dash pattern as well as by colour class, so the charts read
in print and without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from . import _a, _el, _fmt_num, _nice_step

__all__ = ["Curve", "RateBar", "Series", "change_chart", "km_chart", "rate_chart"]

DASHES = (None, "6 3", "2 3", "8 3 2 3", "1 2")


@dataclass(frozen=True)
class RateBar:
    label: str
    rate: float | None
    low: float | None
    high: float | None
    responders: int
    evaluable: int


@dataclass(frozen=True)
class Series:
    """Mean % change per time point for one group: (label, hours, value or None, n)."""

    label: str
    points: Sequence[tuple[str, float, float | None, int]]


@dataclass(frozen=True)
class Curve:
    """Kaplan-Meier steps for one group: (t hours, survival, at risk)."""

    label: str
    steps: Sequence[tuple[float, float, int]]
    n: int
    median: float | None = None


def _open(width: int, height: int, chart_id: str, title: str, desc: str) -> list[str]:
    cid = escape(chart_id)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" '
            f'{_a(viewBox=f"0 0 {width} {height}", class_="chart", role="img")} '
            f'aria-labelledby="{cid}-t {cid}-d" preserveAspectRatio="xMidYMid meet">',
            f'<title id="{cid}-t">{escape(title)}</title>',
            f'<desc id="{cid}-d">{escape(desc)}</desc>']


LABEL = {"class_": "chart-label", "font_size": 12, "fill": "currentColor"}


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def rate_chart(bars: Sequence[RateBar], *, title: str = "Response rate",
               chart_id: str = "rates", width: int = 760) -> str:
    """Horizontal: one row per group, a dot at the rate and a bar across its 95% interval."""
    row = 34
    left, right, top = 170, 120, 26
    height = top + row * max(len(bars), 1) + 30
    pw = width - left - right

    def x(p: float) -> float:
        return round(left + pw * min(max(p, 0.0), 1.0), 1)

    desc = "; ".join(
        f"{b.label}: {b.responders} of {b.evaluable}"
        + (f" ({_pct(b.rate)}, 95% CI {_pct(b.low)} to {_pct(b.high)})" if b.rate is not None
           else " (none evaluable)") for b in bars) or "No groups"
    out = _open(width, height, chart_id, title, desc)
    bottom = top + row * max(len(bars), 1)
    for p in (0, .25, .5, .75, 1):
        out.append(_el("line", class_="chart-grid", x1=x(p), x2=x(p), y1=top - 6, y2=bottom,
                       stroke="#8888", stroke_width=1))
        out.append(_el("text", _pct(p), x=x(p), y=bottom + 16, text_anchor="middle", **LABEL))
    for i, b in enumerate(bars):
        cy = top + row * i + row / 2
        out.append(_el("text", b.label[:26], x=left - 8, y=cy + 4, text_anchor="end", **LABEL))
        if b.rate is None:
            out.append(_el("text", "none evaluable", x=left + 4, y=cy + 4, **LABEL))
            continue
        tip = (f"{b.label}: {b.responders} of {b.evaluable} responded, {_pct(b.rate)} "
               f"(95% CI {_pct(b.low)} to {_pct(b.high)})")
        out.append(f'<g class="chart-rate g{i % 5}">' + _el("title", tip)
                   + _el("line", x1=x(b.low), x2=x(b.high), y1=cy, y2=cy,
                         stroke="currentColor", stroke_width=3)
                   + _el("line", x1=x(b.low), x2=x(b.low), y1=cy - 7, y2=cy + 7,
                         stroke="currentColor", stroke_width=2)
                   + _el("line", x1=x(b.high), x2=x(b.high), y1=cy - 7, y2=cy + 7,
                         stroke="currentColor", stroke_width=2)
                   + _el("circle", cx=x(b.rate), cy=cy, r=6, fill="currentColor")
                   + "</g>")
        out.append(_el("text", f"{_pct(b.rate)} ({b.responders}/{b.evaluable})",
                       x=width - right + 8, y=cy + 4, **LABEL))
    out.append("</svg>")
    return "".join(out)


def _legend(out: list[str], labels: Sequence[str], x0: float, y0: float) -> None:
    if len(labels) < 2:
        return
    for i, label in enumerate(labels):
        yy = y0 + 16 * i
        out.append(f'<g class="chart-legend g{i % 5}">'
                   + _el("line", x1=x0, x2=x0 + 22, y1=yy - 4, y2=yy - 4, stroke="currentColor",
                         stroke_width=2.5, stroke_dasharray=DASHES[i % len(DASHES)])
                   + _el("text", label[:24], x=x0 + 28, y=yy, **LABEL) + "</g>")


def change_chart(series: Sequence[Series], *, title: str = "Mean % change from baseline",
                 chart_id: str = "changes", width: int = 760, height: int = 280,
                 threshold_pct: float | None = None) -> str:
    """Mean signed % change at each nominal time point (categorical x axis), a line per group.

    ``threshold_pct`` (e.g. -30) draws the rule's threshold as a dashed line.
    """
    labels = [p[0] for p in series[0].points] if series else []
    values = [p[2] for s in series for p in s.points if p[2] is not None]
    if threshold_pct is not None:
        values.append(threshold_pct)
    lo = min([0.0, *values])
    hi = max([0.0, *values])
    step = _nice_step(max(hi - lo, 10))
    lo = step * (lo // step)
    hi = step * -(-hi // step) if hi > 0 else 0.0
    if hi - lo < step:
        hi = lo + step
    left, right, top, bottom = 50, 150, 20, 40
    pw, ph = width - left - right, height - top - bottom
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return round(left + pw * (i + 0.5) / n, 1)

    def y(v: float) -> float:
        return round(top + ph * (1 - (v - lo) / (hi - lo)), 1)

    desc = "; ".join(
        f"{s.label}: " + ", ".join(f"{lab} {_fmt_num(round(v, 1))}% (n={k})"
                                    for lab, _, v, k in s.points if v is not None)
        for s in series) or "No data"
    out = _open(width, height, chart_id, title, desc)
    v = lo
    while v <= hi + 1e-9:
        out.append(_el("line", class_="chart-grid" + (" zero" if v == 0 else ""), x1=left,
                       x2=left + pw, y1=y(v), y2=y(v), stroke="#8888",
                       stroke_width=2 if v == 0 else 1))
        out.append(_el("text", f"{_fmt_num(v)}%", x=left - 6, y=y(v) + 4, text_anchor="end",
                       **LABEL))
        v += step
    for i, lab in enumerate(labels):
        out.append(_el("text", lab, x=x(i), y=height - bottom + 18, text_anchor="middle",
                       **LABEL))
    if threshold_pct is not None:
        out.append('<g class="chart-threshold">'
                   + _el("title", f"Rule threshold: {_fmt_num(threshold_pct)}%")
                   + _el("line", x1=left, x2=left + pw, y1=y(threshold_pct),
                         y2=y(threshold_pct), stroke="currentColor", stroke_width=1.5,
                         stroke_dasharray="6 4")
                   + _el("text", "threshold", x=left + pw - 2, y=y(threshold_pct) - 4,
                         text_anchor="end", font_size=11, fill="currentColor") + "</g>")
    for gi, s in enumerate(series):
        pts = [(x(i), y(v), lab, v, k) for i, (lab, _, v, k) in enumerate(s.points)
               if v is not None]
        if not pts:
            continue
        d = " ".join(f"{'M' if j == 0 else 'L'}{px} {py}" for j, (px, py, *_r) in enumerate(pts))
        out.append(f'<g class="chart-series g{gi % 5}">'
                   + _el("path", d=d, fill="none", stroke="currentColor", stroke_width=2.5,
                         stroke_dasharray=DASHES[gi % len(DASHES)]))
        for px, py, lab, v, k in pts:
            out.append("<g>" + _el("title", f"{s.label}, {lab}: {_fmt_num(round(v, 1))}% "
                                            f"(n={k})")
                       + _marker(gi, px, py) + "</g>")
        out.append("</g>")
    _legend(out, [s.label for s in series], left + pw + 14, top + 10)
    out.append("</svg>")
    return "".join(out)


def _marker(group: int, x: float, y: float) -> str:
    """A shape per group (circle, square, triangle, diamond), so groups differ without colour."""
    shape = group % 4
    if shape == 0:
        return _el("circle", cx=x, cy=y, r=4.5, fill="currentColor")
    if shape == 1:
        return _el("rect", x=x - 4, y=y - 4, width=8, height=8, fill="currentColor")
    if shape == 2:
        return _el("path", d=f"M{x} {y - 5}l5 9h-10z", fill="currentColor")
    return _el("path", d=f"M{x} {y - 5}l5 5l-5 5l-5 -5z", fill="currentColor")


def km_chart(curves: Sequence[Curve], *, title: str = "Still responding (Kaplan-Meier)",
             chart_id: str = "durability", width: int = 760, height: int = 280) -> str:
    """Share still responding against days since onset, a step line per group."""
    t_max = max([s[0] for c in curves for s in c.steps] + [24.0])
    days = t_max / 24
    step_days = next((s for s in (1, 2, 7, 14, 28, 30, 60, 90, 180) if days / s <= 8), 365)
    left, right, top, bottom = 50, 150, 16, 42
    pw, ph = width - left - right, height - top - bottom
    span = step_days * -(-days // step_days) or step_days

    def x(hours: float) -> float:
        return round(left + pw * (hours / 24) / span, 1)

    def y(s: float) -> float:
        return round(top + ph * (1 - s), 1)

    desc = "; ".join(
        f"{c.label}: {c.n} responses"
        + (f", median duration {_fmt_num(round(c.median / 24, 1))} days" if c.median
           else ", median not reached") for c in curves) or "No responders"
    out = _open(width, height, chart_id, title, desc)
    for p in (0, .25, .5, .75, 1):
        out.append(_el("line", class_="chart-grid", x1=left, x2=left + pw, y1=y(p), y2=y(p),
                       stroke="#8888", stroke_width=1))
        out.append(_el("text", _pct(p), x=left - 6, y=y(p) + 4, text_anchor="end", **LABEL))
    d = 0
    while d <= span + 1e-9:
        out.append(_el("text", f"{_fmt_num(d)} d", x=x(d * 24), y=height - bottom + 18,
                       text_anchor="middle", **LABEL))
        d += step_days
    out.append(_el("text", "days since response began", x=left + pw / 2, y=height - 6,
                   text_anchor="middle", **LABEL))
    for gi, c in enumerate(curves):
        path, s_prev = [f"M{x(0)} {y(1)}"], 1.0
        marks = []
        for t, s, at_risk in c.steps:
            path.append(f"H{x(t)}V{y(s)}")
            marks.append(_el("title", f"{c.label}: {_pct(s)} still responding after "
                                      f"{_fmt_num(round(t / 24, 1))} days ({at_risk} at risk)"))
            marks.append(_el("circle", cx=x(t), cy=y(s), r=2.5, fill="currentColor"))
            s_prev = s
        path.append(f"H{x(t_max)}")
        out.append(f'<g class="chart-series g{gi % 5}">'
                   + _el("title", f"{c.label}: {c.n} responses, {_pct(s_prev)} still "
                                  "responding at the last event")
                   + _el("path", d="".join(path), fill="none", stroke="currentColor",
                         stroke_width=2.5, stroke_dasharray=DASHES[gi % len(DASHES)])
                   + "".join(f"<g>{marks[i]}{marks[i + 1]}</g>"
                             for i in range(0, min(len(marks), 400), 2))
                   + "</g>")
    _legend(out, [c.label for c in curves], left + pw + 14, top + 10)
    out.append("</svg>")
    return "".join(out)
