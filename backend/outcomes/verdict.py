"""What `evaluate` returns: one verdict per anchor, with its follow-ups and trajectory.

Follow-up rows are built when they are read, not during evaluation: a cohort of 10,000
patients needs the verdicts and a few changes per anchor, not half a million row objects.
For that each verdict keeps a `view` (left out of equality and repr) onto its patient's
sorted series: the anchor, the baseline, the criteria limits and two index ranges.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from backend.outcomes.model import HOUR_MICROS, Dose, from_micros, hours_micros

if TYPE_CHECKING:
    from backend.outcomes.evaluate import Plan

Verdict = Literal["responder", "non_responder", "not_evaluable"]
#: Reasons for 'not_evaluable', in the order they are checked.
REASONS = ("no_baseline", "baseline_zero", "no_followup", "out_of_window")


def iso(at: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC, for JSON."""
    return None if at is None else at.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One score after the anchor, compared with the baseline.

    change_abs and change_pct are the signed score change as clinicians read it (x - baseline;
    "fatigue -38.7%"); improvement_pct has the sign of the instrument's direction (positive is
    better). `counted` is False for an answer outside its schedule window when the rule
    requires in-window answers. rc/reliable: Jacobson-Truax, when the rule gives sd and
    reliability.
    """

    at: datetime
    hours: float
    value: float
    change_abs: float | None
    change_pct: float | None
    improvement_pct: float | None
    meets: bool
    in_window: bool | None
    counted: bool
    rc: float | None = None
    reliable: bool | None = None
    assessment_id: int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in FOLLOWUP_FIELDS}
        out["at"] = iso(self.at)
        return out


FOLLOWUP_FIELDS = tuple(FollowUp.__dataclass_fields__)


def percent_change(x: float, base: float) -> float | None:
    """100 * (x - base) / |base|; None when it cannot be told (base 0, or too near 0)."""
    if not base:
        return None
    change = 100.0 * (x - base) / abs(base)
    return change if -math.inf < change < math.inf else None


class Series:
    """One patient's usable points sorted by time, as parallel columns.

    `ats` are instants as integer microseconds since the epoch (UTC): comparing and
    subtracting them is exact to the microsecond, whatever zone the answers were given in.
    `times`, `in_window` and `assessment_ids` are only read to build follow-up rows: `times`
    holds the points' own datetimes when the caller gave datetimes (None: made from `ats`
    in UTC); a column left None reads as None for every point.
    """

    __slots__ = ("ats", "values", "counted", "times", "in_window", "assessment_ids")

    def __init__(self, ats: Sequence[int], values: Sequence[float],
                 counted: Sequence[bool] | None, times: Sequence[datetime] | None = None,
                 in_window: Sequence[bool | None] | None = None,
                 assessment_ids: Sequence[Any] | None = None):
        self.ats = ats
        self.values = values
        #: None when every point counts; else whether each point may decide a verdict.
        self.counted = counted
        self.times = times
        self.in_window = in_window
        self.assessment_ids = assessment_ids

    def when(self, i: int) -> datetime:
        """Point i's time as an aware datetime."""
        return from_micros(self.ats[i]) if self.times is None else self.times[i]


class View:
    """Where one anchor sits in its patient's series; builds FollowUp rows on demand."""

    __slots__ = ("series", "plan", "anchor", "baseline", "limits", "window", "trajectory")

    def __init__(self, series: Series, plan: Plan, anchor: int, baseline: float | None,
                 limits: tuple[float, float] | None, window: tuple[int, int],
                 trajectory: tuple[int, int]):
        self.series = series
        self.plan = plan
        #: The anchor time (microseconds since the epoch).
        self.anchor = anchor
        self.baseline = baseline
        #: Score limits that a meeting point must reach; None when nothing can be judged.
        self.limits = limits
        #: Index ranges [lo, hi) into the series.
        self.window = window
        self.trajectory = trajectory

    def _values(self, i: int) -> tuple:
        """The FollowUp fields of series point i, in field order."""
        series, plan, base = self.series, self.plan, self.baseline
        x = series.values[i]
        change_abs = change_pct = improvement_pct = rc = reliable = None
        if base is not None:
            change_abs = x - base
            change_pct = percent_change(x, base)
            if change_pct is not None:
                improvement_pct = change_pct if plan.higher else -change_pct
            if plan.rc_scale is not None:
                rc = change_abs / plan.rc_scale
                reliable = abs(rc) > 1.96
        meets = self.limits is not None and plan.meets_many((x,), *self.limits)[0]
        counted = series.counted is None or series.counted[i]
        in_window = None if series.in_window is None else series.in_window[i]
        assessment_id = None if series.assessment_ids is None else series.assessment_ids[i]
        return (series.when(i), (series.ats[i] - self.anchor) / HOUR_MICROS, x, change_abs,
                change_pct, improvement_pct, meets, in_window, counted, rc, reliable,
                assessment_id)

    def rows(self, bounds: tuple[int, int]) -> tuple[FollowUp, ...]:
        return tuple(FollowUp(*self._values(i)) for i in range(*bounds))

    def row_dicts(self, bounds: tuple[int, int]) -> list[dict[str, Any]]:
        """As [row.to_dict() for row in rows(bounds)], without building the rows.

        Worked out column-wise over the range (whether each point meets the criteria in one
        call, times in UTC text straight from the instants when the caller gave none): the
        patient page and the API turn every verdict's follow-ups into these.
        """
        lo, hi = bounds
        if lo >= hi:
            return []
        series, plan, base, anchor = self.series, self.plan, self.baseline, self.anchor
        xs = series.values[lo:hi]
        n = hi - lo
        meets = ([False] * n if self.limits is None
                 else plan.meets_many(xs, *self.limits))
        counted = [True] * n if series.counted is None else series.counted[lo:hi]
        windows = [None] * n if series.in_window is None else series.in_window[lo:hi]
        ids = [None] * n if series.assessment_ids is None else series.assessment_ids[lo:hi]
        ats = series.ats[lo:hi]
        if series.times is None:
            times = [from_micros(at).isoformat() for at in ats]
        else:
            times = [iso(at) for at in series.times[lo:hi]]
        higher, rc_scale = plan.higher, plan.rc_scale
        out = []
        for at, text, x, meet, count, window, assessment_id in zip(
                ats, times, xs, meets, counted, windows, ids, strict=True):
            change_abs = change_pct = improvement_pct = rc = reliable = None
            if base is not None:
                change_abs = x - base
                change_pct = percent_change(x, base)
                if change_pct is not None:
                    improvement_pct = change_pct if higher else -change_pct
                if rc_scale is not None:
                    rc = change_abs / rc_scale
                    reliable = abs(rc) > 1.96
            out.append({"at": text, "hours": (at - anchor) / HOUR_MICROS, "value": x,
                        "change_abs": change_abs, "change_pct": change_pct,
                        "improvement_pct": improvement_pct, "meets": meet,
                        "in_window": window, "counted": count, "rc": rc,
                        "reliable": reliable, "assessment_id": assessment_id})
        return out

    def changes_near(self, targets: Sequence[tuple[int, int, int]]) -> list[float | None]:
        """Signed % change of the counted point nearest each (nominal, low, high) offset.

        Offsets are microseconds after the anchor (see `hours_micros`); targets must be sorted
        by `low`. The earlier point wins a tie. See `changes_near`.
        """
        return changes_near(self.series, self.anchor, self.baseline, *self.trajectory, targets)


def changes_near(series: Series, anchor: int, base: float | None, lo: int, hi: int,
                 targets: Sequence[tuple[int, int, int]]) -> list[float | None]:
    """Signed % change from `base` of the counted point of series[lo:hi] nearest each
    (nominal, low, high) offset after `anchor`; None where no counted point lies in
    [anchor + low, anchor + high], or the change cannot be told.

    Targets must be sorted by `low`; the earlier point wins a tie. This runs once per anchor
    of a cohort, so it bisects: when every point counts, the nearest point is the first at or
    after the nominal time or the earliest of those at the last time before it.
    """
    scale = 100.0 / abs(base) if base and lo < hi else math.inf
    if scale == math.inf:  # no baseline, baseline 0 (or nearly), or no trajectory
        return [None] * len(targets)
    ats, values, counted = series.ats, series.values, series.counted
    first, last = ats[lo] - anchor, ats[hi - 1] - anchor  # the trajectory's own span
    out: list[float | None] = []
    for nominal, low, high in targets:
        if low > last:  # nothing this late, nor for any later target
            break
        if high < first:
            out.append(None)
            continue
        if counted is None and low <= nominal <= high:
            # Every point counts: the nearest is the first at or after the nominal time, or
            # the earliest of those at the last time before it (the earlier wins a tie).
            target = anchor + nominal
            k = bisect_left(ats, target, lo, hi)
            before = ats[k - 1] if k > lo and ats[k - 1] >= anchor + low else None
            if k < hi and ats[k] <= anchor + high and (
                    before is None or ats[k] - target < target - before):
                best = k
            elif before is None:
                out.append(None)
                continue
            elif k - 2 >= lo and ats[k - 2] == before:
                best = bisect_left(ats, before, lo, k - 1)
            else:
                best = k - 1
        else:
            i = lo if low <= first else bisect_left(ats, anchor + low, lo, hi)
            best, best_gap, target, end = -1, None, anchor + nominal, anchor + high
            while i < hi and ats[i] <= end:
                if counted is None or counted[i]:
                    gap = abs(ats[i] - target)
                    if best_gap is None or gap < best_gap:
                        best, best_gap = i, gap
                i += 1
            if best < 0:
                out.append(None)
                continue
        change = (values[best] - base) * scale
        out.append(change if -math.inf < change < math.inf else None)
    if len(out) < len(targets):
        out.extend([None] * (len(targets) - len(out)))
    return out


def _of_dose(name: str) -> property:
    """A read-only attribute that is the anchor dose's own (``dose.<name>``), read in C."""
    return property(attrgetter(f"dose.{name}"), doc=f"The anchor dose's {name}.")


class Judged(NamedTuple):
    """What cohort statistics read of one anchor's verdict (see `cohort.judge_columns`).

    `outcome` is the verdict, or the reason when not evaluable; `changes` the signed % change
    at each time point target, in the order `cohort.summarize_judged` gives them.
    """

    dose: Dose
    outcome: str
    duration_hours: float | None
    censored: bool
    baseline: float | None
    changes: list[float | None]

    anchor_at = _of_dose("at")
    arm = _of_dose("arm")
    period = _of_dose("period")
    drug = _of_dose("drug")


@dataclass(frozen=True, slots=True, init=False)
class AnchorVerdict:
    """The verdict for one anchor (a dose, or a course judged from its first or last dose).

    `dose` is the anchor dose; its id, time, course, session, arm, period and drug are also
    readable as anchor_dose_id, anchor_at, course ... Hours are counted from `anchor_at`.
    onset_hours: when the evidence that made the anchor a responder begins (the first meeting
    point for 'any', the first point for 'all', the deciding point for 'nearest', the start
    of the first long-enough run for 'sustained'). loss_hours: the first counted point after
    onset, up to the next anchor of the rule, that no longer meets the criteria.
    duration_hours: loss - onset, or, when no loss was seen (`censored`), the last meeting
    point - onset.
    """

    dose: Dose
    verdict: Verdict
    reason: str | None
    baseline: float | None
    baseline_at: datetime | None
    baseline_n: int
    onset_hours: float | None
    loss_hours: float | None
    duration_hours: float | None
    censored: bool
    dose_ids: tuple[int | str, ...]
    view: View | None = field(default=None, repr=False, compare=False)

    def __init__(self, dose: Dose, verdict: Verdict, reason: str | None, baseline: float | None,
                 baseline_at: datetime | None, baseline_n: int, onset_hours: float | None,
                 loss_hours: float | None, duration_hours: float | None, censored: bool,
                 dose_ids: tuple[int | str, ...], view: View | None = None):
        # The generated __init__ of a frozen dataclass, written out with object.__setattr__
        # looked up once: it takes half the time, and a cohort builds tens of thousands.
        set_field = object.__setattr__
        set_field(self, "dose", dose)
        set_field(self, "verdict", verdict)
        set_field(self, "reason", reason)
        set_field(self, "baseline", baseline)
        set_field(self, "baseline_at", baseline_at)
        set_field(self, "baseline_n", baseline_n)
        set_field(self, "onset_hours", onset_hours)
        set_field(self, "loss_hours", loss_hours)
        set_field(self, "duration_hours", duration_hours)
        set_field(self, "censored", censored)
        set_field(self, "dose_ids", dose_ids)
        set_field(self, "view", view)

    anchor_dose_id = _of_dose("id")
    anchor_at = _of_dose("at")
    course = _of_dose("course")
    session = _of_dose("session")
    arm = _of_dose("arm")
    period = _of_dose("period")
    drug = _of_dose("drug")

    @property
    def evaluable(self) -> bool:
        return self.verdict != "not_evaluable"

    @property
    def responder(self) -> bool:
        return self.verdict == "responder"

    @property
    def followups(self) -> tuple[FollowUp, ...]:
        """Every point inside the rule's window (also those that did not count)."""
        return () if self.view is None else self.view.rows(self.view.window)

    @property
    def trajectory(self) -> tuple[FollowUp, ...]:
        """Every point from the anchor up to 5,040 h (month 6 + 30 days) or the next anchor."""
        return () if self.view is None else self.view.rows(self.view.trajectory)

    def change_pct_near(self, nominal_hours: float, tolerance_hours: float) -> float | None:
        """Signed % change of the counted trajectory point nearest a nominal time."""
        if self.view is None:
            return None
        nominal, tolerance = hours_micros(nominal_hours), hours_micros(tolerance_hours)
        return self.view.changes_near(((nominal, nominal - tolerance, nominal + tolerance),))[0]

    def to_dict(self, *, trajectory: bool = True) -> dict[str, Any]:
        out = {
            "anchor_dose_id": self.anchor_dose_id,
            "anchor_at": iso(self.anchor_at),
            "course": self.course,
            "session": self.session,
            "arm": self.arm,
            "period": self.period,
            "drug": self.drug,
            "verdict": self.verdict,
            "reason": self.reason,
            "baseline": self.baseline,
            "baseline_at": iso(self.baseline_at),
            "baseline_n": self.baseline_n,
            "onset_hours": self.onset_hours,
            "loss_hours": self.loss_hours,
            "duration_hours": self.duration_hours,
            "censored": self.censored,
            "dose_ids": list(self.dose_ids),
            "followups": [] if self.view is None else self.view.row_dicts(self.view.window),
        }
        if trajectory:
            out["trajectory"] = [] if self.view is None else self.view.row_dicts(
                self.view.trajectory)
        return out

