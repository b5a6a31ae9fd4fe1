"""Builders shared by the outcomes tests: times as hours after T0, points, doses, rules."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.outcomes import Dose, Rule, ScorePoint

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

BASE_RULE: dict[str, Any] = {
    "name": "fatigue 20% drop within 72 h",
    "instrument": "fatigue_vas",
    "score": "total",
    "direction": "lower_is_better",
    "criteria": {"all": [{"kind": "percent_improvement", "value": 20}]},
    "window": {"start_hours": 0, "end_hours": 72},
}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def pt(hours: float, value: float | None, *, in_window: bool | None = None,
       aid: int | str | None = None) -> ScorePoint:
    return ScorePoint(at(hours), value, aid, in_window)


def dose(hours: float, dose_id: int | str = 1, **fields: Any) -> Dose:
    return Dose(dose_id, at(hours), **fields)


def make_rule(**changes: Any) -> Rule:
    """BASE_RULE with top-level keys replaced; `window_*` keys change one window field."""
    data = copy.deepcopy(BASE_RULE)
    for key, value in changes.items():
        if key.startswith("window_"):
            data["window"][key.removeprefix("window_")] = value
        else:
            data[key] = value
    return Rule.from_dict(data)


def percent_rule(value: float, **changes: Any) -> Rule:
    return make_rule(criteria={"all": [{"kind": "percent_improvement", "value": value}]},
                     **changes)
