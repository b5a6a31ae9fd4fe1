"""Cohort statistics over many patients' verdicts: rates, time-point changes, durability.

`summarize` groups anchors (by arm, period, arm and period, or drug), then per group counts
evaluable anchors and responders with a Wilson 95% interval, lists why the rest were not
evaluable, gives the mean and median signed % change at nominal time points, and a
Kaplan-Meier curve of how long responses lasted.

per='patient' counts people instead of anchors: within a group a patient is a responder when
any of their anchors responded, evaluable when any was evaluable, and otherwise not
evaluable for the reason of their earliest anchor; their change at a time point is the mean
over their anchors; their duration is that of their earliest responding anchor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

from backend.outcomes.evaluate import judge_cohort
from backend.outcomes.model import DIRECTIONS, Dose, Rule, hours_micros
from backend.outcomes.stats import KMResult, kaplan_meier, mean, median, sample_sd, wilson_interval
from backend.outcomes.verdict import AnchorVerdict, Judged

GroupBy = Literal["none", "arm", "period", "arm_period", "drug"]
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "none": (),
    "arm": ("arm",),
    "period": ("period",),
    "arm_period": ("arm", "period"),
    "drug": ("drug",),
}


@dataclass(frozen=True, slots=True)
class Timepoint:
    """A nominal time after the anchor; the follow-up nearest it within +-tolerance counts."""

    label: str
    hours: float
    tolerance_hours: float


DEFAULT_TIMEPOINTS: tuple[Timepoint, ...] = (
    Timepoint("40 min", 40 / 60, 20 / 60),
    Timepoint("24 h", 24, 6),
    Timepoint("day 3", 72, 12),
    Timepoint("day 7", 168, 24),
    Timepoint("day 14", 336, 48),
    Timepoint("month 1", 720, 168),
    Timepoint("month 3", 2160, 336),
    Timepoint("month 6", 4320, 720),
)


@dataclass(frozen=True, slots=True)
class TimepointStat:
    """Signed % change from baseline at one nominal time point (negative = the score fell)."""

    label: str
    hours: float
    tolerance_hours: float
    n: int
    mean_change_pct: float | None
    median_change_pct: float | None
    sd_change_pct: float | None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """Response figures for one group; `units` are anchors or patients (see CohortResult.per)."""

    key: tuple[tuple[str, Any], ...]
    units: int
    evaluable: int
    responders: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    not_evaluable: tuple[tuple[str, int], ...]
    timepoints: tuple[TimepointStat, ...]
    durability: KMResult | None

    @property
    def label(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.key) or "all"

    def timepoint(self, which: float | str) -> TimepointStat:
        """The time point with this label, or with this nominal time in hours."""
        for stat in self.timepoints:
            if stat.label == which or (
                not isinstance(which, str) and abs(stat.hours - which) < 1e-6
            ):
                return stat
        raise KeyError(f"no time point {which!r}; have {[s.label for s in self.timepoints]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": dict(self.key),
            "label": self.label,
            "units": self.units,
            "evaluable": self.evaluable,
            "responders": self.responders,
            "rate": self.rate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "not_evaluable": dict(self.not_evaluable),
            "timepoints": [stat.to_dict() for stat in self.timepoints],
            "durability": None if self.durability is None else self.durability.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CohortResult:
    group_by: GroupBy
    per: Literal["anchor", "patient"]
    groups: tuple[GroupSummary, ...]

    def group(self, **key: Any) -> GroupSummary:
        """The group with exactly this key, e.g. result.group(arm="ketamine", period=1)."""
        wanted = tuple(sorted(key.items()))
        for summary in self.groups:
            if tuple(sorted(summary.key)) == wanted:
                return summary
        raise KeyError(f"no group {key!r}; have {[g.label for g in self.groups]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_by": self.group_by,
            "per": self.per,
            "groups": [summary.to_dict() for summary in self.groups],
        }


def value_order(value: Any) -> tuple:
    """Sort numbers, then strings, then None, without comparing across types."""
    if value is None:
        return (2, 0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def _key_function(names: tuple[str, ...]) -> Callable[[Judged], tuple]:
    """verdict -> its group key, e.g. (("arm", "ketamine"), ("period", 1))."""
    if not names:
        return lambda v: ()
    values = attrgetter(*names)
    if len(names) == 1:
        return lambda v: ((names[0], values(v)),)
    return lambda v: tuple(zip(names, values(v), strict=True))


def _targets(timepoints: Sequence[Timepoint]) -> tuple[list[int], tuple]:
    """Timepoints as (nominal, low, high) offsets (microseconds) sorted by low, and each
    one's place there."""
    targets = []
    for tp in timepoints:
        nominal, tolerance = hours_micros(tp.hours), hours_micros(tp.tolerance_hours)
        targets.append((nominal, nominal - tolerance, nominal + tolerance))
    order = sorted(range(len(targets)), key=lambda i: targets[i][1])
    place = [0] * len(order)
    for position, i in enumerate(order):
        place[i] = position
    return place, tuple(targets[i] for i in order)


def _patient_unit(judged: list[Judged]) -> tuple[str, float | None, bool, list[float | None]]:
    """(outcome, duration, event, changes) for one patient's anchors in one group."""
    ordered = sorted(judged, key=lambda v: v.anchor_at)
    responded = [v for v in ordered if v.outcome == "responder"]
    if responded:
        first = responded[0]
        outcome, duration, event = "responder", first.duration_hours, not first.censored
    else:
        evaluable = any(v.outcome in _EVALUABLE for v in ordered)
        outcome = "non_responder" if evaluable else ordered[0].outcome
        duration, event = None, False
    changes = [mean([c for c in column if c is not None])
               for column in zip(*[v.changes for v in ordered], strict=True)]
    return outcome, duration, event, changes


_EVALUABLE = ("responder", "non_responder")


def _judged(verdict: AnchorVerdict, targets: tuple) -> Judged:
    """What the statistics read of a verdict (see `judge_columns`)."""
    changes = [None] * len(targets) if verdict.view is None else verdict.view.changes_near(
        targets)
    return Judged(verdict.dose, verdict.reason or verdict.verdict, verdict.duration_hours,
                  verdict.censored, verdict.baseline, changes)


def _summarize_group(key: tuple, by_patient: dict[Hashable, list[Judged]],
                     timepoints: Sequence[Timepoint], place: list[int], per: str,
                     durability: bool) -> GroupSummary:
    if per == "patient":
        units = [_patient_unit(judged) for judged in by_patient.values()]
        outcomes = Counter([unit[0] for unit in units])
        durations = [(unit[1], unit[2]) for unit in units if unit[0] == "responder"]
        rows = [unit[3] for unit in units]
    else:
        anchors = [v for judged in by_patient.values() for v in judged]
        outcomes = Counter([v.outcome for v in anchors])
        durations = [(v.duration_hours, not v.censored) for v in anchors
                     if v.outcome == "responder"]
        rows = [v.changes for v in anchors]
    units_n = sum(outcomes.values())
    responders = outcomes.pop("responder", 0)
    evaluable = responders + outcomes.pop("non_responder", 0)
    low, high = wilson_interval(responders, evaluable)
    columns = [[c for c in column if c is not None] for column in zip(*rows, strict=True)]
    stats = []
    for tp, position in zip(timepoints, place, strict=True):
        column = columns[position] if columns else []
        centre = mean(column)
        stats.append(TimepointStat(tp.label, tp.hours, tp.tolerance_hours, len(column),
                                   centre, median(column), sample_sd(column, centre)))
    return GroupSummary(
        key=key,
        units=units_n,
        evaluable=evaluable,
        responders=responders,
        rate=responders / evaluable if evaluable else None,
        ci_low=low,
        ci_high=high,
        not_evaluable=tuple(sorted(outcomes.items())),
        timepoints=tuple(stats),
        durability=kaplan_meier(durations) if durability and durations else None,
    )


def summarize(verdicts_by_patient: Mapping[Hashable, Sequence[AnchorVerdict]], *,
              group_by: GroupBy = "none", timepoints: Sequence[Timepoint] = DEFAULT_TIMEPOINTS,
              per: Literal["anchor", "patient"] = "anchor", durability: bool = True
              ) -> CohortResult:
    """Rates with Wilson 95% intervals, time-point changes and durability per group.

    durability=False skips the Kaplan-Meier curves (one step per distinct loss time, so
    thousands for a large cohort).
    """
    _, targets = _targets(timepoints)
    judged = {patient: [_judged(v, targets) for v in verdicts]
              for patient, verdicts in verdicts_by_patient.items()}
    return summarize_judged(judged, group_by=group_by, timepoints=timepoints, per=per,
                            durability=durability)


def judge_columns(columns: Mapping[Hashable, Sequence], doses: Mapping[Hashable, Sequence[Dose]],
                  rule: Rule, timepoints: Sequence[Timepoint] = DEFAULT_TIMEPOINTS
                  ) -> dict[Hashable, list[Judged]]:
    """What `summarize` and `carryover` read of `evaluate_cohort(columns, doses, rule)`,
    computed without building the verdicts: the cohort path. Give `summarize_judged` the
    same timepoints."""
    _, targets = _targets(timepoints)
    return judge_cohort(columns, doses, rule, targets)


def summarize_judged(judged_by_patient: Mapping[Hashable, Sequence[Judged]], *,
                     group_by: GroupBy = "none",
                     timepoints: Sequence[Timepoint] = DEFAULT_TIMEPOINTS,
                     per: Literal["anchor", "patient"] = "anchor", durability: bool = True
                     ) -> CohortResult:
    """`summarize` for what `judge_columns` gives (with the same timepoints)."""
    if group_by not in GROUP_FIELDS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_FIELDS)}")
    if per not in ("anchor", "patient"):
        raise ValueError("per must be 'anchor' or 'patient'")
    key_of = _key_function(GROUP_FIELDS[group_by])
    groups: dict[tuple, dict[Hashable, list[Judged]]] = {}
    if group_by == "none":  # one group: no key per anchor
        everyone = {patient: list(judged) for patient, judged in judged_by_patient.items()
                    if judged}
        if everyone:
            groups[()] = everyone
    else:
        for patient, judged in judged_by_patient.items():
            for v in judged:
                groups.setdefault(key_of(v), {}).setdefault(patient, []).append(v)
    place, _ = _targets(timepoints)
    ordered = sorted(groups, key=lambda key: tuple(value_order(value) for _, value in key))
    return CohortResult(
        group_by=group_by,
        per=per,
        groups=tuple(_summarize_group(key, groups[key], timepoints, place, per, durability)
                     for key in ordered),
    )


def mean_change_verdict(group: GroupSummary, nominal: float | str, threshold_pct: float, *,
                        direction: str = "lower_is_better") -> bool | None:
    """A pre-set cohort endpoint such as "positive = mean drop of at least 20% by day 3".

    True when the mean % change at the time point improves by at least `threshold_pct` in the
    instrument's direction; None when no patient has a score at that time point.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
    stat = group.timepoint(nominal)
    if stat.mean_change_pct is None:
        return None
    improvement = stat.mean_change_pct if direction == "higher_is_better" else -stat.mean_change_pct
    return improvement >= threshold_pct - 1e-9
