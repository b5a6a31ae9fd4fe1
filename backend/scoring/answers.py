"""Checks submitted answers against an instrument, collecting every problem before failing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .arith import fmt, is_finite_number, on_grid
from .model import Instrument, Item, Number
from .result import AnswerError, Problem


def check_answers(
    instrument: Instrument, answers: Mapping[str, Any], *, require_complete: bool = True
) -> dict[str, Number]:
    """The answered values by item id, or AnswerError naming every bad field.

    A value of None counts as unanswered. Unknown item ids, wrong types (bools and strings
    are never numbers), values outside the options, range or step, and (when
    `require_complete`) unanswered required items are all problems.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError([Problem("answers", "must be an object mapping item ids to values")])
    items = {item.id: item for item in instrument.items}
    problems: list[Problem] = []
    values: dict[str, Number] = {}
    for key, value in answers.items():
        item = items.get(key) if isinstance(key, str) else None
        if item is None:
            problems.append(Problem(f"answers.{key}", f"not an item of {instrument.id}"))
            continue
        if value is None:
            continue
        reason = value_problem(item, value)
        if reason:
            problems.append(Problem(f"answers.{key}", reason))
        else:
            values[key] = value
    if require_complete:
        for item in instrument.items:
            if item.required and answers.get(item.id) is None:
                problems.append(Problem(f"answers.{item.id}", "required"))
    if problems:
        raise AnswerError(problems)
    return values


def value_problem(item: Item, value: Any) -> str | None:
    """Why `value` is not an acceptable answer to `item`, or None if it is."""
    if isinstance(value, str):
        return "must be a number, not text"
    if not is_finite_number(value):
        return "must be a finite number"
    if item.integer and not isinstance(value, int):
        return "must be a whole number"
    if item.kind == "choice":
        allowed = item.allowed_values() or ()
        if value not in allowed:
            return "must be one of " + ", ".join(fmt(v) for v in allowed)
        return None
    if not item.min <= value <= item.max:
        return f"must be from {fmt(item.min)} to {fmt(item.max)}"
    if not on_grid(value, item.min, item.step):
        return f"must be in steps of {fmt(item.step)} from {fmt(item.min)}"
    return None
