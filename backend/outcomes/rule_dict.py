"""Rule from its plain dict shape (stored by the rules feature, sent over the API).

Shape: {name, instrument, score, direction, criteria: {all|any: [{kind, value, inclusive?}]},
window: {start_hours, end_hours, evaluation?, nominal_hours?, tolerance_hours?,
sustained_hours?}, baseline?: {method?, span_hours?}, anchor?, require_in_window?, version?,
sd?, reliability?}. Every problem is collected before `RuleError` is raised, each named by a
dotted path such as "criteria.all[0].kind" or "window.end_hours".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.outcomes.model import (
    CRITERIA_MODES,
    Baseline,
    Criteria,
    Criterion,
    Problem,
    Rule,
    RuleError,
    Window,
    rule_level_problems,
)

_RULE_DEFAULTS: dict[str, Any] = {
    "anchor": "each_session",
    "require_in_window": False,
    "version": 1,
    "sd": None,
    "reliability": None,
}
_RULE_REQUIRED = ("name", "instrument", "score", "direction", "criteria", "window")
_RULE_KEYS = frozenset(_RULE_REQUIRED) | frozenset(_RULE_DEFAULTS) | {"baseline"}
_WINDOW = (frozenset({"start_hours", "end_hours", "evaluation", "nominal_hours",
                      "tolerance_hours", "sustained_hours"}), ("start_hours", "end_hours"))
_BASELINE = (frozenset({"method", "span_hours"}), ())
_CRITERION = (frozenset({"kind", "value", "inclusive"}), ("kind", "value"))


def _part(problems: list[Problem], where: str, kind: type, data: Any,
          keys: tuple[frozenset[str], tuple[str, ...]]) -> Any:
    """Build one part (window, baseline, criterion), adding its problems under `where`."""
    allowed, required = keys
    if not isinstance(data, Mapping):
        problems.append((where, "must be an object"))
        return None
    found = [(f"{where}.{key}", "unknown field") for key in sorted(map(str, set(data) - allowed))]
    found += [(f"{where}.{key}", "is required") for key in required if key not in data]
    if not found:
        try:
            return kind(**{key: data[key] for key in allowed if key in data})
        except RuleError as exc:
            found = [(f"{where}.{name}", reason) for name, reason in exc.problems]
    problems.extend(found)
    return None


def _criteria(problems: list[Problem], data: Any) -> Criteria | None:
    if not isinstance(data, Mapping) or len(data) != 1 or next(iter(data)) not in CRITERIA_MODES:
        problems.append(("criteria", "must be an object with exactly one key, 'all' or 'any'"))
        return None
    mode, raw_items = next(iter(data.items()))
    if not isinstance(raw_items, list | tuple) or not raw_items:
        problems.append((f"criteria.{mode}", "must be a non-empty list of criteria"))
        return None
    before = len(problems)
    items = [_part(problems, f"criteria.{mode}[{i}]", Criterion, raw, _CRITERION)
             for i, raw in enumerate(raw_items)]
    if len(problems) > before:
        return None
    return Criteria(mode, tuple(items))


def rule_from_dict(data: Any) -> Rule:
    """Build a Rule from its dict shape or raise RuleError listing every problem."""
    if not isinstance(data, Mapping):
        raise RuleError([("rule", "must be an object")])
    problems: list[Problem] = [
        (str(key), "unknown field") for key in sorted(map(str, set(data) - _RULE_KEYS))
    ]
    missing = {key for key in _RULE_REQUIRED if key not in data}
    problems += [(key, "is required") for key in ("criteria", "window") if key in missing]
    criteria = _criteria(problems, data["criteria"]) if "criteria" in data else None
    window = None
    if "window" in data:
        window = _part(problems, "window", Window, data["window"], _WINDOW)
    baseline = _part(problems, "baseline", Baseline, data.get("baseline", {}), _BASELINE)
    fields = {**_RULE_DEFAULTS, **data}
    problems += [(name, "is required" if name in missing else reason)
                 for name, reason in rule_level_problems(fields, criteria)]
    if problems:
        raise RuleError(problems)
    return Rule(
        name=fields["name"],
        instrument=fields["instrument"],
        score=fields["score"],
        direction=fields["direction"],
        criteria=criteria,
        window=window,
        baseline=baseline,
        anchor=fields["anchor"],
        require_in_window=fields["require_in_window"],
        version=fields["version"],
        sd=fields["sd"],
        reliability=fields["reliability"],
    )
