"""Properties of scoring over random valid answers, checked against a naive reimplementation."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.instruments import SHIPPED_DIR, Registry, build_registry
from backend.scoring import Instrument, Item, score, score_ranges

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"


@cache
def registry() -> Registry:
    return build_registry([SHIPPED_DIR, FIXTURES])


ALL_IDS = sorted(registry().ids())


def values_of(item: Item) -> st.SearchStrategy[int | float]:
    allowed = item.allowed_values()
    if allowed is not None:
        return st.sampled_from(allowed)
    steps = round((item.max - item.min) / item.step)
    if item.integer:
        return st.integers(0, steps).map(lambda n: item.min + n * item.step)
    return st.integers(0, steps).map(lambda n: float(item.min + n * item.step))


def complete_answers(instrument: Instrument) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({item.id: values_of(item) for item in instrument.items})


def partial_answers(instrument: Instrument) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {}, optional={item.id: values_of(item) for item in instrument.items}
    )


@st.composite
def instrument_and_answers(draw, complete: bool = True):
    instrument = registry().get(draw(st.sampled_from(ALL_IDS)))
    make = complete_answers if complete else partial_answers
    return instrument, draw(make(instrument))


@settings(max_examples=400)
@given(instrument_and_answers())
def test_every_score_of_every_instrument_stays_inside_its_declared_range(case):
    instrument, answers = case
    result = score(instrument, answers)
    assert result.complete
    for score_def in instrument.scores:
        value = result.scores[score_def.id].value
        low, high = score_def.range
        assert value is not None and low <= value <= high, (score_def.id, value)


@settings(max_examples=300)
@given(instrument_and_answers(complete=False))
def test_partial_answers_give_in_range_scores_or_none_with_a_reason(case):
    instrument, answers = case
    result = score(instrument, answers, require_complete=False)
    bounds = score_ranges(instrument)
    for score_def in instrument.scores:
        got = result.scores[score_def.id]
        if got.value is None:
            assert got.reason and got.band is None
        else:
            low, high = bounds[score_def.id]
            assert low <= got.value <= high
    assert result.complete == (not result.missing and all(
        v.value is not None for v in result.scores.values()))


@settings(max_examples=200)
@given(instrument_and_answers())
def test_scoring_is_deterministic_and_does_not_touch_the_answers(case):
    instrument, answers = case
    before = dict(answers)
    first = score(instrument, answers).to_dict()
    assert score(instrument, answers).to_dict() == first
    assert answers == before


def naive_sum(values: list[int]) -> int:
    total = 0
    for v in values:
        total += v
    return total


def naive_mean_one_decimal(values: list[int]) -> float:
    # Published PEG rule: average of the three items to one decimal, .x5 rounds up.
    tenths_times_n = naive_sum(values) * 10
    n = len(values)
    whole, rest = divmod(tenths_times_n, n)
    if rest * 2 >= n:
        whole += 1
    return whole / 10


@settings(max_examples=300)
@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_agrees_with_a_straightforward_reading_of_the_published_rules(items):
    result = score(registry().get("phq9"), {f"phq9_{n}": v for n, v in enumerate(items, 1)})
    total = naive_sum(items)
    assert result.scores["total"].value == total
    assert result.scores["phq2"].value == items[0] + items[1]
    bands = ["minimal"] * 5 + ["mild"] * 5 + ["moderate"] * 5 + ["moderately severe"] * 5
    assert result.scores["total"].band == (bands + ["severe"] * 8)[total]
    assert ("suicidality" in [f.id for f in result.flags]) == (items[8] > 0)


@settings(max_examples=300)
@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_gad7_agrees_with_a_straightforward_reading_of_the_published_rules(items):
    result = score(registry().get("gad7"), {f"gad7_{n}": v for n, v in enumerate(items, 1)})
    total = naive_sum(items)
    assert result.scores["total"].value == total
    assert result.scores["gad2"].value == items[0] + items[1]
    band = "minimal" if total < 5 else "mild" if total < 10 else "moderate" if total < 15 else (
        "severe")
    assert result.scores["total"].band == band


@settings(max_examples=300)
@given(st.lists(st.integers(0, 10), min_size=3, max_size=3))
def test_peg_agrees_with_a_straightforward_reading_of_the_published_rule(items):
    result = score(registry().get("peg"), {f"peg_{n}": v for n, v in enumerate(items, 1)})
    assert result.scores["total"].value == naive_mean_one_decimal(items)


@settings(max_examples=200)
@given(complete_answers(registry().get("fake_energy")), st.data())
def test_raising_a_reverse_scored_item_lowers_the_total(answers, data):
    instrument = registry().get("fake_energy")
    reversed_items = instrument.primary_score.reverse
    item_id = data.draw(st.sampled_from(reversed_items))
    if answers[item_id] == instrument.item(item_id).max:
        answers[item_id] -= 1
    before = score(instrument, answers).scores["total"].value
    after = score(instrument, {**answers, item_id: answers[item_id] + 1}).scores["total"].value
    assert after == before - 1


@settings(max_examples=200)
@given(complete_answers(registry().get("fake_energy")), st.data())
def test_raising_a_plainly_scored_item_raises_the_total(answers, data):
    instrument = registry().get("fake_energy")
    total = instrument.primary_score
    plain = [i for i in total.inputs if i not in total.reverse]
    item_id = data.draw(st.sampled_from(plain))
    if answers[item_id] == instrument.item(item_id).max:
        answers[item_id] -= 1
    before = score(instrument, answers).scores["total"].value
    after = score(instrument, {**answers, item_id: answers[item_id] + 1}).scores["total"].value
    assert after == before + 1


@settings(max_examples=200)
@given(complete_answers(registry().get("fake_impact")))
def test_the_weighted_sum_matches_the_fiqr_style_formula(answers):
    result = score(registry().get("fake_impact"), answers)
    function = sum(answers[f"fi_f{n}"] for n in (1, 2, 3))
    overall = sum(answers[f"fi_o{n}"] for n in (1, 2))
    symptom = sum(answers[f"fi_s{n}"] for n in (1, 2, 3, 4))
    exact_tenths = (function * 10 * 2 + overall * 10 * 6 + symptom * 10 * 3)  # over 6
    whole, rest = divmod(exact_tenths, 6)
    expected = (whole + (1 if rest * 2 >= 6 else 0)) / 10
    assert result.scores["total"].value == expected
