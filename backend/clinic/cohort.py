"""The cohort dashboard: one rule's outcomes for the whole clinic, as charts and tables."""

from __future__ import annotations

from ..charts.clinic import Curve, RateBar, Series, change_chart, km_chart, rate_chart
from ..rules import evaluation
from ..rules import service as rules
from .pages import DEFAULT_LIST_RULES, rule_label
from .words import REASON_WORDS

GROUPINGS = ("none", "arm", "period", "arm_period", "drug")


def _threshold_pct(rule_def: dict) -> float | None:
    (_mode, items), = rule_def["criteria"].items()
    lower = rule_def.get("direction", "lower_is_better") == "lower_is_better"
    for item in items:
        if item["kind"] == "percent_improvement":
            return -item["value"] if lower else item["value"]
    return None


def group_label(key: dict) -> str:
    """A group's key as people say it: "ketamine, period 1", "no arm", "everyone"."""
    parts = []
    for name, value in key.items():
        if value is None:
            parts.append(f"no {name}")
        else:
            parts.append(f"period {value}" if name == "period" else str(value))
    return ", ".join(parts) or "everyone"


def cohort_figures(result: dict, rule_def: dict) -> dict:
    """SVG charts and table rows from a cohort result (CohortResult.to_dict shape)."""
    groups = result["groups"]
    for g in groups:
        g["label"] = group_label(g["key"])
    bars = [RateBar(g["label"], g["rate"], g["ci_low"], g["ci_high"], g["responders"],
                    g["evaluable"]) for g in groups]
    series = [Series(g["label"], [(t["label"], t["hours"], t["mean_change_pct"], t["n"])
                                  for t in g["timepoints"]]) for g in groups]
    curves = [Curve(g["label"], [(s["t"], s["survival"], s["at_risk"])
                                 for s in g["durability"]["steps"]],
                    g["durability"]["n"], g["durability"]["median"])
              for g in groups if g["durability"]]
    shown_tp = [i for i, t in enumerate(groups[0]["timepoints"]) if any(
        g["timepoints"][i]["n"] for g in groups)] if groups else []
    trimmed = [Series(s.label, [s.points[i] for i in shown_tp]) for s in series]
    return {
        "rates_svg": rate_chart(bars, title="Response rate with 95% interval"),
        "changes_svg": change_chart(trimmed, threshold_pct=_threshold_pct(rule_def)),
        "km_svg": km_chart(curves) if curves else None,
        "timepoint_index": shown_tp,
        "reason_words": REASON_WORDS,
    }


def cohort_page(clinic_id: int, rule_ref: str | None, group_by: str, per: str) -> dict:
    current = rules.list_rules(clinic_id)
    if not current:
        return {"rules": [], "rule": None}
    by_key = {r.key: r for r in current}
    rule = by_key.get(rule_ref or "") or by_key.get(DEFAULT_LIST_RULES[0]) or current[0]
    if rule_ref and rule_ref not in by_key:
        rule = rules.get_rule(clinic_id, rule_ref)  # id or key@version; 404 when unknown
    group_by = group_by if group_by in GROUPINGS else "none"
    per = per if per in ("anchor", "patient") else "anchor"
    result = evaluation.cohort_outcomes(clinic_id, rule, group_by=group_by, per=per)
    return {"rules": current, "rule": rule, "rule_label": rule_label(rule), "result": result,
            "group_by": group_by, "per": per, **cohort_figures(result, rule.definition)}
