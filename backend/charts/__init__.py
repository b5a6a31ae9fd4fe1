"""PURE: score series in, SVG text out. No Flask, no database, no clock.

The SVG uses presentation attributes and classes only (the CSP forbids inline styles), so a
page's CSS can restyle it (dark mode, print) and it still draws sensibly on its own. Every
point carries a ``<title>`` (shown on hover and read by screen readers); the chart as a whole
is ``role="img"`` with a title and a description.

Used by the patient's "My progress" page and meant for the clinician trend page too::

    svg = line_chart([Point(t1, 12), Point(t2, 7, in_window=False)],
                     doses=[Marker(t0, "Dose 1")], y_range=(0, 27), baseline=12,
                     threshold=Line(5, "Remission"), title="PHQ-9", tz=ZoneInfo("Europe/Oslo"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from html import escape

__all__ = ["Line", "Marker", "Point", "line_chart"]

#: Pixels between two dose labels (10 px text turned upright) so they never overlap.
DOSE_TEXT_GAP = 14


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    in_window: bool | None = None
    #: Extra text for the point's tooltip (e.g. "moderate").
    note: str = ""


@dataclass(frozen=True)
class Marker:
    """A vertical mark at a time, e.g. a dose."""

    at: datetime
    label: str
    #: Drawn beside the mark (e.g. "ketamine 0.5 mg/kg"); the full label stays in its title.
    text: str = ""


@dataclass(frozen=True)
class Line:
    """A horizontal reference line, e.g. a baseline or a response threshold."""

    value: float
    label: str


def _fmt_num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def _fmt_time(at: datetime, tz: tzinfo | None) -> str:
    local = at.astimezone(tz) if tz else at
    return local.strftime("%-d %b %Y %H:%M")


def _a(**attrs) -> str:
    return " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
                    for k, v in attrs.items() if v is not None)


def line_chart(series: Sequence[Point], *, doses: Sequence[Marker] = (),
               y_range: tuple[float, float] = (0, 10), direction: str = "lower_is_better",
               baseline: Line | float | None = None, threshold: Line | None = None,
               title: str = "", unit: str = "", tz: tzinfo | None = None,
               x_range: tuple[datetime, datetime] | None = None,
               width: int = 640, height: int = 260, chart_id: str = "chart",
               labels: dict[str, str] | None = None) -> str:
    """Draw one score over time as an SVG line chart; returns the ``<svg>`` element as text.

    ``direction`` names which way is better ("lower_is_better" or "higher_is_better"); it is
    said in the description and marked on the y axis. Points outside their schedule window
    are drawn hollow. ``labels`` overrides the few English words used (for other languages).
    """
    words = {"better": "better", "out": "outside its time window", "none": "No answers yet",
             "dose": "Dose"} | (labels or {})
    lo, hi = y_range
    if hi <= lo:
        hi = lo + 1
    left, right, top, bottom = 44, 16, 30, 34
    pw, ph = width - left - right, height - top - bottom
    points = sorted(series, key=lambda p: p.at)
    times = [p.at for p in points] + [d.at for d in doses]
    if x_range:
        t0, t1 = x_range
    elif times:
        t0, t1 = min(times), max(times)
    else:
        t0 = t1 = None
    if t0 is not None and t1 - t0 < timedelta(days=1):
        t0, t1 = t0 - timedelta(hours=12), t1 + timedelta(hours=12)

    def x(at: datetime) -> float:
        return round(left + pw * (at - t0) / (t1 - t0), 1)

    def y(v: float) -> float:
        v = min(max(v, lo), hi)
        return round(top + ph * (1 - (v - lo) / (hi - lo)), 1)

    better_up = direction == "higher_is_better"
    desc = (f"{title}: {len(points)} answers"
            + (f", latest {_fmt_num(points[-1].value)}{unit} on {_fmt_time(points[-1].at, tz)}"
               if points else "")
            + f". {'Higher' if better_up else 'Lower'} is {words['better']}."
            + (f" {len(doses)} doses marked." if doses else ""))
    cid = escape(chart_id)
    label = {"class_": "chart-label", "font_size": 12, "fill": "currentColor"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" '
           f'{_a(viewBox=f"0 0 {width} {height}", class_="chart", role="img")} '
           f'aria-labelledby="{cid}-t {cid}-d" preserveAspectRatio="xMidYMid meet">',
           f'<title id="{cid}-t">{escape(title)}</title>',
           f'<desc id="{cid}-d">{escape(desc)}</desc>']
    step = _nice_step(hi - lo)
    v = lo
    while v <= hi + 1e-9:  # y grid and labels
        yy = y(v)
        out.append(_el("line", class_="chart-grid", x1=left, x2=left + pw, y1=yy, y2=yy,
                       stroke="#8888", stroke_width=1))
        out.append(_el("text", _fmt_num(v), x=left - 6, y=yy + 4, text_anchor="end", **label))
        v += step
    out.append(_el("text", f"{'↑' if better_up else '↓'} {words['better']}", x=4, y=16, **label))
    if t0 is None or not points:
        out.append(_el("text", words["none"], class_="chart-empty", x=left + pw / 2,
                       y=top + ph / 2, text_anchor="middle", font_size=14, fill="currentColor"))
    if t0 is not None:
        out.append(_el("text", _fmt_time(t0, tz)[:-6], x=left, y=height - 8, **label))
        out.append(_el("text", _fmt_time(t1, tz)[:-6], x=left + pw, y=height - 8,
                       text_anchor="end", **label))
    lines = []
    if baseline is not None:
        lines.append(("chart-baseline", baseline if isinstance(baseline, Line)
                      else Line(float(baseline), "Baseline")))
    if threshold is not None:
        lines.append(("chart-threshold", threshold))
    for cls, ref in lines:
        yy = y(ref.value)
        out.append(f'<g class="{cls}">'
                   + _el("title", f"{ref.label}: {_fmt_num(ref.value)}{unit}")
                   + _el("line", x1=left, x2=left + pw, y1=yy, y2=yy, stroke="currentColor",
                         stroke_width=1.5, stroke_dasharray="6 4")
                   + _el("text", ref.label, x=left + pw - 2, y=yy - 4, text_anchor="end",
                         font_size=11, fill="currentColor") + "</g>")
    last_text_x = None  # a label is written only where it does not overlap the previous one
    for dose in sorted(doses, key=lambda d: d.at) if t0 is not None else ():
        if not t0 <= dose.at <= t1:
            continue
        xx = x(dose.at)
        show_text = bool(dose.text) and (last_text_x is None
                                         or xx - last_text_x >= DOSE_TEXT_GAP)
        if show_text:
            last_text_x = xx
        out.append('<g class="chart-dose">'
                   + _el("title", f"{dose.label}: {_fmt_time(dose.at, tz)}")
                   + _el("line", x1=xx, x2=xx, y1=top, y2=top + ph, stroke="currentColor",
                         stroke_width=1, stroke_dasharray="2 3")
                   + _el("path", d=f"M{xx - 5} {top - 10}h10l-5 8z", fill="currentColor")
                   + (_el("text", dose.text, class_="chart-dose-text", x=xx + 3, y=top + 4,
                          font_size=10, fill="currentColor",
                          transform=f"rotate(90 {xx + 3} {top + 4})") if show_text else "")
                   + "</g>")
    if points:
        d = " ".join(f"{'M' if i == 0 else 'L'}{x(p.at)} {y(p.value)}"
                     for i, p in enumerate(points))
        out.append(_el("path", class_="chart-line", d=d, fill="none", stroke="currentColor",
                       stroke_width=2.5, stroke_linejoin="round"))
        for p in points:
            hollow = p.in_window is False
            tip = f"{_fmt_time(p.at, tz)}: {_fmt_num(p.value)}{unit}"
            tip += f" ({p.note})" if p.note else ""
            tip += f", {words['out']}" if hollow else ""
            out.append(f'<g class="chart-point{" out" if hollow else ""}">' + _el("title", tip)
                       + _el("circle", cx=x(p.at), cy=y(p.value), r=5, stroke="currentColor",
                             stroke_width=2, fill="none" if hollow else "currentColor")
                       + "</g>")
    out.append("</svg>")
    return "".join(out)


def _el(tag: str, text: str | None = None, **attrs) -> str:
    """One SVG element; ``text`` is escaped. Attribute names: ``stroke_width`` -> stroke-width."""
    head = f"<{tag} {_a(**attrs)}".rstrip()
    return f"{head}/>" if text is None else f"{head}>{escape(text)}</{tag}>"


def _nice_step(span: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if span / step <= 6:
            return step
    return span / 5
