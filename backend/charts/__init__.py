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
from datetime import UTC, datetime, timedelta, tzinfo
from html import escape
from typing import NamedTuple

__all__ = ["Band", "BandBin", "Line", "Marker", "Point", "line_chart"]

#: Pixels between two dose labels (10 px text turned upright) so they never overlap.
DOSE_TEXT_GAP = 14
#: Width allowed per character of a reference line's name (11 px text), and the least
#: height between two names.
REF_CHAR_WIDTH = 7
REF_NAME_GAP = 13
MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec")


class Point(NamedTuple):
    """One answer. A named tuple: a two-year chart draws thousands of these."""

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


class BandBin(NamedTuple):
    """One time bin of a reference band (e.g. other patients' week 3): drawn from ``start``
    to ``end`` at ``low`` .. ``high`` with a line at ``mid``; ``text`` is its hover title."""

    start: datetime
    end: datetime
    low: float
    mid: float
    high: float
    text: str


@dataclass(frozen=True)
class Band:
    """A shaded reference band behind the series, e.g. a cohort's median and IQR."""

    bins: Sequence[BandBin]
    label: str = "Others"


def _fmt_num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


#: "08:00" for each minute of the day, and "3 Oct 2026" for each day met so far: a two-year
#: chart writes thousands of times, and formatting them field by field was its main cost.
CLOCK = tuple(f"{h:02d}:{m:02d}" for h in range(24) for m in range(60))
_DAYS: dict[int, str] = {}


def _day_text(local: datetime) -> str:
    key = local.toordinal()
    text = _DAYS.get(key)
    if text is None:
        if len(_DAYS) > 100_000:  # a bound, never reached by real charts
            _DAYS.clear()
        text = _DAYS[key] = f"{local.day} {MONTHS[local.month]} {local.year}"
    return text


def _fmt_time(at: datetime, tz: tzinfo | None) -> str:
    """"3 Oct 2026 08:00" (what ``strftime("%-d %b %Y %H:%M")`` gives, several times faster)."""
    local = at.astimezone(tz) if tz else at
    return f"{_day_text(local)} {CLOCK[local.hour * 60 + local.minute]}"


_NAMES: dict[str, str] = {}


def _name(key: str) -> str:
    """``stroke_width`` -> ``stroke-width``, ``class_`` -> ``class`` (remembered)."""
    name = _NAMES.get(key)
    if name is None:
        name = _NAMES[key] = key.rstrip("_").replace("_", "-")
    return name


def _a(**attrs) -> str:
    """Attributes as text; strings are escaped, numbers need not be."""
    return " ".join(f'{_name(k)}="{escape(v) if isinstance(v, str) else v}"'
                    for k, v in attrs.items() if v is not None)


def line_chart(series: Sequence[Point], *, doses: Sequence[Marker] = (),
               y_range: tuple[float, float] = (0, 10), direction: str = "lower_is_better",
               baseline: Line | float | None = None, threshold: Line | None = None,
               title: str = "", unit: str = "", tz: tzinfo | None = None,
               x_range: tuple[datetime, datetime] | None = None,
               width: int = 640, height: int = 260, chart_id: str = "chart",
               labels: dict[str, str] | None = None, band: Band | None = None) -> str:
    """Draw one score over time as an SVG line chart; returns the ``<svg>`` element as text.

    ``direction`` names which way is better ("lower_is_better" or "higher_is_better"); it is
    said in the description and marked on the y axis. Points outside their schedule window
    are drawn hollow. ``band`` is shaded behind the series (bins outside the x range are left
    out). ``labels`` overrides the few English words used (for other languages).

    The per-point markup is written with plain string formatting: numbers and times need no
    escaping, and the few words that might (unit, notes, labels) are escaped once.
    """
    words = {"better": "better", "out": "outside its time window", "none": "No answers yet",
             "dose": "Dose"} | (labels or {})
    lo, hi = y_range
    if hi <= lo:
        hi = lo + 1
    lines: list[tuple[str, Line]] = []
    if baseline is not None:
        lines.append(("chart-baseline", baseline if isinstance(baseline, Line)
                      else Line(float(baseline), "Baseline")))
    if threshold is not None:
        lines.append(("chart-threshold", threshold))
    # Reference lines are named in a margin of their own, right of the plot: inside it the
    # names sat on the latest points.
    names_width = max((len(ref.label) for _, ref in lines), default=0) * REF_CHAR_WIDTH
    left, right, top, bottom = 44, 16 + (names_width + 6 if lines else 0), 30, 34
    pw, ph = width - left - right, height - top - bottom
    points = sorted(series, key=lambda p: p.at)
    if x_range:
        t0, t1 = x_range
    elif points or doses:
        times = [d.at for d in doses]
        if points:
            times += [points[0].at, points[-1].at]
        t0, t1 = min(times), max(times)
    else:
        t0 = t1 = None
    if t0 is not None and t1 - t0 < timedelta(days=1):
        t0, t1 = t0 - timedelta(hours=12), t1 + timedelta(hours=12)
    x_origin = t0.timestamp() if t0 is not None else 0.0
    x_scale = pw / (t1 - t0).total_seconds() if t0 is not None else 0.0
    y_scale = ph / (hi - lo)

    def x(at: datetime) -> float:
        return round(left + (at.timestamp() - x_origin) * x_scale, 1)


    def y(v: float) -> float:
        v = min(max(v, lo), hi)
        return round(top + ph - (v - lo) * y_scale, 1)

    better_up = direction == "higher_is_better"
    safe_unit = escape(unit)
    desc = (f"{title}: {len(points)} answers"
            + (f", latest {_fmt_num(points[-1].value)}{unit} on {_fmt_time(points[-1].at, tz)}"
               if points else "")
            + f". {'Higher' if better_up else 'Lower'} is {words['better']}."
            + (f" {len(doses)} doses marked." if doses else "")
            + (f" Shaded: {band.label}." if band is not None and band.bins else ""))
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
        out.append(f'<line class="chart-grid" x1="{left}" x2="{left + pw}" y1="{yy}" '
                   f'y2="{yy}" stroke="#8888" stroke-width="1"/><text class="chart-label" '
                   f'x="{left - 6}" y="{yy + 4}" text-anchor="end" font-size="12" '
                   f'fill="currentColor">{_fmt_num(v)}</text>')
        v += step
    out.append(_el("text", f"{'↑' if better_up else '↓'} {words['better']}", x=4, y=16, **label))
    if t0 is None or not points:
        out.append(_el("text", words["none"], class_="chart-empty", x=left + pw / 2,
                       y=top + ph / 2, text_anchor="middle", font_size=14, fill="currentColor"))
    if t0 is not None:
        out.append(_el("text", _fmt_time(t0, tz)[:-6], x=left, y=height - 8, **label))
        out.append(_el("text", _fmt_time(t1, tz)[:-6], x=left + pw, y=height - 8,
                       text_anchor="end", **label))
    if band is not None and t0 is not None:
        out.append(_band(band, t0, t1, x, y))
    for (cls, ref), name_y in zip(lines, _apart([y(ref.value) for _, ref in lines]),
                                  strict=True):
        yy = y(ref.value)
        out.append(f'<g class="{cls}">'
                   + _el("title", f"{ref.label}: {_fmt_num(ref.value)}{unit}")
                   + _el("line", x1=left, x2=left + pw, y1=yy, y2=yy, stroke="currentColor",
                         stroke_width=1.5, stroke_dasharray="6 4")
                   + _el("text", ref.label, x=left + pw + 6, y=round(name_y + 4, 1),
                         class_="chart-ref-name", font_size=11, fill="currentColor") + "</g>")
    last_text_x = None  # a label is written only where it does not overlap the previous one
    for dose in sorted(doses, key=lambda d: d.at) if t0 is not None else ():
        if not t0 <= dose.at <= t1:
            continue
        xx = x(dose.at)
        show_text = bool(dose.text) and (last_text_x is None
                                         or xx - last_text_x >= DOSE_TEXT_GAP)
        if show_text:
            last_text_x = xx
        text = (f'<text class="chart-dose-text" x="{xx + 3}" y="{top + 4}" font-size="10" '
                f'fill="currentColor" transform="rotate(90 {xx + 3} {top + 4})">'
                f'{escape(dose.text)}</text>' if show_text else "")
        out.append(f'<g class="chart-dose"><title>{escape(dose.label)}: '
                   f'{_fmt_time(dose.at, tz)}</title><line x1="{xx}" x2="{xx}" y1="{top}" '
                   f'y2="{top + ph}" stroke="currentColor" stroke-width="1" '
                   f'stroke-dasharray="2 3"/><path d="M{xx - 5} {top - 10}h10l-5 8z" '
                   f'fill="currentColor"/>{text}</g>')
    if points:
        out.append(_series(points, (left, x_origin, x_scale), y, tz, safe_unit,
                           escape(words["out"]), _radius(pw / len(points))))
    out.append("</svg>")
    return "".join(out)


def _radius(spacing: float) -> float:
    """Point size for points ``spacing`` pixels apart on average: 5 where they stand apart;
    down to 2 where there are so many (a year of daily answers) that full-size points would
    merge into a solid band and hide the line."""
    return 5 if spacing >= 12 else 3 if spacing >= 5 else 2


def _series(points: Sequence[Point], x_at: tuple[float, float, float], y, tz: tzinfo | None,
            unit: str, out_words: str, radius: float) -> str:
    """The line and one titled circle per point (hollow when outside its window).

    Shared presentation attributes sit on the enclosing group; each point keeps its own
    ``<g class="chart-point">`` so pages can style it. ``unit`` and ``out_words`` come escaped;
    ``x_at`` is (left, origin timestamp, pixels per second). This loop is the hot path of a
    two-year chart: each distinct value's y and text are worked out once, UTC times shown in
    UTC are not converted, and each point is one formatted string.
    """
    left, origin, scale = x_at
    by_value: dict[float, tuple[float, str]] = {}
    path, marks = [], []
    plain = tz is None or tz is UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC")
    for at, value, in_window, note in points:
        cx = f"{left + (at.timestamp() - origin) * scale:.1f}"
        seen = by_value.get(value)
        if seen is None:
            seen = by_value[value] = (y(value), _fmt_num(value) + unit)
        cy, shown = seen
        path.append(f"{cx} {cy}")
        local = at if plain and at.tzinfo is UTC else at.astimezone(tz)
        tip = f"{_day_text(local)} {CLOCK[local.hour * 60 + local.minute]}: {shown}"
        if note:
            tip += f" ({escape(note)})"
        if in_window is False:  # drawn hollow
            kind, tip, fill = "chart-point out", f"{tip}, {out_words}", ' fill="none"'
        else:
            kind, fill = "chart-point", ""
        marks.append(f'<g class="{kind}"><title>{tip}</title>'
                     f'<circle cx="{cx}" cy="{cy}" r="{radius}"{fill}/></g>')
    return ('<path class="chart-line" d="M' + " L".join(path) + '" fill="none" '
            'stroke="currentColor" stroke-width="2.5" stroke-linejoin="round"/>'
            '<g class="chart-points" stroke="currentColor" stroke-width="2" '
            'fill="currentColor">' + "".join(marks) + "</g>")


def _band(band: Band, t0: datetime, t1: datetime, x, y) -> str:
    """Bins as steps: a shaded area from low to high, a line at mid, a hover title per bin.

    Consecutive bins join into one area; a gap (a bin left out) starts a new one.
    """
    runs: list[list[tuple[float, float, BandBin]]] = []
    last_end = None
    for b in sorted(band.bins, key=lambda b: b.start):
        if b.end <= t0 or b.start >= t1:
            continue
        x0, x1 = x(max(b.start, t0)), x(min(b.end, t1))
        if last_end is None or b.start != last_end:
            runs.append([])
        runs[-1].append((x0, x1, b))
        last_end = b.end
    if not runs:
        return ""
    out = [f'<g class="chart-band"><title>{escape(band.label)}</title>']
    for run in runs:
        upper = " ".join(f"L{x0} {y(b.high)} L{x1} {y(b.high)}" for x0, x1, b in run)
        lower = " ".join(f"L{x1} {y(b.low)} L{x0} {y(b.low)}" for x0, x1, b in reversed(run))
        mid = " ".join(f"L{x0} {y(b.mid)} L{x1} {y(b.mid)}" for x0, x1, b in run)
        out.append(f'<path class="chart-band-iqr" d="M{upper[1:]} {lower}Z" fill="currentColor" '
                   'fill-opacity="0.18" stroke="none"/>'
                   f'<path class="chart-band-median" d="M{mid[1:]}" fill="none" '
                   'stroke="currentColor" stroke-width="1.5" stroke-opacity="0.7"/>')
    for run in runs:
        for x0, x1, b in run:
            top, bottom = y(b.high), y(b.low)
            out.append(f'<g class="chart-band-bin"><title>{escape(b.text)}</title>'
                       f'<rect x="{x0}" y="{min(top, bottom - 4)}" width="{round(x1 - x0, 1)}" '
                       f'height="{max(round(bottom - top, 1), 4)}" fill="transparent"/></g>')
    out.append("</g>")
    return "".join(out)


def _apart(ys: list[float]) -> list[float]:
    """Label heights for lines at ``ys``: the same, except that two closer than
    REF_NAME_GAP move apart evenly about their middle (a baseline and a threshold near it)."""
    if len(ys) == 2 and abs(ys[0] - ys[1]) < REF_NAME_GAP:
        middle, half = (ys[0] + ys[1]) / 2, REF_NAME_GAP / 2
        return [middle - half, middle + half] if ys[0] <= ys[1] else [middle + half, middle - half]
    return ys


def _el(tag: str, text: str | None = None, **attrs) -> str:
    """One SVG element; ``text`` is escaped. Attribute names: ``stroke_width`` -> stroke-width."""
    head = f"<{tag} {_a(**attrs)}".rstrip()
    return f"{head}/>" if text is None else f"{head}>{escape(text)}</{tag}>"


def _nice_step(span: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if span / step <= 6:
            return step
    return span / 5
