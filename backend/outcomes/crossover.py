"""Crossover carry-over check: does the period-2 baseline differ from the period-1 baseline?

If a drug's effect outlasts the washout, patients who received it first start period 2 lower
(or higher) than they started period 1. Per arm, this compares
- unpaired: the mean baseline of anchors on that arm in period 2 minus in period 1 (different
  patients in an AB/BA design), and
- paired: for patients whose FIRST-period arm it was, the mean of their own period-2 baseline
  minus their period-1 baseline (each patient's earliest anchor with a baseline per period).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backend.outcomes.cohort import value_order
from backend.outcomes.stats import mean, sample_sd
from backend.outcomes.verdict import AnchorVerdict


@dataclass(frozen=True, slots=True)
class CarryoverRow:
    arm: str | None
    n_first: int
    mean_first: float | None
    n_second: int
    mean_second: float | None
    mean_difference: float | None
    n_paired: int
    paired_mean_difference: float | None
    paired_sd: float | None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _earliest_with_baseline(verdicts: Sequence[AnchorVerdict], period: int
                     ) -> AnchorVerdict | None:
    with_baseline = [v for v in verdicts if v.period == period and v.baseline is not None]
    return min(with_baseline, key=lambda v: v.anchor_at) if with_baseline else None


def carryover(verdicts_by_patient: Mapping[Hashable, Sequence[AnchorVerdict]], *,
              first: int = 1, second: int = 2) -> list[CarryoverRow]:
    """Baseline in period `second` against period `first`, per arm (sorted by arm)."""
    unpaired: dict[Any, tuple[list[float], list[float]]] = {}
    paired: dict[Any, list[float]] = {}
    for verdicts in verdicts_by_patient.values():
        for v in verdicts:
            if v.baseline is not None and v.period in (first, second):
                pair = unpaired.setdefault(v.arm, ([], []))
                pair[v.period == second].append(v.baseline)
        one = _earliest_with_baseline(verdicts, first)
        two = _earliest_with_baseline(verdicts, second)
        if one is not None and two is not None:
            paired.setdefault(one.arm, []).append(two.baseline - one.baseline)
    rows = []
    for arm in sorted(set(unpaired) | set(paired), key=value_order):
        before, after = unpaired.get(arm, ([], []))
        differences = paired.get(arm, [])
        mean_before, mean_after = mean(before), mean(after)
        rows.append(CarryoverRow(
            arm=arm,
            n_first=len(before),
            mean_first=mean_before,
            n_second=len(after),
            mean_second=mean_after,
            mean_difference=None if mean_before is None or mean_after is None
            else mean_after - mean_before,
            n_paired=len(differences),
            paired_mean_difference=mean(differences),
            paired_sd=sample_sd(differences),
        ))
    return rows
