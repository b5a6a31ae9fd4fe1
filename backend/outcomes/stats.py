"""Small statistics for response rates and durability, in plain Python.

Wilson score interval for a proportion; Kaplan-Meier with Greenwood variance, log-log
confidence intervals and the Brookmeyer-Crowley interval for the median; the Jacobson-Truax
reliable change index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for k successes out of n; (None, None) when n is 0."""
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None, None
    p = k / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    return (0.0 if k == 0 else centre - half), (1.0 if k == n else centre + half)


def reliable_change(x1: float, x2: float, sd: float, reliability: float) -> tuple[float, bool]:
    """Jacobson-Truax: RC = (x2 - x1) / (sqrt(2) * SD * sqrt(1 - r)); reliable when |RC| > 1.96."""
    if sd <= 0 or not 0 <= reliability < 1:
        raise ValueError("need sd > 0 and 0 <= reliability < 1")
    rc = (x2 - x1) / (math.sqrt(2.0) * sd * math.sqrt(1.0 - reliability))
    return rc, abs(rc) > 1.96


def mean(values: Sequence[float]) -> float | None:
    if not values:
        return None
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # a sum beyond the float range: divide first
        return math.fsum(v / len(values) for v in values)


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return ordered[mid] if n % 2 else ordered[mid - 1] / 2.0 + ordered[mid] / 2.0


def sample_sd(values: Sequence[float], centre: float | None = None) -> float | None:
    """Sample standard deviation (n - 1), scaled so that huge values cannot overflow.

    `centre` is mean(values) when the caller has already computed it.
    """
    if len(values) < 2:
        return None
    if centre is None:
        centre = mean(values)
    deviations = [v - centre for v in values]
    scale = max(map(abs, deviations))
    if not scale or scale == math.inf:
        return None if scale else 0.0
    return scale * math.sqrt(math.fsum([(d / scale) ** 2 for d in deviations])
                             / (len(values) - 1))


@dataclass(frozen=True, slots=True)
class KMStep:
    """The survival curve just after time t, where at least one event happened.

    variance is Greenwood's; low/high the log-log 95% interval (both 0 once survival is 0:
    nobody is left at risk).
    `censored` counts observations censored after the previous step up to and including t.
    """

    t: float
    survival: float
    at_risk: int
    events: int
    censored: int
    variance: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class KMResult:
    """A Kaplan-Meier curve; median and its interval are None where they are not reached."""

    n: int
    events: int
    steps: tuple[KMStep, ...]
    median: float | None
    median_ci: tuple[float | None, float | None]

    def survival_at(self, t: float) -> float:
        """S(t): the share still responding at time t."""
        survival = 1.0
        for step in self.steps:
            if step.t > t:
                break
            survival = step.survival
        return survival

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "steps": [step.to_dict() for step in self.steps],
            "median": self.median,
            "median_ci": list(self.median_ci),
        }


def _loglog(survival: float, greenwood_sum: float, z: float) -> tuple[float, float]:
    if survival <= 0.0:
        return 0.0, 0.0
    if survival >= 1.0 or greenwood_sum == 0.0:
        return survival, survival
    log_s = math.log(survival)
    c = z * math.sqrt(greenwood_sum) / abs(log_s)
    return survival ** math.exp(c), survival ** math.exp(-c)


def _first_crossing(steps: Sequence[KMStep], curve: str) -> float | None:
    """First time a curve (survival, low or high) falls to 0.5 or below.

    When it sits exactly at 0.5, the midpoint to the next event time is taken (R's convention
    for a flat stretch at the median); with no later event, the time it reached 0.5.
    """
    for i, step in enumerate(steps):
        value = getattr(step, curve)
        if value <= 0.5 + 1e-12:
            if abs(value - 0.5) <= 1e-12 and i + 1 < len(steps):
                return (step.t + steps[i + 1].t) / 2.0
            return step.t
    return None


def kaplan_meier(durations: Iterable[tuple[float, bool]], z: float = Z95) -> KMResult:
    """Kaplan-Meier estimate from (time, event) pairs; event False means censored.

    At a tie, events are counted before censorings. The median's interval (Brookmeyer-Crowley
    through the log-log interval): from the first time the lower limit falls to 0.5 to the
    first time the upper limit does; an end is None when that limit never falls so far.
    """
    data = sorted((float(t), bool(event)) for t, event in durations)
    if any(t < 0 or not math.isfinite(t) for t, _ in data):
        raise ValueError("durations must be finite and not negative")
    at_risk = len(data)
    survival, greenwood_sum = 1.0, 0.0
    steps: list[KMStep] = []
    censored_since = 0
    i = 0
    while i < len(data):
        t = data[i][0]
        events = censored = 0
        while i < len(data) and data[i][0] == t:
            events += data[i][1]
            censored += not data[i][1]
            i += 1
        if events:
            survival *= 1.0 - events / at_risk
            if at_risk > events:
                greenwood_sum += events / (at_risk * (at_risk - events))
            low, high = _loglog(survival, greenwood_sum, z)
            steps.append(KMStep(t, survival, at_risk, events, censored_since + censored,
                                survival * survival * greenwood_sum, low, high))
            censored_since = 0
        else:
            censored_since += censored
        at_risk -= events + censored
    return KMResult(
        n=len(data),
        events=sum(event for _, event in data),
        steps=tuple(steps),
        median=_first_crossing(steps, "survival"),
        median_ci=(_first_crossing(steps, "low"), _first_crossing(steps, "high")),
    )
