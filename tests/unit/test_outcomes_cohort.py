"""Cohort statistics: rates, time-point changes per arm and period, durability, carry-over."""

from __future__ import annotations

import json

import pytest
from test_outcomes_support import dose, percent_rule, pt

from backend.outcomes import (
    Timepoint,
    carryover,
    evaluate,
    mean_change_verdict,
    summarize,
    wilson_interval,
)

# A two-period crossover shaped like the ketamine fatigue trial: 10 participants, fatigue VAS
# before each infusion and 40 min / 24 h / day 3 / day 14 after; 5 per sequence.
# Per participant: period-1 baseline, period-2 baseline, and % change at each time point.
FOLLOW_UP_HOURS = (40 / 60, 24, 72, 336)
KETAMINE_FIRST = {
    "P01": (60, 55, [-20, -30, -20, -5], [-10, -12, -12, 0]),
    "P02": (80, 72, [-25, -45, -25, -10], [-5, -10, -8, 0]),
    "P03": (50, 48, [-15, -40, -10, 0], [-10, -15, -15, -5]),
    "P04": (70, 62, [-30, -35, -30, -15], [0, -10, -10, 5]),
    "P05": (40, 38, [-10, -43.5, -20, -5], [-5, -5, -5, 0]),
}
MIDAZOLAM_FIRST = {
    "P06": (65, 66, [-10, -15, -15, 0], [-25, -35, -25, -10]),
    "P07": (75, 74, [-5, -10, -20, -5], [-20, -40, -20, -5]),
    "P08": (55, 56, [-15, -20, -10, 5], [-30, -30, -22, 0]),
    "P09": (45, 45, [-20, -5, -25, -10], [-15, -45, -18, -10]),
    "P10": (85, 86, [0, -25, -18.5, 0], [-10, -38, -30, -5]),
}
DAY_3 = percent_rule(20, window={"start_hours": 0, "end_hours": 84, "evaluation": "nearest",
                                 "nominal_hours": 72, "tolerance_hours": 12})


def crossover_verdicts():
    verdicts = {}
    for number, (code, (base1, base2, changes1, changes2)) in enumerate(
            {**KETAMINE_FIRST, **MIDAZOLAM_FIRST}.items()):
        arms = ("ketamine", "midazolam") if code in KETAMINE_FIRST else ("midazolam", "ketamine")
        start = 7 * number  # enrolled a week apart; period 2 four weeks after period 1
        points, doses = [], []
        for period, base, changes in ((1, base1, changes1), (2, base2, changes2)):
            given = start + 672 * (period - 1)
            doses.append(dose(given, f"{code}-{period}", drug=arms[period - 1],
                              arm=arms[period - 1], period=period, session=period))
            points.append(pt(given - 1, base))
            points += [pt(given + hours, base * (1 + change / 100))
                       for hours, change in zip(FOLLOW_UP_HOURS, changes, strict=True)]
        verdicts[code] = evaluate(points, doses, DAY_3)
    return verdicts


def test_the_crossover_reproduces_the_trials_reference_figures():
    result = summarize(crossover_verdicts(), group_by="arm_period")
    assert [g.label for g in result.groups] == [
        "arm=ketamine, period=1", "arm=ketamine, period=2",
        "arm=midazolam, period=1", "arm=midazolam, period=2"]
    ketamine = result.group(arm="ketamine", period=1)
    midazolam = result.group(arm="midazolam", period=1)
    assert ketamine.timepoint("24 h").mean_change_pct == pytest.approx(-38.7, abs=0.05)
    assert ketamine.timepoint(72).mean_change_pct == pytest.approx(-21.0, abs=0.05)
    assert midazolam.timepoint(72).mean_change_pct == pytest.approx(-17.7, abs=0.05)
    assert [s.n for s in ketamine.timepoints[:5]] == [5, 5, 5, 0, 5]  # nothing at day 7
    assert mean_change_verdict(ketamine, 72, 20) is True
    assert mean_change_verdict(midazolam, 72, 20) is False


def test_the_crossover_counts_responders_per_arm_and_period():
    result = summarize(crossover_verdicts(), group_by="arm_period")
    ketamine = result.group(arm="ketamine", period=1)
    assert (ketamine.units, ketamine.evaluable, ketamine.responders) == (5, 5, 4)
    assert (ketamine.ci_low, ketamine.ci_high) == wilson_interval(4, 5)
    assert result.group(arm="midazolam", period=1).responders == 2
    assert ketamine.timepoint("day 3").median_change_pct == pytest.approx(-20)


def test_carry_over_shows_in_the_period_2_baseline_of_those_given_ketamine_first():
    rows = {row.arm: row for row in carryover(crossover_verdicts())}
    assert rows["ketamine"].n_paired == 5
    assert rows["ketamine"].paired_mean_difference == pytest.approx(-5.0)
    assert rows["midazolam"].paired_mean_difference == pytest.approx(0.4)
    assert (rows["ketamine"].n_first, rows["ketamine"].mean_first) == (5, 60)
    assert (rows["ketamine"].n_second, rows["ketamine"].mean_second) == (5, 65.4)
    assert rows["ketamine"].mean_difference == pytest.approx(5.4)


def patient(points, doses, rule=None):
    return evaluate(points, doses, rule or percent_rule(20))


def test_rates_count_only_evaluable_anchors_and_list_the_reasons_for_the_rest():
    verdicts = {
        "a": patient([pt(-1, 50), pt(24, 30)], [dose(0)]),
        "b": patient([pt(-1, 50), pt(24, 45)], [dose(0)]),
        "c": patient([pt(24, 45)], [dose(0)]),
        "d": patient([pt(-1, 0), pt(24, 0)], [dose(0)]),
        "e": patient([pt(-1, 50)], [dose(0)]),
    }
    group = summarize(verdicts).group()
    assert (group.units, group.evaluable, group.responders, group.rate) == (5, 2, 1, 0.5)
    assert dict(group.not_evaluable) == {"baseline_zero": 1, "no_baseline": 1, "no_followup": 1}
    assert group.label == "all"


def test_per_patient_a_patient_responds_when_any_anchor_did():
    verdicts = {
        "a": patient([pt(-1, 50), pt(24, 45), pt(100, 50), pt(130, 30)], [dose(0), dose(120, 2)]),
        "b": patient([pt(-1, 50), pt(24, 45), pt(130, 45)], [dose(0), dose(120, 2)]),
        "c": patient([pt(130, 45)], [dose(0), dose(120, 2)]),
    }
    by_anchor = summarize(verdicts).group()
    by_patient = summarize(verdicts, per="patient").group()
    assert (by_anchor.units, by_anchor.evaluable, by_anchor.responders) == (6, 4, 1)
    assert (by_patient.units, by_patient.evaluable, by_patient.responders) == (3, 2, 1)
    assert dict(by_patient.not_evaluable) == {"no_baseline": 1}


def test_per_patient_each_patient_weighs_once_at_a_time_point():
    verdicts = {
        "a": patient([pt(-1, 50), pt(24, 25), pt(119, 50), pt(144, 25)], [dose(0), dose(120, 2)]),
        "b": patient([pt(-1, 50), pt(24, 45)], [dose(0)]),
    }
    assert summarize(verdicts).group().timepoint(24).mean_change_pct == pytest.approx(-110 / 3)
    assert summarize(verdicts, per="patient").group().timepoint(24).mean_change_pct == \
        pytest.approx(-30)


def test_time_points_use_the_follow_up_nearest_the_nominal_time_within_its_tolerance():
    verdicts = {
        "a": patient([pt(-1, 50), pt(20, 40), pt(23, 30), pt(31, 10)], [dose(0)]),
        "b": patient([pt(-1, 50), pt(31, 10)], [dose(0)]),
    }
    stat = summarize(verdicts).group().timepoint("24 h")
    assert (stat.n, stat.mean_change_pct) == (1, -40)


def test_custom_time_points_can_be_asked_for():
    verdicts = {"a": patient([pt(-1, 50), pt(48, 40)], [dose(0)])}
    result = summarize(verdicts, timepoints=(Timepoint("day 2", 48, 4),))
    assert [(s.label, s.n, s.mean_change_pct) for s in result.group().timepoints] == [
        ("day 2", 1, -20)]


def test_durability_is_a_kaplan_meier_curve_of_the_responders():
    verdicts = {
        "lost at 48 h": patient([pt(-1, 50), pt(24, 30), pt(72, 45)], [dose(0)]),
        "lost at 96 h": patient([pt(-1, 50), pt(24, 30), pt(120, 45)], [dose(0)]),
        "still responding": patient([pt(-1, 50), pt(24, 30), pt(200, 30)], [dose(0)]),
        "never responded": patient([pt(-1, 50), pt(24, 45)], [dose(0)]),
    }
    km = summarize(verdicts).group().durability
    assert (km.n, km.events) == (3, 2)
    assert [s.t for s in km.steps] == [48, 96]
    assert [s.survival for s in km.steps] == pytest.approx([2 / 3, 1 / 3])
    assert km.median == 96


def test_groups_by_drug_and_none_when_no_anchor_responded():
    verdicts = {
        "a": patient([pt(-1, 50), pt(24, 45)], [dose(0, drug="ketamine")]),
        "b": patient([pt(-1, 50), pt(24, 45)], [dose(0, drug="esketamine")]),
    }
    result = summarize(verdicts, group_by="drug")
    assert [g.key for g in result.groups] == [(("drug", "esketamine"),), (("drug", "ketamine"),)]
    assert result.group(drug="ketamine").durability is None
    with pytest.raises(KeyError):
        result.group(drug="midazolam")


def test_groups_with_missing_arms_sort_last():
    verdicts = {
        "a": patient([pt(-1, 50), pt(24, 45)], [dose(0, arm=None, period=2)]),
        "b": patient([pt(-1, 50), pt(24, 45)], [dose(0, arm="b", period=10)]),
        "c": patient([pt(-1, 50), pt(24, 45)], [dose(0, arm="b", period=9)]),
    }
    result = summarize(verdicts, group_by="arm_period")
    assert [g.label for g in result.groups] == [
        "arm=b, period=9", "arm=b, period=10", "arm=None, period=2"]


def test_unknown_groupings_are_refused():
    with pytest.raises(ValueError):
        summarize({}, group_by="sex")
    with pytest.raises(ValueError):
        summarize({}, per="visit")


def test_a_mean_change_verdict_needs_data_and_follows_the_direction():
    verdicts = {"a": patient([pt(-1, 50), pt(24, 60)], [dose(0)])}
    group = summarize(verdicts).group()
    assert mean_change_verdict(group, 72, 20) is None
    assert mean_change_verdict(group, 24, 20, direction="higher_is_better") is True
    assert mean_change_verdict(group, 24, 20) is False
    with pytest.raises(ValueError):
        mean_change_verdict(group, 24, 20, direction="sideways")


def test_the_cohort_result_serialises_to_json():
    result = summarize(crossover_verdicts(), group_by="arm_period")
    data = json.loads(json.dumps(result.to_dict()))
    first = data["groups"][0]
    assert first["key"] == {"arm": "ketamine", "period": 1}
    assert first["timepoints"][1]["label"] == "24 h"
    assert data["groups"][0]["durability"]["steps"]
    assert json.dumps([row.to_dict() for row in carryover(crossover_verdicts())])
