"""Scores a set of answers against an instrument: values in, a ScoreResult out.

Pure by design: no Flask, no database, no clock. Scores are evaluated in dependency order
(a weighted sum may take subscales as inputs), with exact Fractions until the final
rounding, and raise flags (such as a PHQ-9 item 9 safety alert) from the answers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from .answers import check_answers
from .arith import exact, round_half_up, to_number
from .model import Condition, Instrument, Number, ScoreDef
from .result import Flag, ScoreResult, ScoreValue

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class ScoreCycleError(ValueError):
    """Scores that depend on each other in a circle (the loader rejects these files)."""


def score(
    instrument: Instrument, answers: Mapping[str, Any], *, require_complete: bool = True
) -> ScoreResult:
    """Validate `answers` (item id -> number) and compute every score and flag.

    Raises AnswerError listing every problem. With `require_complete=False` (imported
    paper forms) unanswered items are allowed; a score lacking inputs is returned with
    value None and the reason, and the result is marked incomplete.
    """
    values = check_answers(instrument, answers, require_complete=require_complete)
    computed: dict[str, ScoreValue] = {}
    for score_def in evaluation_order(instrument):
        computed[score_def.id] = _evaluate(instrument, score_def, values, computed)
    scores = {s.id: computed[s.id] for s in instrument.scores}
    flags = tuple(
        Flag(f.id, f.severity, instrument.text(f.message, instrument.languages[0]))
        for f in instrument.flags
        if _holds(f.when, values, scores)
    )
    missing = tuple(i.id for i in instrument.items if i.required and i.id not in values)
    complete = not missing and all(v.value is not None for v in scores.values())
    return ScoreResult(scores=scores, flags=flags, complete=complete, missing=missing)


def evaluation_order(instrument: Instrument) -> list[ScoreDef]:
    """Score definitions ordered so each comes after the scores it takes as inputs."""
    by_id = {s.id: s for s in instrument.scores}
    ordered: list[ScoreDef] = []
    state: dict[str, str] = {}

    def visit(score_def: ScoreDef, chain: tuple[str, ...]) -> None:
        if state.get(score_def.id) == "done":
            return
        if state.get(score_def.id) == "active":
            raise ScoreCycleError(" -> ".join((*chain, score_def.id)))
        state[score_def.id] = "active"
        for ref in score_def.inputs:
            if ref in by_id:
                visit(by_id[ref], (*chain, score_def.id))
        state[score_def.id] = "done"
        ordered.append(score_def)

    for score_def in instrument.scores:
        visit(score_def, ())
    return ordered


def _evaluate(
    instrument: Instrument,
    score_def: ScoreDef,
    values: Mapping[str, Number],
    computed: Mapping[str, ScoreValue],
) -> ScoreValue:
    item_ids = {i.id for i in instrument.items}
    inputs: dict[str, Number] = {}
    for ref in score_def.inputs:
        if ref in item_ids:
            raw = values.get(ref)
            if raw is not None and ref in score_def.reverse:
                item = instrument.item(ref)
                raw = item.min + item.max - raw
        else:
            raw = computed[ref].value
        if raw is not None:
            inputs[ref] = raw
    all_int = all(isinstance(raw, int) for raw in inputs.values())

    total = len(score_def.inputs)
    # min_answered only lowers the bar for means and for prorated sums.
    needed = score_def.needed if score_def.method == "mean" or score_def.prorate else total
    if len(inputs) < needed:
        noun = "items" if all(r in item_ids for r in score_def.inputs) else "inputs"
        verb = "answered" if noun == "items" else "available"
        reason = f"{len(inputs)} of {total} {noun} {verb}; needs {needed}"
        return ScoreValue(None, None, reason)

    value: Number | None
    if score_def.method == "mean":
        mean = _exact_sum(inputs.values(), all_int) / len(inputs)
        value = to_number(mean, digits=score_def.round, keep_int=False)
    elif score_def.method == "weighted_sum":
        weighted = sum(
            (exact(v) * score_def.weights.get(ref, Fraction(1)) for ref, v in inputs.items()),
            Fraction(0),
        )
        keep_int = all_int and all(w.denominator == 1 for w in score_def.weights.values())
        value = to_number(weighted, digits=score_def.round, keep_int=keep_int)
    else:
        raw_sum = _exact_sum(inputs.values(), all_int)
        prorated = len(inputs) < total
        if prorated:
            raw_sum = Fraction(int(round_half_up(raw_sum * total / len(inputs), 0)))
        if score_def.method == "sum":
            value = to_number(raw_sum, digits=score_def.round, keep_int=all_int or prorated)
        else:
            if raw_sum.denominator != 1 or int(raw_sum) not in score_def.table:
                shown = to_number(raw_sum, digits=None, keep_int=True)
                return ScoreValue(None, None, f"raw score {shown} is not in the table")
            looked_up = score_def.table[int(raw_sum)]
            if score_def.round is not None:
                looked_up = to_number(exact(looked_up), digits=score_def.round, keep_int=True)
            value = looked_up
    return ScoreValue(value, score_def.band_for(value), None)


def _exact_sum(values, all_int: bool) -> Fraction:
    """The exact sum as a Fraction. Whole answers (the usual case) add as ints: the same value
    as adding Fractions one by one, without a gcd per answer."""
    if all_int:
        return Fraction(sum(values))
    return sum(map(exact, values), Fraction(0))


def _holds(
    condition: Condition, values: Mapping[str, Number], scores: Mapping[str, ScoreValue]
) -> bool:
    test = OPERATORS[condition.op]
    found: list[Number] = []
    for ref in condition.refs:
        got = values.get(ref) if condition.source == "item" else scores[ref].value
        if got is not None:
            found.append(got)
    passed = [test(v, condition.value) for v in found]
    if condition.match == "all":
        return len(found) == len(condition.refs) and all(passed)
    return any(passed)
