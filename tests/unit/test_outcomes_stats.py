"""Wilson intervals, Kaplan-Meier with Greenwood and log-log intervals, reliable change."""

from __future__ import annotations

import math

import pytest

from backend.outcomes import kaplan_meier, reliable_change, wilson_interval

#: Six responders: loss at 1, censored at 2, two losses at 3, censored at 4, loss at 5.
SIX = [(1, True), (2, False), (3, True), (3, True), (4, False), (5, True)]


def test_the_wilson_interval_of_8_out_of_10_matches_the_published_value():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)


def test_the_wilson_interval_stays_inside_0_and_1_at_the_extremes():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (None, None)


def test_a_wider_confidence_level_gives_a_wider_interval():
    narrow, wide = wilson_interval(8, 10, z=1.0), wilson_interval(8, 10)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]


@pytest.mark.parametrize(("k", "n"), [(-1, 10), (11, 10), (1, -1)])
def test_impossible_counts_are_refused(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)


def test_kaplan_meier_matches_a_hand_computed_example():
    km = kaplan_meier(SIX)
    assert [(s.t, s.at_risk, s.events, s.censored) for s in km.steps] == [
        (1, 6, 1, 0), (3, 4, 2, 1), (5, 1, 1, 1)]
    # S(1) = 5/6; S(3) = 5/6 * (1 - 2/4) = 5/12; S(5) = 5/12 * (1 - 1/1) = 0
    assert [s.survival for s in km.steps] == pytest.approx([5 / 6, 5 / 12, 0.0])
    # Greenwood: S^2 * sum d / (n (n - d)): (5/6)^2 * 1/30 and (5/12)^2 * (1/30 + 2/8)
    assert km.steps[0].variance == pytest.approx(25 / 36 / 30)
    assert km.steps[1].variance == pytest.approx(25 / 144 * (1 / 30 + 1 / 4))
    # log-log: S ** exp(+-1.96 * sqrt(sum) / |ln S|)
    assert (km.steps[0].low, km.steps[0].high) == pytest.approx((0.273123, 0.974712), abs=1e-6)
    assert (km.steps[1].low, km.steps[1].high) == pytest.approx((0.055992, 0.766522), abs=1e-6)
    assert (km.n, km.events, km.median, km.median_ci) == (6, 4, 3, (1, 5))


def test_survival_is_read_off_the_step_curve():
    km = kaplan_meier(SIX)
    assert [km.survival_at(t) for t in (0.5, 1, 2.9, 3, 10)] == pytest.approx(
        [1, 5 / 6, 5 / 6, 5 / 12, 0])


def test_a_median_not_reached_is_none():
    km = kaplan_meier([(1, True), (2, False), (3, False), (4, False)])
    assert km.median is None and km.median_ci == (1, None)


def test_a_curve_sitting_exactly_at_one_half_takes_the_midpoint_to_the_next_event():
    km = kaplan_meier([(1, True), (2, True), (3, True), (4, True)])
    assert [s.survival for s in km.steps] == [0.75, 0.5, 0.25, 0.0]
    assert km.median == 2.5


def test_a_curve_ending_at_one_half_takes_the_time_it_got_there():
    km = kaplan_meier([(1, True), (2, True), (3, False), (4, False)])
    assert km.steps[-1].survival == 0.5 and km.median == 2


def test_an_empty_curve_has_no_steps():
    km = kaplan_meier([])
    assert (km.n, km.steps, km.median, km.median_ci) == (0, (), None, (None, None))
    assert km.to_dict()["steps"] == []


def test_negative_durations_are_refused():
    with pytest.raises(ValueError):
        kaplan_meier([(-1, True)])


def test_reliable_change_follows_jacobson_and_truax():
    # SD 5, reliability 0.84: SEM = 5 * 0.4 = 2, S_diff = sqrt(2) * 2
    rc, reliable = reliable_change(50, 44, sd=5, reliability=0.84)
    assert rc == pytest.approx(-6 / (2 * math.sqrt(2))) and reliable
    rc, reliable = reliable_change(50, 45, sd=5, reliability=0.84)
    assert rc == pytest.approx(-1.7678, abs=1e-4) and not reliable


def test_reliable_change_needs_a_usable_sd_and_reliability():
    with pytest.raises(ValueError):
        reliable_change(1, 2, sd=0, reliability=0.8)
    with pytest.raises(ValueError):
        reliable_change(1, 2, sd=3, reliability=1)
