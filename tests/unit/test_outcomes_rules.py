"""Rules: built from and written to their plain dict shape, with every problem reported."""

from __future__ import annotations

import copy
import json

import pytest
from test_outcomes_support import BASE_RULE, make_rule

from backend.outcomes import Baseline, Criteria, Criterion, Rule, RuleError, Window


def problems_of(data) -> dict[str, str]:
    with pytest.raises(RuleError) as caught:
        Rule.from_dict(data)
    return dict(caught.value.problems)


def with_changes(**changes):
    data = copy.deepcopy(BASE_RULE)
    data.update(changes)
    return data


def test_a_rule_has_sensible_defaults():
    rule = Rule.from_dict(BASE_RULE)
    assert rule.baseline == Baseline("last", 168)
    assert (rule.anchor, rule.require_in_window, rule.version) == ("each_session", False, 1)
    assert rule.window == Window(0, 72, "any")
    assert rule.criteria == Criteria("all", (Criterion("percent_improvement", 20),))


def test_a_full_rule_survives_a_round_trip_through_json():
    data = {
        "name": "PHQ-9 response or remission at 24 h",
        "instrument": "phq9",
        "score": "total",
        "direction": "lower_is_better",
        "criteria": {"any": [{"kind": "percent_improvement", "value": 50},
                             {"kind": "cutoff", "value": 5, "inclusive": False}]},
        "window": {"start_hours": 0, "end_hours": 72, "evaluation": "nearest",
                   "nominal_hours": 24, "tolerance_hours": 6},
        "baseline": {"method": "mean", "span_hours": 336},
        "anchor": "first_of_course",
        "require_in_window": True,
        "version": 3,
        "sd": 5.2,
        "reliability": 0.84,
    }
    rule = Rule.from_dict(data)
    assert rule.to_dict() == data
    assert Rule.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule


def test_every_problem_is_reported_at_once():
    found = problems_of({
        "name": "",
        "instrument": "phq9",
        "direction": "downwards",
        "criteria": {"all": [{"kind": "percent_drop", "value": 50},
                             {"kind": "absolute_improvement", "value": -5},
                             {"kind": "percent_improvement", "value": 20, "inclusive": True}]},
        "window": {"start_hours": 72, "end_hours": 24, "evaluation": "nearest"},
        "baseline": {"method": "median", "span_hours": -1},
        "anchor": "whenever",
        "colour": "blue",
        "sd": 4,
    })
    assert found == {
        "colour": "unknown field",
        "criteria.all[0].kind": "unknown value 'percent_drop'; expected one of "
                                "percent_improvement, absolute_improvement, cutoff",
        "criteria.all[1].value": "must be greater than 0",
        "criteria.all[2].inclusive": "applies only to a cutoff criterion",
        "window.end_hours": "must not be before start_hours",
        "window.nominal_hours": "is required when evaluation is 'nearest'",
        "baseline.method": "unknown value 'median'; expected one of last, mean",
        "baseline.span_hours": "must be greater than 0",
        "name": "must be a non-empty string",
        "score": "is required",
        "direction": "unknown value 'downwards'; expected one of lower_is_better, "
                     "higher_is_better",
        "anchor": "unknown value 'whenever'; expected one of each_session, first_of_course, "
                  "last_of_course",
        "reliability": "sd and reliability are needed together for reliable change",
    }


def test_a_percent_drop_above_100_is_impossible_for_a_lower_is_better_score():
    found = problems_of(with_changes(
        criteria={"all": [{"kind": "percent_improvement", "value": 120}]}))
    assert found == {"criteria.all[0].value": "a drop of more than 100% is impossible"}
    rise = with_changes(direction="higher_is_better",
                        criteria={"all": [{"kind": "percent_improvement", "value": 120}]})
    assert Rule.from_dict(rise).criteria.items[0].value == 120


@pytest.mark.parametrize(("criteria", "field", "reason"), [
    ({}, "criteria", "must be an object with exactly one key, 'all' or 'any'"),
    ({"all": [], }, "criteria.all", "must be a non-empty list of criteria"),
    ({"all": [{"value": 3}]}, "criteria.all[0].kind", "is required"),
    ({"any": [{"kind": "cutoff", "value": "five"}]}, "criteria.any[0].value",
     "must be a finite number"),
    ({"all": [{"kind": "cutoff", "value": 5}], "any": []}, "criteria",
     "must be an object with exactly one key, 'all' or 'any'"),
])
def test_criteria_must_be_well_formed(criteria, field, reason):
    assert problems_of(with_changes(criteria=criteria)) == {field: reason}


@pytest.mark.parametrize(("window", "field", "reason"), [
    ({"start_hours": -1, "end_hours": 72}, "window.start_hours", "must not be negative"),
    ({"end_hours": 72}, "window.start_hours", "is required"),
    ({"start_hours": 0, "end_hours": 72, "evaluation": "nearest", "nominal_hours": 80},
     "window.nominal_hours", "must lie inside the window"),
    ({"start_hours": 0, "end_hours": 72, "evaluation": "nearest", "nominal_hours": 24,
      "tolerance_hours": -6}, "window.tolerance_hours", "must not be negative"),
    ({"start_hours": 0, "end_hours": 72, "nominal_hours": 24}, "window.nominal_hours",
     "is used only when evaluation is 'nearest'"),
    ({"start_hours": 0, "end_hours": 72, "evaluation": "sustained"}, "window.sustained_hours",
     "is required when evaluation is 'sustained'"),
    ({"start_hours": 0, "end_hours": 72, "evaluation": "sustained", "sustained_hours": 96},
     "window.sustained_hours", "is longer than the window, so never met"),
    ({"start_hours": 0, "end_hours": 72, "evaluation": "eventually"}, "window.evaluation",
     "unknown value 'eventually'; expected one of any, all, nearest, sustained"),
    ({"start_hours": 0, "end_hours": 72, "days": 3}, "window.days", "unknown field"),
    ([0, 72], "window", "must be an object"),
    # Ten years at most: far longer does not fit a time span (it was a 500 in a preview).
    ({"start_hours": 0, "end_hours": 1e300}, "window.end_hours", "must be at most 87660"),
    ({"start_hours": 0, "end_hours": 72, "evaluation": "nearest", "nominal_hours": 24,
      "tolerance_hours": 1e12}, "window.tolerance_hours", "must be at most 87660"),
])
def test_a_window_must_make_sense(window, field, reason):
    assert problems_of(with_changes(window=window)) == {field: reason}


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"version": 0}, "version", "must be a whole number >= 1"),
    ({"require_in_window": "yes"}, "require_in_window", "must be true or false"),
    ({"sd": 5, "reliability": 1}, "reliability",
     "must be below 1 (a reliability of 1 has no error)"),
    ({"sd": 0, "reliability": 0.8}, "sd", "must be greater than 0"),
    ({"baseline": {"span_hours": 1e9}}, "baseline.span_hours", "must be at most 87660"),
])
def test_rule_fields_are_checked(changes, field, reason):
    assert problems_of(with_changes(**changes)) == {field: reason}


def test_a_rule_that_is_not_an_object_is_refused():
    assert problems_of(["not", "a", "rule"]) == {"rule": "must be an object"}


def test_building_a_rule_directly_checks_it_too():
    with pytest.raises(RuleError) as caught:
        Rule("r", "phq9", "total", "lower_is_better",
             Criteria("all", (Criterion("percent_improvement", 50),)), Window(0, 72),
             version=-2)
    assert caught.value.problems == [("version", "must be a whole number >= 1")]
    with pytest.raises(RuleError, match="start_hours"):
        Window(10, 5)
    with pytest.raises(RuleError, match="inclusive"):
        Criterion("absolute_improvement", 5, inclusive=True)


def test_a_rule_error_names_its_problems_in_its_message():
    with pytest.raises(RuleError, match=r"window\.end_hours: must not be before start_hours"):
        make_rule(window={"start_hours": 5, "end_hours": 1})
