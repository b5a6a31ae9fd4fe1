"""The scoring core on the published worked examples, every method, flags and bad answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from backend.instruments import SHIPPED_DIR, Registry, build_registry
from backend.scoring import AnswerError, Instrument, score

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"
REPO = Path(__file__).resolve().parents[2]


@cache
def registry() -> Registry:
    return build_registry([SHIPPED_DIR, FIXTURES])


def instrument(instrument_id: str) -> Instrument:
    return registry().get(instrument_id)


def answers(prefix: str, values: list[int | float]) -> dict[str, int | float]:
    return {f"{prefix}_{n}": v for n, v in enumerate(values, start=1)}


def fields_of(error: pytest.ExceptionInfo[AnswerError]) -> dict[str, str]:
    return {p.field: p.reason for p in error.value.problems}


# --- the pure core stays pure -------------------------------------------------------------


def test_importing_the_scoring_core_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import backend.scoring, sys; "
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy'))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_the_scoring_core_never_reads_the_clock_or_the_database():
    for path in (REPO / "backend" / "scoring").glob("*.py"):
        source = path.read_text()
        for banned in ("datetime", "import time", "flask", "sqlalchemy", "random"):
            assert banned not in source, f"{path.name} mentions {banned}"


# --- worked examples from the publications ------------------------------------------------


def test_phq9_worked_example_scores_10_moderate_with_phq2_of_5():
    result = score(instrument("phq9"), answers("phq9", [2, 3, 1, 2, 0, 1, 0, 1, 0]))
    assert result.scores["total"].value == 10
    assert isinstance(result.scores["total"].value, int)
    assert result.scores["total"].band == "moderate"
    assert result.scores["phq2"].value == 5
    assert result.scores["phq2"].band == "positive"
    assert result.flags == ()
    assert result.complete and result.missing == ()


def test_gad7_worked_example_scores_8_mild_with_gad2_of_3():
    result = score(instrument("gad7"), answers("gad7", [1, 2, 2, 1, 0, 1, 1]))
    assert result.scores["total"].value == 8
    assert result.scores["total"].band == "mild"
    assert result.scores["gad2"].value == 3


def test_peg_worked_example_is_the_mean_to_one_decimal():
    result = score(instrument("peg"), answers("peg", [7, 6, 5]))
    assert result.scores["total"].value == 6.0
    assert isinstance(result.scores["total"].value, float)


def test_peg_rounds_halves_up_not_to_even():
    # 0.25 -> 0.3 (banker's rounding would give 0.2); mean of [0, 0, 1] = 0.333 -> 0.3
    assert score(instrument("peg"), answers("peg", [1, 1, 0])).scores["total"].value == 0.7
    assert score(instrument("peg"), answers("peg", [0, 0, 1])).scores["total"].value == 0.3
    assert score(instrument("peg"), answers("peg", [2, 2, 1])).scores["total"].value == 1.7


def test_standalone_screens_score_their_two_items():
    assert score(instrument("phq2"), answers("phq2", [3, 0])).scores["total"].band == "positive"
    assert score(instrument("gad2"), answers("gad2", [1, 1])).scores["total"].band == "negative"


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (14, "moderate"), (15, "moderately severe"),
     (19, "moderately severe"), (20, "severe"), (27, "severe")],
)
def test_phq9_band_edges_follow_the_published_cutoffs(total, band):
    values = [min(3, max(0, total - 3 * n)) for n in range(9)]
    values[8] = 0 if total <= 24 else values[8]
    values[7] = min(3, total - sum(values[:7]) - values[8])
    result = score(instrument("phq9"), answers("phq9", values))
    assert result.scores["total"].value == total
    assert result.scores["total"].band == band


# --- flags -----------------------------------------------------------------------------------


def test_any_phq9_item_9_answer_above_zero_raises_a_safety_flag():
    result = score(instrument("phq9"), answers("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1]))
    assert [f.id for f in result.flags] == ["suicidality"]
    assert result.flags[0].severity == "safety"
    assert result.safety
    assert "item 9" in result.flags[0].message


def test_side_effect_check_flags_any_severe_effect_and_any_feeling_unsafe():
    ids = [i.id for i in instrument("side_effects").items]
    calm = score(instrument("side_effects"), dict.fromkeys(ids, 0))
    assert calm.flags == () and calm.scores["burden"].value == 0
    severe = score(instrument("side_effects"), {**dict.fromkeys(ids, 0), "se_headache": 3})
    assert [(f.id, f.severity) for f in severe.flags] == [("severe_side_effect", "info")]
    unsafe = score(instrument("side_effects"), {**dict.fromkeys(ids, 1), "se_unsafe": 1})
    assert [(f.id, f.severity) for f in unsafe.flags] == [("feeling_unsafe", "safety")]
    assert unsafe.scores["burden"].value == 7


def test_a_flag_can_test_a_computed_score():
    result = score(instrument("fake_severity"), answers("fs", [5, 5, 5, 5, 4]))
    assert result.scores["mean"].value == 4.8
    assert [f.id for f in result.flags] == ["significant"]


# --- every method, on made-up licensed-style instruments ------------------------------------


def test_reverse_scored_items_count_as_min_plus_max_minus_the_answer():
    # fe_1..fe_4 reversed (4 - x), fe_5 and fe_6 as given: 4*4 + 0 + 0
    result = score(instrument("fake_energy"), answers("fe", [0, 0, 0, 0, 0, 0]))
    assert result.scores["total"].value == 16
    assert result.scores["total"].band == "typical energy"
    result = score(instrument("fake_energy"), answers("fe", [4, 4, 4, 4, 4, 4]))
    assert result.scores["total"].value == 8


def test_a_weighted_sum_of_subscales_is_exact_until_rounded():
    values = {"fi_f1": 1, "fi_f2": 0, "fi_f3": 0, "fi_o1": 2, "fi_o2": 0,
              "fi_s1": 1, "fi_s2": 0, "fi_s3": 0, "fi_s4": 0}
    result = score(instrument("fake_impact"), values)
    assert result.scores["function"].value == 1
    assert result.scores["overall"].value == 2
    assert result.scores["symptom"].value == 1
    # 1/3 + 2 + 1/2 = 2.8333... -> 2.8
    assert result.scores["total"].value == 2.8


def test_a_lookup_turns_the_raw_sum_into_a_t_score():
    result = score(instrument("fake_tscore"), answers("ft", [1, 1, 1, 1, 1, 1]))
    assert result.scores["raw"].value == 6
    assert result.scores["tscore"].value == 33.0
    result = score(instrument("fake_tscore"), answers("ft", [5, 5, 5, 5, 5, 5]))
    assert result.scores["tscore"].value == 75.0
    assert result.scores["tscore_from_raw"].value == 75.0


def test_a_prorated_lookup_scales_the_raw_sum_of_answered_items_up_to_all_items():
    partial = {"ft_1": 2, "ft_2": 2, "ft_3": 3, "ft_4": 3}  # 10 * 6 / 4 = 15
    result = score(instrument("fake_tscore"), partial, require_complete=False)
    assert result.scores["raw"].value == 15
    assert result.scores["tscore"].value == 48.8
    assert result.scores["tscore_from_raw"].value == 48.8
    assert result.missing == ("ft_5", "ft_6")
    assert not result.complete


def test_prorating_rounds_half_up():
    partial = {"ft_1": 1, "ft_2": 1, "ft_3": 1, "ft_4": 1, "ft_5": 2}  # 6 * 6 / 5 = 7.2
    result = score(instrument("fake_tscore"), partial, require_complete=False)
    assert result.scores["raw"].value == 7
    partial = {"ft_1": 1, "ft_2": 1, "ft_3": 1, "ft_4": 2}  # 5 * 6 / 4 = 7.5 -> 8
    result = score(instrument("fake_tscore"), partial, require_complete=False)
    assert result.scores["raw"].value == 8


def test_too_few_answers_for_a_lookup_leave_it_unscored_with_the_reason():
    result = score(instrument("fake_tscore"), {"ft_1": 1, "ft_2": 1, "ft_3": 1},
                   require_complete=False)
    assert result.scores["tscore"].value is None
    assert result.scores["tscore"].reason == "3 of 6 items answered; needs 4"
    assert result.scores["tscore_from_raw"].reason == "0 of 1 inputs available; needs 1"


def test_a_mean_of_answered_items_needs_its_minimum_and_rounds_to_two_decimals():
    result = score(instrument("fake_severity"), {"fs_1": 1, "fs_2": 2, "fs_3": 2, "fs_4": 2},
                   require_complete=False)
    assert result.scores["mean"].value == 1.75
    result = score(instrument("fake_severity"), answers("fs", [1, 2, 2, 2, 2]))
    assert result.scores["mean"].value == 1.8
    assert result.scores["mean"].band == "not significant"


def test_higher_is_better_is_carried_on_the_score_definition():
    assert instrument("fake_energy").primary_score.direction == "higher_is_better"
    assert instrument("nrs_sleep").primary_score.direction == "higher_is_better"
    assert instrument("pgic").primary_score.direction == "lower_is_better"


def test_a_slider_takes_any_value_on_its_step_grid():
    result = score(instrument("vas_fatigue"), {"vas_fatigue_1": 37})
    assert result.scores["score"].value == 37
    result = score(instrument("fake_severity"),
                   {**answers("fs", [1, 1, 1, 1, 1]), "fs_extra": 7.5})
    assert result.complete


# --- incomplete paper forms -------------------------------------------------------------------


def test_an_incomplete_phq9_import_is_stored_unscored_with_the_reason():
    result = score(instrument("phq9"), {"phq9_1": 1, "phq9_2": 2, "phq9_9": 0},
                   require_complete=False)
    assert result.scores["total"].value is None
    assert result.scores["total"].band is None
    assert result.scores["total"].reason == "3 of 9 items answered; needs 9"
    assert result.scores["phq2"].value == 3
    assert not result.complete
    assert result.missing == tuple(f"phq9_{n}" for n in (3, 4, 5, 6, 7, 8))


def test_an_incomplete_form_still_raises_flags_from_what_was_answered():
    result = score(instrument("phq9"), {"phq9_9": 2}, require_complete=False)
    assert [f.id for f in result.flags] == ["suicidality"]


def test_the_unscored_difficulty_item_is_optional():
    result = score(instrument("phq9"), answers("phq9", [0] * 9))
    assert result.complete
    result = score(instrument("phq9"), answers("phq9", [0] * 9 + [2]))
    assert result.scores["total"].value == 0


def test_a_result_converts_to_plain_json_data():
    result = score(instrument("phq9"), answers("phq9", [1] * 9), require_complete=True)
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["scores"]["total"] == {"value": 9, "band": "mild", "reason": None}
    assert data["flags"][0]["id"] == "suicidality"
    assert data["complete"] is True and data["missing"] == []


# --- bad answers ---------------------------------------------------------------------------------


def test_an_unknown_item_is_named_in_the_error():
    with pytest.raises(AnswerError) as error:
        score(instrument("phq2"), {"phq2_1": 0, "phq2_2": 0, "phq9_3": 1})
    assert fields_of(error) == {"answers.phq9_3": "not an item of phq2"}


@pytest.mark.parametrize("bad", [True, False, "2", 1.0, 2.5, float("nan"), float("inf"), [1],
                                 {"v": 1}])
def test_a_value_of_the_wrong_type_is_named_in_the_error(bad):
    with pytest.raises(AnswerError) as error:
        score(instrument("phq2"), {"phq2_1": bad, "phq2_2": 0})
    assert list(fields_of(error)) == ["answers.phq2_1"]


def test_a_value_that_is_not_an_option_is_rejected_with_the_options():
    with pytest.raises(AnswerError) as error:
        score(instrument("phq2"), {"phq2_1": 4, "phq2_2": -1})
    assert fields_of(error) == {
        "answers.phq2_1": "must be one of 0, 1, 2, 3",
        "answers.phq2_2": "must be one of 0, 1, 2, 3",
    }


def test_a_value_out_of_range_or_off_step_is_rejected():
    with pytest.raises(AnswerError) as error:
        score(instrument("peg"), {"peg_1": 11, "peg_2": -1, "peg_3": 5})
    assert fields_of(error) == {"answers.peg_1": "must be from 0 to 10",
                                "answers.peg_2": "must be from 0 to 10"}
    with pytest.raises(AnswerError) as error:
        score(instrument("fake_severity"), {**answers("fs", [1] * 5), "fs_extra": 7.25})
    assert fields_of(error) == {"answers.fs_extra": "must be in steps of 0.5 from 0"}


def test_a_missing_required_item_is_named_in_the_error():
    with pytest.raises(AnswerError) as error:
        score(instrument("phq9"), answers("phq9", [0] * 7))
    assert fields_of(error) == {"answers.phq9_8": "required", "answers.phq9_9": "required"}


def test_every_problem_is_reported_at_once():
    bad = {"phq9_1": "0", "phq9_2": True, "phq9_3": 7, "bogus": 1, "phq9_4": 1.5}
    with pytest.raises(AnswerError) as error:
        score(instrument("phq9"), bad)
    found = fields_of(error)
    assert set(found) == {"answers.phq9_1", "answers.phq9_2", "answers.phq9_3",
                          "answers.bogus", "answers.phq9_4", "answers.phq9_5",
                          "answers.phq9_6", "answers.phq9_7", "answers.phq9_8",
                          "answers.phq9_9"}
    assert found["answers.phq9_1"] == "must be a number, not text"
    assert found["answers.phq9_4"] == "must be a whole number"
    assert error.value.status_code == 422
    assert "answers.bogus" in str(error.value)


def test_answers_that_are_not_a_mapping_are_rejected():
    with pytest.raises(AnswerError) as error:
        score(instrument("phq2"), [0, 0])  # type: ignore[arg-type]
    assert list(fields_of(error)) == ["answers"]


def test_null_counts_as_unanswered():
    with pytest.raises(AnswerError) as error:
        score(instrument("phq2"), {"phq2_1": None, "phq2_2": 0})
    assert fields_of(error) == {"answers.phq2_1": "required"}
    result = score(instrument("phq2"), {"phq2_1": None, "phq2_2": 0}, require_complete=False)
    assert result.missing == ("phq2_1",)
