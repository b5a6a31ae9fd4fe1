"""An instrument's default rules in the outcomes core's rule-dict shape, ready to install.

Instrument files write rules compactly (`window_hours: [0, 72]`, no instrument or
direction, since the file already says them); the outcomes core wants each rule whole.
"""

from __future__ import annotations

from typing import Any

from backend.scoring.model import Instrument

_WINDOW_KEYS = ("evaluation", "nominal_hours", "tolerance_hours", "sustained_hours")


def preset_rules(instrument: Instrument) -> list[dict[str, Any]]:
    """Every default rule of `instrument` as a dict `backend.outcomes.rule_from_dict` reads."""
    return [preset_rule(instrument, rule) for rule in instrument.default_rules]


def preset_rule(instrument: Instrument, rule: dict[str, Any]) -> dict[str, Any]:
    """One default rule in full: instrument, direction from its score, window spelled out."""
    score_def = instrument.score_def(rule["score"])
    start, end = rule["window_hours"]
    window: dict[str, Any] = {"start_hours": start, "end_hours": end}
    window.update({key: rule[key] for key in _WINDOW_KEYS if key in rule})
    out: dict[str, Any] = {
        "name": rule["name"],
        "instrument": instrument.id,
        "score": score_def.id,
        "direction": score_def.direction,
        "criteria": {mode: [dict(c) for c in items] for mode, items in rule["criteria"].items()},
        "window": window,
        "anchor": rule.get("anchor", "each_session"),
    }
    if "baseline" in rule:
        out["baseline"] = dict(rule["baseline"])
    if score_def.sd is not None:
        out["sd"] = score_def.sd
    if score_def.reliability is not None:
        out["reliability"] = score_def.reliability
    return out
