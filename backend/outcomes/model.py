"""Inputs of the outcomes core: score points, doses and response rules.

Plain frozen values. A rule checks itself when it is built and raises `RuleError` with every
problem found (field, reason), so a bad rule never reaches `evaluate`. Score points and doses
are not checked here because there are hundreds of thousands of them: `evaluate` rejects a
naive datetime when it meets one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

Direction = Literal["lower_is_better", "higher_is_better"]
CriterionKind = Literal["percent_improvement", "absolute_improvement", "cutoff"]
Evaluation = Literal["any", "all", "nearest", "sustained"]
AnchorMode = Literal["each_session", "first_of_course", "last_of_course"]

DIRECTIONS = ("lower_is_better", "higher_is_better")
CRITERION_KINDS = ("percent_improvement", "absolute_improvement", "cutoff")
CRITERIA_MODES = ("all", "any")
EVALUATIONS = ("any", "all", "nearest", "sustained")
BASELINE_METHODS = ("last", "mean")
ANCHORS = ("each_session", "first_of_course", "last_of_course")

Problem = tuple[str, str]


class RuleError(ValueError):
    """A rule that cannot be used; `problems` lists every (field, reason) found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in self.problems))


#: Inside the core an instant is an int: microseconds since 1970-01-01 00:00 UTC. Comparing and
#: subtracting these is exact and always real time (two aware datetimes of one zone compare
#: and subtract on the wall clock), and much cheaper; a bulk reader may hand them in directly
#: (see `evaluate_columns`).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
HOUR_MICROS = 3_600_000_000


def to_micros(at: datetime) -> int:
    """An aware datetime as microseconds since the epoch (TypeError for a naive one)."""
    return (at - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(0, 0, micros)


def hours_micros(hours: float) -> int:
    """A span of hours in microseconds, rounded as ``timedelta(hours=hours)`` rounds it."""
    return timedelta(hours=hours) // MICROSECOND


class ScorePoint(NamedTuple):
    """One score of one instrument for one patient at one time (`at` timezone-aware).

    `in_window` says whether the answer fell inside its schedule slot's window; None when
    the answer was not tied to a slot. A named tuple, not a dataclass: a cohort read builds
    hundreds of thousands of these, and a tuple is several times cheaper to make.
    """

    at: datetime
    value: float | None
    assessment_id: int | str | None = None
    in_window: bool | None = None


class Dose(NamedTuple):
    """One treatment given at `at` (timezone-aware); doses sharing a `course` form a course.

    A named tuple, like ScorePoint: a cohort read builds one per dose given in the clinic.
    """

    id: int | str
    at: datetime
    drug: str = ""
    course: str | None = None
    session: int | None = None
    arm: str | None = None
    period: int | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise RuleError(problems)


def _choice(problems: list[Problem], name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        problems.append((name, f"unknown value {value!r}; expected one of {', '.join(allowed)}"))


def _number(problems: list[Problem], name: str, value: Any, *, minimum: float | None = None,
            positive: bool = False, optional: bool = False,
            maximum: float | None = None) -> bool:
    """Check a number field; True when it is a usable number."""
    if value is None and optional:
        return False
    if not _is_number(value):
        problems.append((name, "must be a finite number"))
        return False
    if positive and value <= 0:
        problems.append((name, "must be greater than 0"))
        return False
    if minimum is not None and value < minimum:
        problems.append((name, "must not be negative" if minimum == 0 else f"must be >= {minimum}"))
        return False
    if maximum is not None and value > maximum:
        problems.append((name, f"must be at most {maximum:g}"))
        return False
    return True


#: The longest span of hours a rule may name: ten years. (Longer is a typing error, and far
#: longer does not fit a time span at all.)
MAX_HOURS = 87_660


def _hours(problems: list[Problem], name: str, value: Any, **kwargs) -> bool:
    """Check a span of hours: a finite number, at most `MAX_HOURS`."""
    return _number(problems, name, value, maximum=MAX_HOURS, **kwargs)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One test of a follow-up score against the baseline.

    percent_improvement: improvement / |baseline| * 100 >= value. absolute_improvement:
    improvement >= value (an MCID). cutoff: the score is beyond `value` in the good direction
    (strictly, or at-or-beyond when `inclusive`): PHQ-9 remission "below 5" is
    Criterion("cutoff", 5) under lower_is_better.
    """

    kind: CriterionKind
    value: float
    inclusive: bool = False

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _choice(problems, "kind", self.kind, CRITERION_KINDS)
        positive = self.kind in ("percent_improvement", "absolute_improvement")
        _number(problems, "value", self.value, positive=positive)
        if not isinstance(self.inclusive, bool):
            problems.append(("inclusive", "must be true or false"))
        elif self.inclusive and self.kind != "cutoff":
            problems.append(("inclusive", "applies only to a cutoff criterion"))
        _raise(problems)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "value": self.value}
        if self.kind == "cutoff":
            out["inclusive"] = self.inclusive
        return out


@dataclass(frozen=True, slots=True)
class Criteria:
    """All or any of the criteria must hold at a point for it to count as meeting the rule."""

    mode: Literal["all", "any"]
    items: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        if isinstance(self.items, list):
            object.__setattr__(self, "items", tuple(self.items))
        problems: list[Problem] = []
        _choice(problems, "mode", self.mode, CRITERIA_MODES)
        if not isinstance(self.items, tuple) or not self.items:
            problems.append(("items", "at least one criterion is needed"))
        elif not all(isinstance(item, Criterion) for item in self.items):
            problems.append(("items", "every item must be a Criterion"))
        _raise(problems)

    def to_dict(self) -> dict[str, Any]:
        return {self.mode: [item.to_dict() for item in self.items]}


@dataclass(frozen=True, slots=True)
class Window:
    """Hours after the anchor, both ends inclusive, in real elapsed time (UTC arithmetic).

    evaluation 'any': some point meets; 'all': every point meets; 'nearest': the point closest
    to `nominal_hours` (within +-`tolerance_hours` when given; the earlier on a tie) decides;
    'sustained': the criteria hold at every point of a run of meeting points whose first and
    last are at least `sustained_hours` apart, with no failing point between.
    """

    start_hours: float
    end_hours: float
    evaluation: Evaluation = "any"
    nominal_hours: float | None = None
    tolerance_hours: float | None = None
    sustained_hours: float | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        start_ok = _hours(problems, "start_hours", self.start_hours, minimum=0)
        end_ok = _hours(problems, "end_hours", self.end_hours, minimum=0)
        if start_ok and end_ok and self.start_hours > self.end_hours:
            problems.append(("end_hours", "must not be before start_hours"))
        _choice(problems, "evaluation", self.evaluation, EVALUATIONS)
        nearest = self.evaluation == "nearest"
        sustained = self.evaluation == "sustained"
        if nearest and self.nominal_hours is None:
            problems.append(("nominal_hours", "is required when evaluation is 'nearest'"))
        for name in ("nominal_hours", "tolerance_hours"):
            if getattr(self, name) is not None and not nearest:
                problems.append((name, "is used only when evaluation is 'nearest'"))
        if _hours(problems, "nominal_hours", self.nominal_hours, minimum=0, optional=True) and (
            start_ok and end_ok and not self.start_hours <= self.nominal_hours <= self.end_hours
        ):
            problems.append(("nominal_hours", "must lie inside the window"))
        _hours(problems, "tolerance_hours", self.tolerance_hours, minimum=0, optional=True)
        if sustained and self.sustained_hours is None:
            problems.append(("sustained_hours", "is required when evaluation is 'sustained'"))
        if self.sustained_hours is not None and not sustained:
            problems.append(("sustained_hours", "is used only when evaluation is 'sustained'"))
        sustained_ok = _hours(problems, "sustained_hours", self.sustained_hours, minimum=0,
                               optional=True)
        if sustained_ok and start_ok and end_ok and (
            self.sustained_hours > self.end_hours - self.start_hours
        ):
            problems.append(("sustained_hours", "is longer than the window, so never met"))
        _raise(problems)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start_hours": self.start_hours,
            "end_hours": self.end_hours,
            "evaluation": self.evaluation,
        }
        for name in ("nominal_hours", "tolerance_hours", "sustained_hours"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True, slots=True)
class Baseline:
    """The last score (or the mean of the scores) in [anchor - span_hours, anchor)."""

    method: Literal["last", "mean"] = "last"
    span_hours: float = 168

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _choice(problems, "method", self.method, BASELINE_METHODS)
        _hours(problems, "span_hours", self.span_hours, positive=True)
        _raise(problems)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "span_hours": self.span_hours}


def rule_level_problems(fields: dict[str, Any], criteria: Criteria | None) -> list[Problem]:
    """Problems with a rule's own fields (not its parts); shared by Rule and Rule.from_dict."""
    problems: list[Problem] = []
    for name in ("name", "instrument", "score"):
        value = fields.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append((name, "must be a non-empty string"))
    direction = fields.get("direction")
    _choice(problems, "direction", direction, DIRECTIONS)
    _choice(problems, "anchor", fields.get("anchor"), ANCHORS)
    if not isinstance(fields.get("require_in_window"), bool):
        problems.append(("require_in_window", "must be true or false"))
    version = fields.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(("version", "must be a whole number >= 1"))
    sd, reliability = fields.get("sd"), fields.get("reliability")
    _number(problems, "sd", sd, positive=True, optional=True)
    if _number(problems, "reliability", reliability, minimum=0, optional=True) and reliability >= 1:
        problems.append(("reliability", "must be below 1 (a reliability of 1 has no error)"))
    if (sd is None) != (reliability is None):
        problems.append(("sd" if sd is None else "reliability",
                         "sd and reliability are needed together for reliable change"))
    if criteria is not None and direction == "lower_is_better":
        for i, item in enumerate(criteria.items):
            if item.kind == "percent_improvement" and item.value > 100:
                problems.append((f"criteria.{criteria.mode}[{i}].value",
                                 "a drop of more than 100% is impossible"))
    return problems


@dataclass(frozen=True, slots=True)
class Rule:
    """A named, versioned response definition: baseline, criteria, window and anchor.

    `sd` and `reliability` (both or neither) add the Jacobson-Truax reliable change index to
    every follow-up.
    """

    name: str
    instrument: str
    score: str
    direction: Direction
    criteria: Criteria
    window: Window
    baseline: Baseline = Baseline()
    anchor: AnchorMode = "each_session"
    require_in_window: bool = False
    version: int = 1
    sd: float | None = None
    reliability: float | None = None

    def __post_init__(self) -> None:
        problems = []
        for name, kind in (("criteria", Criteria), ("window", Window), ("baseline", Baseline)):
            if not isinstance(getattr(self, name), kind):
                problems.append((name, f"must be a {kind.__name__}"))
        fields = {name: getattr(self, name) for name in self.__slots__}
        criteria = self.criteria if isinstance(self.criteria, Criteria) else None
        _raise(problems + rule_level_problems(fields, criteria))

    @property
    def has_percent(self) -> bool:
        return any(item.kind == "percent_improvement" for item in self.criteria.items)

    @classmethod
    def from_dict(cls, data: Any) -> Rule:
        """Build a rule from its plain dict shape; RuleError lists every problem at once."""
        from backend.outcomes.rule_dict import rule_from_dict

        return rule_from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "instrument": self.instrument,
            "score": self.score,
            "direction": self.direction,
            "criteria": self.criteria.to_dict(),
            "window": self.window.to_dict(),
            "baseline": self.baseline.to_dict(),
            "anchor": self.anchor,
            "require_in_window": self.require_in_window,
            "version": self.version,
        }
        if self.sd is not None:
            out["sd"] = self.sd
            out["reliability"] = self.reliability
        return out
