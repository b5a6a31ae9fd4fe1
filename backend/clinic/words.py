"""PURE: verdicts and rules said in words, for clinicians reading between patients.

"Pain fell 43% from 7.0 by 24 h: responder (rule: pain -30% within 7 days)".
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

REASON_WORDS = {
    "no_baseline": "no score in the baseline span before the dose",
    "baseline_zero": "baseline was 0, so a percent change cannot be told",
    "no_followup": "no score in the rule's window after the dose",
    "out_of_window": "scores in the window came outside their schedule times",
}
VERDICT_WORDS = {"responder": "responder", "non_responder": "non-responder",
                 "not_evaluable": "not evaluable"}
#: The mark before a verdict's words, so it reads without colour.
VERDICT_MARKS = {"responder": "✓", "non_responder": "✗", "not_evaluable": "?"}
MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec")


def when_text(at: datetime | None, tz: tzinfo | None = None) -> str:
    """"3 Oct 2026 08:00" in ``tz``: ``strftime("%-d %b %Y %H:%M")``, several times faster
    (pages print hundreds of these)."""
    if at is None:
        return "—"
    local = at.astimezone(tz) if tz else at
    return f"{local.day} {MONTHS[local.month]} {local.year} {local.hour:02d}:{local.minute:02d}"


def num(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    return f"{v:.{digits}f}"


def hours_text(h: float | None) -> str:
    """Elapsed hours as a clinician says them: 40 min, 24 h, 3 days, 5 weeks."""
    if h is None:
        return "—"
    if h < 1:
        return f"{round(h * 60)} min"
    if h < 48:
        return f"{h:.0f} h" if abs(h - round(h)) < 0.05 or h >= 10 else f"{h:.1f} h"
    days = h / 24
    if days < 28:
        return f"{days:.0f} days" if abs(days - round(days)) < 0.05 else f"{days:.1f} days"
    return f"{days / 7:.0f} weeks"


def criterion_text(item: dict[str, Any], direction: str) -> str:
    lower = direction == "lower_is_better"
    value = item["value"]
    if item["kind"] == "percent_improvement":
        return f"{'-' if lower else '+'}{value:g}%"
    if item["kind"] == "absolute_improvement":
        return f"{'-' if lower else '+'}{value:g} points"
    op = ("≤" if item.get("inclusive") else "<") if lower else (
        "≥" if item.get("inclusive") else ">")
    return f"{op} {value:g}"


def rule_text(definition: dict[str, Any], label: str = "") -> str:
    """A rule in a few words: "pain -30% within 7 days"."""
    (mode, items), = definition["criteria"].items()
    joiner = " and " if mode == "all" else " or "
    crit = joiner.join(criterion_text(i, definition.get("direction", "lower_is_better"))
                       for i in items)
    window = definition["window"]
    start, end = window["start_hours"], window["end_hours"]
    when = f"within {hours_text(end)}" if not start else \
        f"between {hours_text(start)} and {hours_text(end)}"
    if window.get("evaluation") == "nearest":
        when = f"at {hours_text(window['nominal_hours'])}"
    elif window.get("evaluation") == "sustained":
        when += f", held {hours_text(window['sustained_hours'])}"
    elif window.get("evaluation") == "all":
        when += ", at every answer"
    return " ".join(p for p in (label, crit, when) if p)


def threshold_value(definition: dict[str, Any], baseline: float | None) -> float | None:
    """The score a follow-up must reach to meet the rule's first criterion (for the chart)."""
    (_mode, items), = definition["criteria"].items()
    lower = definition.get("direction", "lower_is_better") == "lower_is_better"
    item = items[0]
    if item["kind"] == "cutoff":
        return float(item["value"])
    if baseline is None:
        return None
    if item["kind"] == "percent_improvement":
        delta = abs(baseline) * item["value"] / 100
    else:
        delta = item["value"]
    return baseline - delta if lower else baseline + delta


def verdict_sentence(label: str, verdict: dict[str, Any], rule_label: str) -> str:
    """One verdict (AnchorVerdict.to_dict shape, followups included) as a sentence."""
    name = label[:1].upper() + label[1:]
    outcome = VERDICT_WORDS[verdict["verdict"]]
    if verdict["verdict"] == "not_evaluable":
        return f"{name}: not evaluable, {REASON_WORDS.get(verdict['reason'], verdict['reason'])}" \
               f" (rule: {rule_label})"
    base = verdict["baseline"]
    rows = [r for r in verdict.get("followups", []) if r["counted"]]
    point = None
    if verdict["verdict"] == "responder" and verdict["onset_hours"] is not None:
        point = next((r for r in rows if r["meets"] and r["hours"] >= verdict["onset_hours"]
                      - 1e-9), None)
    if point is None and rows:  # the best answer in the window
        point = max(rows, key=lambda r: (r["improvement_pct"] is not None,
                                         r["improvement_pct"] or 0, -r["hours"]))
    if point is None:
        return f"{name}: {outcome} (rule: {rule_label})"
    change = point["change_pct"]
    if change is None:
        moved = f"was {num(point['value'])} (baseline {num(base)})"
    elif abs(change) < 0.5:
        moved = f"stayed at {num(point['value'])} from {num(base)}"
    else:
        verb = "fell" if change < 0 else "rose"
        moved = f"{verb} {abs(change):.0f}% from {num(base)}"
    return f"{name} {moved} by {hours_text(point['hours'])}: {outcome} (rule: {rule_label})"
