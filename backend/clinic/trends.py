"""PURE: a patient's trend beside the clinic's other patients, and the items that moved most.

No Flask, no database, no clock: the page and the API read the rows (``backend.clinic.
reference``) and hand them here, so both show the same numbers.

Cohort band. The clinic's other patients are aligned by time since their own first dose,
in weeks (week 0 is the first seven days from the first dose, week -1 the seven days
before it), and the band is drawn on this patient's chart from this patient's first dose.
Calendar alignment would compare patients at unrelated points of their treatment; what a
clinician asks is "is this patient doing as others did at the same stage?". Each patient
counts once a week (the mean of their answers that week), so a daily answerer does not
outweigh a weekly one. A week is shown only with at least ``MIN_PATIENTS`` patients.

Items that changed most. Per instrument, each answered item's change from the baseline
answer (the last before the first dose, else the first answer) to the latest answer,
largest first, said as a clinician reads it: "Enjoyment of life 8 → 3 (5 lower, better)".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .words import MONTHS

#: Fewer patients than this in a week: no band that week (an IQR of three says little).
MIN_PATIENTS = 5
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class BandWeek:
    """The other patients' weekly means in one week since their first dose."""

    week: int
    n: int
    q1: float
    median: float
    q3: float

    def to_dict(self) -> dict:
        return {"week": self.week, "n": self.n, "q1": self.q1, "median": self.median,
                "q3": self.q3}


def quantile(ordered: Sequence[float], p: float) -> float:
    """The p-quantile of sorted values by linear interpolation between order statistics
    (Hyndman and Fan type 7: what numpy, R and PostgreSQL's percentile_cont give)."""
    if not ordered:
        raise ValueError("no values")
    h = (len(ordered) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


def band_weeks(means: Iterable[tuple[int, float]], min_patients: int = MIN_PATIENTS
               ) -> list[BandWeek]:
    """(week, one patient's mean that week) rows -> median and quartiles per week, in order.

    Weeks with fewer than ``min_patients`` patients are left out.
    """
    by_week: dict[int, list[float]] = {}
    for week, mean in means:
        by_week.setdefault(week, []).append(mean)
    out = []
    for week in sorted(by_week):
        values = sorted(by_week[week])
        if len(values) < min_patients:
            continue
        out.append(BandWeek(week, len(values), quantile(values, .25), quantile(values, .5),
                            quantile(values, .75)))
    return out


def week_of(at: datetime, first_dose: datetime) -> int:
    """Whole weeks from ``first_dose`` to ``at`` (floor; -1 is the week before the dose)."""
    return math.floor((at - first_dose) / WEEK)


def weeks_between(start: datetime, end: datetime, first_dose: datetime) -> tuple[int, int]:
    """The first and last week (since ``first_dose``) that overlap [start, end]."""
    return week_of(start, first_dose), week_of(end, first_dose)


def week_span(week: int, first_dose: datetime) -> tuple[datetime, datetime]:
    return first_dose + week * WEEK, first_dose + (week + 1) * WEEK


def week_words(week: int) -> str:
    """"week 3 after the first dose", "the week before the first dose"."""
    if week >= 0:
        return f"week {week + 1} after the first dose"
    if week == -1:
        return "the week before the first dose"
    return f"{-week} weeks before the first dose"


def band_summary(weeks: Sequence[BandWeek]) -> str:
    """The band of a chart in one sentence (its numbers are in each week's hover title)."""
    if not weeks:
        return ""
    first, last = weeks[0], weeks[-1]
    span = (week_words(first.week) if first.week == last.week
            else f"from {week_words(first.week)} to {week_words(last.week)}")
    most = max(w.n for w in weeks)
    return (f"Other patients {span}, {most} patients a week at most; in the last of these "
            f"weeks their median was {fmt(last.median)}, middle half {fmt(last.q1)} to "
            f"{fmt(last.q3)}.")


def fmt(value: float) -> str:
    """A score as a clinician reads it: 5, 4.5, 4.33 -> 4.3."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def band_text(week: BandWeek, first_dose: datetime, label: str = "Other patients") -> str:
    """A band week's hover title, e.g. "Other patients, week 2 after the first dose
    (10-17 Mar): median 5, middle half 4 to 6 (12 patients)"."""
    start, end = week_span(week.week, first_dose)
    end = end - timedelta(days=1)
    span = f"{start.day} {MONTHS[start.month]}–{end.day} {MONTHS[end.month]}"
    return (f"{label}, {week_words(week.week)} ({span}): median {fmt(week.median)}, "
            f"middle half {fmt(week.q1)} to {fmt(week.q3)} ({week.n} patients)")


# ---------------------------------------------------------------- items that changed most

@dataclass(frozen=True)
class ItemChange:
    item_id: str
    text: str
    before: float
    after: float
    #: after - before
    change: float
    #: True when the change is an improvement, False when worse, None when unknown or nil.
    better: bool | None
    before_text: str = ""
    after_text: str = ""

    def to_dict(self) -> dict:
        return {"item_id": self.item_id, "text": self.text, "before": self.before,
                "after": self.after, "change": self.change, "better": self.better}


def item_directions(instrument) -> dict[str, str]:
    """Which way is better for each item, from the scores it feeds (reverse-scored items
    flip the score's direction); an item feeding scores that disagree gets none."""
    seen: dict[str, set[str]] = {}
    for score in instrument.scores:
        for ref in score.inputs:
            direction = score.direction
            if ref in score.reverse:
                direction = ("higher_is_better" if direction == "lower_is_better"
                             else "lower_is_better")
            seen.setdefault(ref, set()).add(direction)
    return {ref: next(iter(ds)) for ref, ds in seen.items() if len(ds) == 1}


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _shown(item, value, lang: str, instrument) -> str:
    option = item.option(value) if item is not None and item.kind == "choice" else None
    text = fmt(value)
    return f"{text} ({instrument.text(option.label, lang)})" if option is not None else text


def item_changes(instrument, before: dict, after: dict, lang: str = "en"
                 ) -> list[ItemChange]:
    """Every item answered with a number in both ``before`` and ``after`` (answers dicts),
    largest change first (ties in the instrument's item order)."""
    directions = item_directions(instrument)
    items = {item.id: item for item in instrument.items}
    order = {item_id: n for n, item_id in enumerate(items)}
    out = []
    for item_id in sorted(set(before) & set(after), key=lambda i: order.get(i, len(order))):
        b, a = _number(before[item_id]), _number(after[item_id])
        if b is None or a is None:
            continue
        item = items.get(item_id)
        change = a - b
        direction = directions.get(item_id)
        better = None
        if change and direction:
            better = (change < 0) == (direction == "lower_is_better")
        out.append(ItemChange(
            item_id, instrument.text(item.text, lang) if item is not None else item_id,
            b, a, change, better, _shown(item, b, lang, instrument),
            _shown(item, a, lang, instrument)))
    out.sort(key=lambda c: -abs(c.change))  # stable: item order among equal changes
    return out


def change_words(change: ItemChange) -> str:
    """"8 → 3 (5 lower, better)", "2 → 2 (no change)"."""
    moved = "no change"
    if change.change:
        size = fmt(abs(change.change))
        moved = f"{size} {'higher' if change.change > 0 else 'lower'}"
        if change.better is not None:
            moved += ", better" if change.better else ", worse"
    return f"{change.before_text} → {change.after_text} ({moved})"
