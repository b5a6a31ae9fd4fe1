"""evaluate(): one patient's score series, doses and a rule -> a verdict per anchor."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_outcomes_support import T0, at, dose, make_rule, percent_rule, pt

from backend.outcomes import AnchorVerdict, Dose, ScorePoint, evaluate

NEW_YORK = ZoneInfo("America/New_York")
ONE_SECOND = 1 / 3600


def only(verdicts):
    assert len(verdicts) == 1
    return verdicts[0]


def test_a_twenty_percent_drop_within_the_window_is_a_response():
    v = only(evaluate([pt(-1, 50), pt(24, 38)], [dose(0)], percent_rule(20)))
    assert (v.verdict, v.reason, v.baseline) == ("responder", None, 50)
    assert v.onset_hours == 24


def test_a_smaller_drop_is_no_response():
    v = only(evaluate([pt(-1, 50), pt(24, 41)], [dose(0)], percent_rule(20)))
    assert v.verdict == "non_responder"
    assert v.onset_hours is None and v.duration_hours is None and not v.censored


@pytest.mark.parametrize(("baseline", "follow_up"), [(10, 8), (7, 5.6), (3, 2.4), (45, 36)])
def test_a_drop_of_exactly_the_threshold_counts(baseline, follow_up):
    v = only(evaluate([pt(-1, baseline), pt(24, follow_up)], [dose(0)], percent_rule(20)))
    assert v.verdict == "responder"


def test_followups_report_the_signed_change_and_the_improvement_separately():
    v = only(evaluate([pt(-1, 50), pt(24, 30.65)], [dose(0)], percent_rule(20)))
    row = v.followups[0]
    assert row.change_abs == pytest.approx(-19.35)
    assert row.change_pct == pytest.approx(-38.7)
    assert row.improvement_pct == pytest.approx(38.7)
    assert row.hours == 24 and row.meets and row.counted


def test_a_zero_baseline_makes_a_percent_rule_not_evaluable():
    v = only(evaluate([pt(-1, 0), pt(24, 0)], [dose(0)], percent_rule(20)))
    assert (v.verdict, v.reason, v.baseline) == ("not_evaluable", "baseline_zero", 0)
    assert v.followups[0].change_pct is None and v.followups[0].change_abs == 0


def test_a_zero_baseline_is_fine_under_an_absolute_rule():
    function_gain = make_rule(direction="higher_is_better",
                              criteria={"all": [{"kind": "absolute_improvement", "value": 3}]})
    v = only(evaluate([pt(-1, 0), pt(24, 4)], [dose(0)], function_gain))
    assert (v.verdict, v.baseline) == ("responder", 0)
    assert v.followups[0].change_abs == 4 and v.followups[0].change_pct is None


def test_without_a_score_before_the_dose_there_is_no_baseline():
    v = only(evaluate([pt(1, 50), pt(24, 30)], [dose(0)], percent_rule(20)))
    assert (v.verdict, v.reason, v.baseline) == ("not_evaluable", "no_baseline", None)
    assert [row.hours for row in v.followups] == [1, 24]
    assert not any(row.meets for row in v.followups)


def test_a_score_at_the_moment_of_the_dose_is_a_followup_not_a_baseline():
    v = only(evaluate([pt(0, 50), pt(24, 30)], [dose(0)], percent_rule(20)))
    assert v.reason == "no_baseline"
    assert v.followups[0].hours == 0


def test_a_baseline_older_than_the_span_is_not_used():
    span_edge = only(evaluate([pt(-168, 50), pt(24, 30)], [dose(0)], percent_rule(20)))
    too_old = only(evaluate([pt(-168 - ONE_SECOND, 50), pt(24, 30)], [dose(0)], percent_rule(20)))
    assert span_edge.verdict == "responder"
    assert too_old.reason == "no_baseline"


def test_the_baseline_is_the_last_score_before_the_dose_by_default():
    v = only(evaluate([pt(-30, 80), pt(-2, 50), pt(24, 45)], [dose(0)], percent_rule(20)))
    assert v.baseline == 50 and v.baseline_at == at(-2) and v.baseline_n == 1
    assert v.verdict == "non_responder"


def test_a_mean_baseline_averages_every_score_in_the_span():
    rule = percent_rule(20, baseline={"method": "mean", "span_hours": 48})
    v = only(evaluate([pt(-72, 10), pt(-30, 80), pt(-2, 40), pt(24, 45)], [dose(0)], rule))
    assert v.baseline == 60 and v.baseline_n == 2
    assert v.verdict == "responder"


def test_nothing_in_the_window_is_not_evaluable():
    v = only(evaluate([pt(-1, 50), pt(80, 10)], [dose(0)], percent_rule(20)))
    assert (v.verdict, v.reason) == ("not_evaluable", "no_followup")
    assert v.followups == () and v.trajectory[0].hours == 80


@pytest.mark.parametrize(("hours", "inside"), [
    (24, True), (72, True), (24 - ONE_SECOND, False), (72 + ONE_SECOND, False),
])
def test_window_edges_are_inclusive_to_the_second(hours, inside):
    rule = percent_rule(20, window={"start_hours": 24, "end_hours": 72})
    v = only(evaluate([pt(-1, 50), pt(hours, 30)], [dose(0)], rule))
    assert v.verdict == ("responder" if inside else "not_evaluable")


def test_windows_count_real_elapsed_hours_across_a_daylight_saving_change():
    given = Dose("d1", datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK))
    points = [ScorePoint(datetime(2026, 3, 7, 19, 0, tzinfo=NEW_YORK), 50),
              ScorePoint(datetime(2026, 3, 10, 20, 0, tzinfo=NEW_YORK), 30)]
    three_days = only(evaluate(points, [given], percent_rule(20)))
    shorter = only(evaluate(points, [given], percent_rule(20, window_end_hours=70.5)))
    assert three_days.followups[0].hours == 71
    assert three_days.verdict == "responder"
    assert (shorter.verdict, shorter.reason) == ("not_evaluable", "no_followup")


def test_durations_between_answers_in_one_local_zone_are_real_hours_too():
    # Python subtracts two datetimes of the same zone on the wall clock: the night the clocks
    # go on, 23:00 to 05:00 in New York is 6 hours on the wall but 5 real hours.
    given = Dose("d1", datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK))
    points = [ScorePoint(datetime(2026, 3, 7, 19, 0, tzinfo=NEW_YORK), 50),
              ScorePoint(datetime(2026, 3, 7, 23, 0, tzinfo=NEW_YORK), 30),
              ScorePoint(datetime(2026, 3, 8, 5, 0, tzinfo=NEW_YORK), 30)]
    v = only(evaluate(points, [given], percent_rule(20)))
    assert (v.onset_hours, v.duration_hours, v.censored) == (3, 5, True)
    sustained = percent_rule(20, window={"start_hours": 0, "end_hours": 72,
                                         "evaluation": "sustained", "sustained_hours": 5.5})
    assert only(evaluate(points, [given], sustained)).verdict == "non_responder"


def test_answers_in_the_hour_a_local_clock_repeats_are_ordered_as_instants():
    given = Dose("d1", datetime(2026, 10, 31, 20, 0, tzinfo=NEW_YORK))
    first = datetime(2026, 11, 1, 1, 45, tzinfo=NEW_YORK)  # EDT: 05:45 UTC
    second = datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=NEW_YORK)  # EST: 06:15 UTC
    points = [ScorePoint(datetime(2026, 10, 31, 19, 0, tzinfo=NEW_YORK), 50),
              ScorePoint(second, 45), ScorePoint(first, 30)]
    v = only(evaluate(points, [given], percent_rule(20)))
    assert [f.hours for f in v.followups] == [5.75, 6.25]
    assert (v.onset_hours, v.loss_hours, v.duration_hours) == (5.75, 6.25, 0.5)


def test_the_same_instants_in_different_time_zones_give_the_same_verdict():
    def in_zone(zone):
        points = [ScorePoint(at(h).astimezone(zone), v) for h, v in [(-1, 50), (30, 35), (70, 45)]]
        return [v.to_dict() for v in evaluate(points, [Dose(1, at(0).astimezone(zone))],
                                              percent_rule(20))]

    tokyo, honolulu = in_zone(ZoneInfo("Asia/Tokyo")), in_zone(ZoneInfo("Pacific/Honolulu"))
    assert tokyo == honolulu == in_zone(UTC)
    assert tokyo[0]["followups"][0]["at"] == "2026-01-06T15:00:00+00:00"


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 1, 5, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([ScorePoint(naive, 3)], [dose(0)], percent_rule(20))
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([pt(-1, 3)], [Dose(1, naive)], percent_rule(20))
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([pt(-1, 3), ScorePoint(naive + timedelta(days=1), 3)], [dose(0)],
                 percent_rule(20))


def test_missing_values_are_ignored():
    v = only(evaluate([pt(-3, 50), pt(-1, None), pt(5, math.nan), pt(24, 30)], [dose(0)],
                      percent_rule(20)))
    assert v.baseline == 50 and [row.hours for row in v.followups] == [24]


def test_a_higher_is_better_scale_improves_upwards():
    rule = make_rule(direction="higher_is_better")
    v = only(evaluate([pt(-1, 40), pt(24, 50)], [dose(0)], rule))
    worse = only(evaluate([pt(-1, 40), pt(24, 30)], [dose(0)], rule))
    assert v.verdict == "responder" and worse.verdict == "non_responder"
    assert v.followups[0].change_pct == 25 and v.followups[0].improvement_pct == 25
    assert worse.followups[0].improvement_pct == -25


@pytest.mark.parametrize(("inclusive", "score", "remission"), [
    (False, 5, False), (False, 4, True), (True, 5, True), (True, 6, False),
])
def test_a_cutoff_is_strict_unless_inclusive(inclusive, score, remission):
    rule = make_rule(name="PHQ-9 remission",
                     criteria={"all": [{"kind": "cutoff", "value": 5, "inclusive": inclusive}]})
    v = only(evaluate([pt(-1, 18), pt(24, score)], [dose(0)], rule))
    assert (v.verdict == "responder") is remission


def test_a_higher_is_better_cutoff_is_beyond_it_upwards():
    rule = make_rule(direction="higher_is_better",
                     criteria={"all": [{"kind": "cutoff", "value": 60}]})
    assert only(evaluate([pt(-1, 40), pt(24, 60)], [dose(0)], rule)).verdict == "non_responder"
    assert only(evaluate([pt(-1, 40), pt(24, 61)], [dose(0)], rule)).verdict == "responder"


def test_any_criterion_may_decide_but_all_need_every_one():
    items = [{"kind": "percent_improvement", "value": 50}, {"kind": "cutoff", "value": 5}]
    points = [pt(-1, 8), pt(24, 4.5)]  # remission (< 5) but only a 44% drop
    assert only(evaluate(points, [dose(0)], make_rule(criteria={"any": items}))).responder
    assert not only(evaluate(points, [dose(0)], make_rule(criteria={"all": items}))).responder


def test_evaluation_all_needs_every_point_in_the_window_to_meet():
    rule = percent_rule(20, window_evaluation="all")
    assert only(evaluate([pt(-1, 50), pt(2, 30), pt(48, 35)], [dose(0)], rule)).responder
    v = only(evaluate([pt(-1, 50), pt(2, 30), pt(48, 45)], [dose(0)], rule))
    assert v.verdict == "non_responder"


def nearest_24h(**window):
    return percent_rule(20, window={"start_hours": 0, "end_hours": 72, "evaluation": "nearest",
                                    "nominal_hours": 24, "tolerance_hours": 6, **window})


def test_the_point_nearest_the_nominal_time_decides():
    v = only(evaluate([pt(-1, 50), pt(2, 30), pt(22, 45), pt(27, 30)], [dose(0)], nearest_24h()))
    assert v.verdict == "non_responder"  # 22 h (2 h away) beats 27 h (3 h away)


def test_on_a_tie_the_earlier_point_decides():
    v = only(evaluate([pt(-1, 50), pt(22, 30), pt(26, 45)], [dose(0)], nearest_24h()))
    assert v.verdict == "responder" and v.onset_hours == 22


def test_points_beyond_the_tolerance_are_not_considered():
    v = only(evaluate([pt(-1, 50), pt(2, 30), pt(31, 30)], [dose(0)], nearest_24h()))
    assert (v.verdict, v.reason) == ("not_evaluable", "no_followup")
    assert [row.hours for row in v.followups] == [2, 31]


def sustained(hours):
    return percent_rule(20, window={"start_hours": 0, "end_hours": 336,
                                    "evaluation": "sustained", "sustained_hours": hours})


def test_a_response_held_long_enough_is_sustained():
    points = [pt(-1, 50), pt(24, 35), pt(48, 36), pt(72, 30)]
    v = only(evaluate(points, [dose(0)], sustained(48)))
    assert v.verdict == "responder" and v.onset_hours == 24
    assert only(evaluate(points, [dose(0)], sustained(48.5))).verdict == "non_responder"


def test_a_failing_point_breaks_a_sustained_run():
    points = [pt(-1, 50), pt(24, 35), pt(48, 45), pt(72, 30), pt(96, 32), pt(150, 30)]
    v = only(evaluate(points, [dose(0)], sustained(72)))
    assert v.verdict == "responder" and v.onset_hours == 72  # the later, long run
    assert only(evaluate(points[:5], [dose(0)], sustained(72))).verdict == "non_responder"


def test_onset_loss_and_duration_follow_the_response():
    points = [pt(-1, 50), pt(2, 45), pt(6, 35), pt(24, 30), pt(72, 38), pt(120, 45), pt(200, 30)]
    v = only(evaluate(points, [dose(0)], percent_rule(20)))
    assert (v.onset_hours, v.loss_hours, v.duration_hours) == (6, 120, 114)
    assert not v.censored


def test_a_response_with_no_loss_seen_is_censored_at_the_last_meeting_point():
    v = only(evaluate([pt(-1, 50), pt(6, 35), pt(24, 30), pt(300, 39)], [dose(0)],
                      percent_rule(20)))
    assert v.censored and v.loss_hours is None
    assert v.duration_hours == 294


def test_loss_is_looked_for_only_until_the_next_anchor():
    points = [pt(-1, 50), pt(6, 35), pt(100, 36), pt(167, 45), pt(169, 48)]
    first, second = evaluate(points, [dose(0, "a"), dose(168, "b")], percent_rule(20))
    assert first.loss_hours == 167
    without_the_pre_dose_score = evaluate(points[:3] + points[4:], [dose(0, "a"), dose(168, "b")],
                                          percent_rule(20))[0]
    assert without_the_pre_dose_score.censored
    assert without_the_pre_dose_score.duration_hours == 94
    assert second.baseline == 45 and second.reason is None


FIVE_DAYS = [dose(24 * day, f"d{day + 1}", course="c1", session=day + 1, drug="ketamine")
             for day in range(5)]
COURSE_POINTS = [pt(-2, 60), pt(20, 50), pt(44, 40), pt(68, 40), pt(92, 36), pt(100, 30),
                 pt(96 + 2160, 42), pt(96 + 4320, 58)]


def test_each_session_judges_every_dose_on_its_own_overlapping_window():
    verdicts = evaluate(COURSE_POINTS, FIVE_DAYS, percent_rule(20))
    assert [v.session for v in verdicts] == [1, 2, 3, 4, 5]
    assert [v.baseline for v in verdicts] == [60, 50, 40, 40, 36]
    # the 100 h score (30) is a 25% drop for sessions 3 and 4 too; session 5 starts from 36
    assert [v.verdict for v in verdicts] == ["responder"] * 4 + ["non_responder"]
    # the 44 h score counts for sessions 1 and 2 alike
    assert 44 in [row.hours for row in verdicts[0].followups]
    assert 20 in [row.hours for row in verdicts[1].followups]


def test_first_of_course_counts_from_the_first_dose_with_its_baseline():
    v = only(evaluate(COURSE_POINTS, FIVE_DAYS, percent_rule(20, anchor="first_of_course")))
    assert (v.anchor_dose_id, v.baseline, v.dose_ids) == ("d1", 60, ("d1", "d2", "d3", "d4", "d5"))
    assert v.verdict == "responder" and v.onset_hours == 44


def test_last_of_course_keeps_the_pre_course_baseline_but_counts_from_the_last_dose():
    three_months = percent_rule(30, anchor="last_of_course", window={
        "start_hours": 2160 - 336, "end_hours": 2160 + 336, "evaluation": "nearest",
        "nominal_hours": 2160})
    six_months = percent_rule(30, anchor="last_of_course", window={
        "start_hours": 4320 - 720, "end_hours": 4320 + 720, "evaluation": "nearest",
        "nominal_hours": 4320})
    at_3m = only(evaluate(COURSE_POINTS, FIVE_DAYS, three_months))
    at_6m = only(evaluate(COURSE_POINTS, FIVE_DAYS, six_months))
    assert (at_3m.anchor_dose_id, at_3m.anchor_at, at_3m.baseline) == ("d5", at(96), 60)
    assert at_3m.followups[0].hours == 2160 and at_3m.verdict == "responder"
    assert at_6m.verdict == "non_responder"


def test_a_dose_without_a_course_is_a_course_of_its_own():
    doses = [dose(0, "x"), dose(24, "y", course="c"), dose(48, "z", course="c")]
    verdicts = evaluate(COURSE_POINTS, doses, percent_rule(20, anchor="first_of_course"))
    assert [v.dose_ids for v in verdicts] == [("x",), ("y", "z")]


def test_only_in_window_answers_count_when_the_rule_requires_them():
    rule = percent_rule(20, require_in_window=True)
    late = [pt(-1, 50, in_window=True), pt(30, 30, in_window=False), pt(40, 30, in_window=None)]
    v = only(evaluate(late, [dose(0)], rule))
    assert (v.verdict, v.reason) == ("not_evaluable", "out_of_window")
    assert [row.counted for row in v.followups] == [False, False]
    mixed = only(evaluate(late + [pt(24, 45, in_window=True)], [dose(0)], rule))
    assert mixed.verdict == "non_responder"
    assert only(evaluate(late, [dose(0)], percent_rule(20))).verdict == "responder"


def test_reliable_change_is_added_when_the_rule_gives_sd_and_reliability():
    v = only(evaluate([pt(-1, 50), pt(24, 44), pt(48, 45)], [dose(0)],
                      percent_rule(10, sd=5, reliability=0.84)))
    first, second = v.followups
    assert first.rc == pytest.approx(-6 / math.sqrt(8)) and first.reliable
    assert second.rc == pytest.approx(-5 / math.sqrt(8)) and not second.reliable
    assert only(evaluate([pt(-1, 50), pt(24, 44)], [dose(0)], percent_rule(10))).followups[0].rc \
        is None


def test_the_trajectory_reaches_past_the_window_and_gives_time_point_changes():
    v = only(evaluate([pt(-1, 50), pt(24, 40), pt(330, 45), pt(6000, 10)], [dose(0)],
                      percent_rule(20, window_end_hours=48)))
    assert [row.hours for row in v.trajectory] == [24, 330]
    assert v.change_pct_near(336, 48) == -10
    assert v.change_pct_near(72, 12) is None


def test_verdicts_are_sorted_by_anchor_time_whatever_the_input_order():
    doses = [dose(48, "c"), dose(0, "a"), dose(24, "b")]
    points = [pt(30, 20), pt(-1, 50), pt(10, 30)]
    verdicts = evaluate(points, doses, percent_rule(20))
    assert [v.anchor_dose_id for v in verdicts] == ["a", "b", "c"]
    again = evaluate(points[::-1], doses[::-1], percent_rule(20))
    assert [v.to_dict() for v in again] == [v.to_dict() for v in verdicts]


def test_two_answers_at_the_same_instant_are_ordered_by_content_not_input():
    twins = [pt(-1, 50, aid="b"), pt(-1, 50, aid="a"), pt(24, 30, aid=2), pt(24, 30, aid=1)]
    one = evaluate(twins, [dose(0)], percent_rule(20))
    other = evaluate(twins[::-1], [dose(0)], percent_rule(20))
    assert [v.to_dict() for v in one] == [v.to_dict() for v in other]
    assert [row.assessment_id for row in one[0].followups] == [1, 2]


def test_no_doses_means_no_verdicts():
    assert evaluate([pt(-1, 50)], [], percent_rule(20)) == []


def test_a_verdict_serialises_to_json():
    v = only(evaluate([pt(-1, 50), pt(24, 30)], [dose(0, arm="ketamine", period=1)],
                      percent_rule(20, sd=5, reliability=0.8)))
    data = json.loads(json.dumps(v.to_dict()))
    assert data["anchor_at"] == T0.isoformat() and data["arm"] == "ketamine"
    assert data["followups"][0]["change_pct"] == -40.0
    assert data["followups"] == [row.to_dict() for row in v.followups]
    assert data["trajectory"] == [row.to_dict() for row in v.trajectory]
    assert "trajectory" not in v.to_dict(trajectory=False)


def test_a_verdict_is_built_from_exactly_its_fields_and_stays_frozen():
    # AnchorVerdict writes its __init__ out (for speed): it must keep up with the fields.
    names = [f.name for f in dataclasses.fields(AnchorVerdict)]
    assert list(inspect.signature(AnchorVerdict).parameters) == names
    v = AnchorVerdict(*range(len(names) - 1))
    assert [getattr(v, name) for name in names] == [*range(len(names) - 1), None]
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.verdict = "responder"
    assert v == AnchorVerdict(*range(len(names) - 1), view="not compared")
