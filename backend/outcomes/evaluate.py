"""Score series + doses + rule -> one verdict per anchor.

How the rule is applied (the DESIGN defaults, written down):

- Time is elapsed real time: every time becomes an instant (integer microseconds since the
  epoch, UTC) before it is compared or subtracted, so daylight-saving changes shift nothing,
  window edges are exact to the microsecond, and a duration between two answers given in one
  local zone is real hours too (Python subtracts two datetimes of one zone on the wall clock).
- Anchors. each_session: every dose. first_of_course: the first dose of each course (doses
  sharing a non-null `course`; a dose without one is a course of its own). last_of_course:
  follow-up hours counted from the last dose of the course. In every case the baseline is
  taken before the FIRST dose of the anchor's course (for each_session, before that dose).
- Baseline: the last score (or the mean) in [first dose - span, first dose), strictly before.
  With daily sessions the baseline of session 2 may be a score taken after session 1: each
  anchor is judged on its own, as DESIGN says.
- Windows may overlap: a point counts for every anchor whose window holds it.
- Loss of response and the trajectory stop at the next anchor (the first dose of the next
  anchor's course); the trajectory also stops at 5,040 h.
- require_in_window: only answers inside their schedule window (in_window is True) decide the
  verdict, onset, loss and the time-point changes; the baseline may be any answer.
- A criterion threshold is met within 1e-9 of the score scale, so a drop of exactly 20% meets
  ">= 20%". Percent changes divide by |baseline|.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import islice
from operator import itemgetter, lt
from typing import Any

from backend.outcomes.model import (
    HOUR_MICROS,
    Dose,
    Rule,
    ScorePoint,
    hours_micros,
    to_micros,
)
from backend.outcomes.verdict import AnchorVerdict, Judged, Series, View, changes_near

#: How far after an anchor the trajectory (used for time-point statistics) reaches.
TRAJECTORY_HOURS = 4320 + 720
_TRAJECTORY = hours_micros(TRAJECTORY_HOURS)


def _lower_all(xs: Iterable[float], a: float, s: float) -> list[bool]:
    return [x <= a and x < s for x in xs]


def _lower_any(xs: Iterable[float], a: float, s: float) -> list[bool]:
    return [x <= a or x < s for x in xs]


def _higher_all(xs: Iterable[float], a: float, s: float) -> list[bool]:
    return [x >= a and x > s for x in xs]


def _higher_any(xs: Iterable[float], a: float, s: float) -> list[bool]:
    return [x >= a or x > s for x in xs]


#: Whether each score meets the rule, given (inclusive, strict) limits; by (higher, any mode).
_MEETS = {
    (False, False): _lower_all,
    (False, True): _lower_any,
    (True, False): _higher_all,
    (True, True): _higher_any,
}


def _hours(hours: float | None) -> int | None:
    return None if hours is None else hours_micros(hours)


class Plan:
    """A rule turned into the values the evaluation loop needs (built once per rule).

    Spans and offsets are in microseconds, rounded as ``timedelta(hours=...)`` rounds them.
    """

    __slots__ = ("higher", "pick", "improve", "cut_inclusive", "cut_strict", "has_percent",
                 "mean", "span", "start", "end", "evaluation", "nominal", "tolerance",
                 "sustained", "require", "rc_scale", "anchor", "meets_many")

    def __init__(self, rule: Rule):
        any_mode = rule.criteria.mode == "any"
        self.higher = rule.direction == "higher_is_better"
        self.meets_many: Callable[..., list[bool]] = _MEETS[(self.higher, any_mode)]
        #: How limits combine: the strictest when all must hold, the loosest when any may.
        self.pick = min if self.higher == any_mode else max
        items = rule.criteria.items
        #: (absolute step, fraction of |baseline|) for each improvement criterion.
        self.improve = tuple(
            (float(c.value), 0.0) if c.kind == "absolute_improvement" else (0.0, c.value / 100.0)
            for c in items if c.kind != "cutoff"
        )
        empty = math.inf if self.pick is min else -math.inf
        self.cut_inclusive = self.pick((c.value for c in items if c.kind == "cutoff"
                                        and c.inclusive), default=empty)
        self.cut_strict = self.pick((c.value for c in items if c.kind == "cutoff"
                                     and not c.inclusive), default=empty)
        self.has_percent = rule.has_percent
        self.mean = rule.baseline.method == "mean"
        self.span = hours_micros(rule.baseline.span_hours)
        window = rule.window
        self.start = hours_micros(window.start_hours)
        self.end = hours_micros(window.end_hours)
        self.evaluation = window.evaluation
        self.nominal = _hours(window.nominal_hours)
        self.tolerance = _hours(window.tolerance_hours)
        self.sustained = _hours(window.sustained_hours)
        self.require = rule.require_in_window
        self.rc_scale = None
        if rule.sd is not None and rule.reliability is not None:
            self.rc_scale = math.sqrt(2.0) * rule.sd * math.sqrt(1.0 - rule.reliability)
        self.anchor = rule.anchor

    def limits(self, base: float) -> tuple[float, float]:
        """(inclusive, strict) score limits that a meeting point must reach, given a baseline.

        A limit is loosened by 1e-9 of the scale so that a drop of exactly 20% meets ">= 20%".
        """
        if not self.improve:
            return self.cut_inclusive, self.cut_strict
        size = abs(base)
        slack = 1e-9 * max(1.0, size)
        if self.higher:
            steps = [base + step + fraction * size - slack for step, fraction in self.improve]
        else:
            steps = [base - step - fraction * size + slack for step, fraction in self.improve]
        return self.pick(self.pick(steps), self.cut_inclusive), self.cut_strict


@lru_cache(maxsize=128)
def plan_for(rule: Rule) -> Plan:
    return Plan(rule)


_TIME_ID = itemgetter(0, 1)


def _series(points: Sequence[ScorePoint], require: bool) -> Series:
    points = [p for p in points if p.value is not None and -math.inf < p.value < math.inf]
    try:
        # A naive datetime cannot be subtracted from the aware epoch. As instants, not as
        # datetimes: Python compares and subtracts two datetimes of one zone on the wall clock.
        ats = [to_micros(p.at) for p in points]
    except TypeError as exc:
        raise ValueError("every ScorePoint.at must be timezone-aware") from exc
    values = [p.value for p in points]
    in_window = [p.in_window for p in points]
    ids = [p.assessment_id for p in points]
    keep = _kept(ats, values, in_window, ids)
    if keep is None:
        times = [p.at for p in points]
    else:
        ats, values, times = [ats[i] for i in keep], [values[i] for i in keep], \
            [points[i].at for i in keep]
        in_window, ids = [in_window[i] for i in keep], [ids[i] for i in keep]
    counted = [w is True for w in in_window] if require else None
    return Series(ats, values, counted, times, in_window, ids)


def _all_finite(values: Sequence[Any]) -> bool:
    """True when every value is a finite number (one C-level sum for the common case)."""
    try:
        if -math.inf < sum(values) < math.inf:
            return True
    except TypeError:  # a None among them
        pass
    # A NaN or infinity, a None, or finite values whose sum overflows: look at each.
    return all(v is not None and -math.inf < v < math.inf for v in values)


def _kept(ats: Sequence[int], values: Sequence[Any], in_window: Sequence[bool | None] | None,
          assessment_ids: Sequence[Any] | None) -> list[int] | None:
    """The indices of the points to use, in order; None when that is all of them as given.

    Points without a finite value are left out. The rest are ordered by time; equal times by
    value, then the reprs of in_window and assessment_id (a column not given is None for every
    point, as in a ScorePoint), never by input order.
    """
    keep: list[int] | None = None
    if not _all_finite(values):
        keep = [i for i, v in enumerate(values) if v is not None and -math.inf < v < math.inf]
    times = ats if keep is None else [ats[i] for i in keep]
    if not all(map(lt, times, islice(times, 1, None))):
        none = repr(None)
        windows = [none] * len(ats) if in_window is None else list(map(repr, in_window))
        ids = [none] * len(ats) if assessment_ids is None else list(map(repr, assessment_ids))
        keep = sorted(range(len(ats)) if keep is None else keep,
                      key=lambda i: (ats[i], values[i], windows[i], ids[i]))
    return keep


def _columns_series(ats: Sequence[int], values: Sequence[float],
                    in_window: Sequence[bool | None] | None,
                    assessment_ids: Sequence[Any] | None, require: bool) -> Series:
    """As `_series`, for points given as columns with integer times."""
    if len(values) != len(ats) or any(
        column is not None and len(column) != len(ats) for column in (in_window, assessment_ids)
    ):
        raise ValueError("every column must have one entry per point")
    keep = _kept(ats, values, in_window, assessment_ids)
    if keep is not None:
        ats = [ats[i] for i in keep]
        values = [values[i] for i in keep]
        if in_window is not None:
            in_window = [in_window[i] for i in keep]
        if assessment_ids is not None:
            assessment_ids = [assessment_ids[i] for i in keep]
    counted = None
    if require:
        counted = [False] * len(ats) if in_window is None else [w is True for w in in_window]
    return Series(ats, values, counted, None, in_window, assessment_ids)


def _anchors(doses: Sequence[Dose], mode: str
             ) -> list[tuple[Dose, int, int, int | None, tuple]]:
    """(anchor dose, baseline reference, follow-up reference, next anchor, dose ids).

    Times are microseconds since the epoch.
    """
    try:
        ordered = sorted([(to_micros(d.at), str(d.id), d) for d in doses],
                         key=_TIME_ID)
    except TypeError as exc:  # a naive datetime cannot be subtracted from an aware one
        raise ValueError("every Dose.at must be timezone-aware") from exc
    if mode == "each_session":
        starts = [row[0] for row in ordered]
        n = len(starts)
        out = []
        for at, _, dose in ordered:
            k = bisect_right(starts, at)
            out.append((dose, at, at, starts[k] if k < n else None, (dose.id,)))
        return out
    courses: dict[object, list] = {}
    for row in ordered:
        course = row[2].course
        courses.setdefault(("dose", row[1]) if course is None else course, []).append(row)
    groups = list(courses.values())
    starts = [group[0][0] for group in groups]
    out = []
    for group in groups:
        first, anchor = group[0], group[-1] if mode == "last_of_course" else group[0]
        k = bisect_right(starts, anchor[0])
        out.append((anchor[2], first[0], anchor[0], starts[k] if k < len(starts) else None,
                    tuple(row[2].id for row in group)))
    if mode == "last_of_course":  # otherwise already in order
        out.sort(key=lambda a: (a[2], str(a[0].id)))
    return out


def evaluate(points: Sequence[ScorePoint], doses: Sequence[Dose], rule: Rule
             ) -> list[AnchorVerdict]:
    """One patient's verdicts under `rule`, sorted by anchor time; input order does not matter.

    `points` are one patient's scores of the rule's instrument score (values None, NaN or
    infinite are ignored); `doses` that patient's treatments. Datetimes must be timezone-aware.
    """
    plan = plan_for(rule)
    series = _series(points, plan.require)
    return [_judge(series, plan, {}, *anchor) for anchor in _anchors(doses, plan.anchor)]


def evaluate_columns(ats: Sequence[int], values: Sequence[float], doses: Sequence[Dose],
                     rule: Rule, *, in_window: Sequence[bool | None] | None = None,
                     assessment_ids: Sequence[Any] | None = None,
                     last: int | None = None) -> list[AnchorVerdict]:
    """As `evaluate`, for one patient's points given as columns: what a bulk reader has.

    `ats` are the points' times as integer microseconds since 1970-01-01 UTC (see
    `model.to_micros`), `values` their scores; `in_window` and `assessment_ids`, when given,
    one entry per point (left out, every point reads None: then a rule that requires in-window
    answers finds none, and follow-up rows carry no assessment id). The verdicts equal those
    of `evaluate` on the same points as ScorePoints, except that follow-up times are in UTC.

    `last` judges only the last `last` anchors (the verdicts a page shows; with
    `decided_from`, a reader knows which points those need).
    """
    plan = plan_for(rule)
    series = _columns_series(ats, values, in_window, assessment_ids, plan.require)
    anchors = _anchors(doses, plan.anchor)
    if last is not None:
        anchors = anchors[-last:] if last > 0 else []
    return [_judge(series, plan, {}, *anchor) for anchor in anchors]


def count_anchors(doses: Sequence[Dose], rule: Rule) -> int:
    """How many verdicts `evaluate` gives for these doses under `rule`."""
    return len(_anchors(doses, plan_for(rule).anchor))


def decided_from(doses: Sequence[Dose], rule: Rule, last: int) -> int | None:
    """The earliest time (microseconds since the epoch) that the verdicts of the last `last`
    anchors look at: the start of their baseline spans (or of their windows, were one to
    start before its baseline reference). None when there is no anchor.

    Points before it change none of those verdicts, follow-ups and trajectories included, so
    a reader that shows only the latest verdicts may leave those points out; the verdicts of
    the earlier anchors are then not to be used.
    """
    plan = plan_for(rule)
    anchors = _anchors(doses, plan.anchor)[-last:] if last > 0 else []
    if not anchors:
        return None
    return min(min(base_ref - plan.span, anchor + min(plan.start, 0))
               for _dose, base_ref, anchor, _next, _ids in anchors)


#: A patient without points, as columns.
NO_COLUMNS: tuple = ((), (), None, None)


def evaluate_cohort(columns: Mapping[Hashable, Sequence], doses: Mapping[Hashable, Sequence[Dose]],
                    rule: Rule) -> dict[Hashable, list[AnchorVerdict]]:
    """`evaluate_columns` for every patient in `doses` (patients without doses have none).

    columns[patient] = (ats, values, in_window, assessment_ids), the last two possibly None; a
    patient missing from `columns` has no points.
    """
    plan = plan_for(rule)
    require, mode = plan.require, plan.anchor
    limits: dict[float, tuple[float, float]] = {}  # baseline -> limits, for this call only
    out = {}
    for patient, patient_doses in doses.items():
        ats, values, in_window, ids = columns.get(patient, NO_COLUMNS)
        series = _columns_series(ats, values, in_window, ids, require)
        out[patient] = [_judge(series, plan, limits, *anchor)
                        for anchor in _anchors(patient_doses, mode)]
    return out


def judge_cohort(columns: Mapping[Hashable, Sequence], doses: Mapping[Hashable, Sequence[Dose]],
                 rule: Rule, targets: tuple) -> dict[Hashable, list[Judged]]:
    """As `evaluate_cohort`, but each anchor as the `Judged` record that cohort statistics read
    (changes at `targets`, see `changes_near`): no verdict objects. See `cohort.judge_columns`.
    """
    plan = plan_for(rule)
    require, mode = plan.require, plan.anchor
    limits: dict[float, tuple[float, float]] = {}
    out = {}
    for patient, patient_doses in doses.items():
        ats, values, in_window, ids = columns.get(patient, NO_COLUMNS)
        series = _columns_series(ats, values, in_window, ids, require)
        out[patient] = [_judge_lean(series, plan, limits, targets, *anchor[:4])
                        for anchor in _anchors(patient_doses, mode)]
    return out


def _judge(series: Series, plan: Plan, known_limits: dict, dose: Dose, base_ref: int,
           anchor: int, next_anchor: int | None, dose_ids: tuple) -> AnchorVerdict:
    """One anchor's verdict; `known_limits` remembers plan.limits(baseline) across anchors."""
    (reason, onset, loss, end, base, limits, b_lo, b_hi, window,
     trajectory) = _decide(series, plan, known_limits, base_ref, anchor, next_anchor)
    ats = series.ats
    if reason:
        verdict = "not_evaluable"
    else:
        verdict = "responder" if onset is not None else "non_responder"
    return AnchorVerdict(
        dose,
        verdict,
        reason,
        base,
        None if b_hi == b_lo else series.when(b_hi - 1),
        b_hi - b_lo if plan.mean else min(1, b_hi - b_lo),
        None if onset is None else (ats[onset] - anchor) / HOUR_MICROS,
        None if loss is None else (ats[loss] - anchor) / HOUR_MICROS,
        None if onset is None else (ats[end] - ats[onset]) / HOUR_MICROS,
        onset is not None and loss is None,
        dose_ids,
        View(series, plan, anchor, base, limits, window, trajectory),
    )


def _judge_lean(series: Series, plan: Plan, known_limits: dict, targets: tuple, dose: Dose,
               base_ref: int, anchor: int, next_anchor: int | None) -> Judged:
    """What cohort statistics read of `_judge`'s verdict, without building it: the outcome,
    duration, censoring, baseline and the changes at `targets` (see `changes_near`)."""
    (reason, onset, loss, end, base, _, _, _, _,
     (t_lo, t_hi)) = _decide(series, plan, known_limits, base_ref, anchor, next_anchor)
    if onset is None:
        return Judged(dose, reason or "non_responder", None, False, base,
                      changes_near(series, anchor, base, t_lo, t_hi, targets))
    ats = series.ats
    return Judged(dose, "responder", (ats[end] - ats[onset]) / HOUR_MICROS, loss is None, base,
                  changes_near(series, anchor, base, t_lo, t_hi, targets))


def _decide(series: Series, plan: Plan, known_limits: dict, base_ref: int, anchor: int,
            next_anchor: int | None) -> tuple:
    """Where one anchor's verdict comes from, as indices into the series.

    (reason, onset, loss, end, baseline, limits, b_lo, b_hi, window, trajectory): the reason
    it is not evaluable (None when it is); onset (None: no response), loss and the end of the
    response; the baseline, the criteria limits and the baseline's points [b_lo, b_hi); the
    window's and the trajectory's index ranges.
    """
    ats, values, counted = series.ats, series.values, series.counted
    b_hi = bisect_left(ats, base_ref)
    b_lo = bisect_left(ats, base_ref - plan.span, 0, b_hi)
    t_lo = b_hi if anchor == base_ref else bisect_left(ats, anchor)
    w_lo = t_lo if not plan.start else bisect_left(ats, anchor + plan.start, t_lo)
    w_hi = bisect_right(ats, anchor + plan.end, w_lo)
    horizon = len(ats) if next_anchor is None else bisect_left(ats, next_anchor, t_lo)
    t_hi = min(horizon, bisect_right(ats, anchor + _TRAJECTORY, t_lo))

    base = limits = reason = None
    if b_hi == b_lo:
        reason = "no_baseline"
    else:
        base = values[b_hi - 1] if not plan.mean else math.fsum(values[b_lo:b_hi]) / (b_hi - b_lo)
        if base == 0 and plan.has_percent:
            reason = "baseline_zero"
        else:
            limits = known_limits.get(base)
            if limits is None:
                limits = known_limits[base] = plan.limits(base)

    lo, hi = w_lo, w_hi
    if plan.evaluation == "nearest" and plan.tolerance is not None:
        lo = bisect_left(ats, anchor + plan.nominal - plan.tolerance, w_lo, w_hi)
        hi = bisect_right(ats, anchor + plan.nominal + plan.tolerance, lo, w_hi)
    if counted is None:
        idx, xs = range(lo, hi), values[lo:hi]
    else:
        idx = [i for i in range(lo, hi) if counted[i]]
        xs = [values[i] for i in idx]
    if reason is None and not idx:
        reason = "no_followup" if lo == hi else "out_of_window"

    onset = loss = end = None
    if reason is None:
        onset = _onset(plan, ats, idx, plan.meets_many(xs, *limits), anchor)
    if onset is not None:
        if counted is None:
            rest, xs = range(onset + 1, horizon), values[onset + 1:horizon]
        else:
            rest = [i for i in range(onset + 1, horizon) if counted[i]]
            xs = [values[i] for i in rest]
        later = plan.meets_many(xs, *limits)
        if False in later:
            end = loss = rest[later.index(False)]
        else:
            end = rest[-1] if rest else onset
    return (reason, onset, loss, end, base, limits, b_lo, b_hi, (w_lo, w_hi), (t_lo, t_hi))


def _onset(plan: Plan, ats: Sequence[int], idx: Sequence[int], meets: list[bool],
           anchor: int) -> int | None:
    """Index (into the series) where the response begins, or None for a non-responder.

    `idx` are the counted points of the window, `meets` whether each meets the criteria.
    """
    evaluation = plan.evaluation
    if evaluation == "any":
        return idx[meets.index(True)] if True in meets else None
    if evaluation == "all":
        return idx[0] if all(meets) else None
    if evaluation == "nearest":
        target = anchor + plan.nominal
        j = min(range(len(idx)), key=lambda k: (abs(ats[idx[k]] - target), k))
        return idx[j] if meets[j] else None
    start = None  # sustained: the first run of meeting points long enough
    for k, ok in enumerate(meets):
        if not ok:
            start = None
            continue
        if start is None:
            start = k
        if ats[idx[k]] - ats[idx[start]] >= plan.sustained:
            return idx[start]
    return None
