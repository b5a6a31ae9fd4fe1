"""Pure parts of the patient page's comparisons: cohort band quartiles and weeks, item changes."""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.charts import Band, BandBin, Point, line_chart
from backend.clinic import trends
from backend.instruments import SHIPPED_DIR, build_registry

NS = "{http://www.w3.org/2000/svg}"
FIRST = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KNOWN = {i.id: i for i in build_registry([SHIPPED_DIR]).all()}


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=40),
       st.sampled_from([0.25, 0.5, 0.75]))
def test_quantiles_are_the_usual_interpolated_ones(values, p):
    ordered = sorted(values)
    expected = statistics.quantiles(ordered, n=4, method="inclusive")[int(p * 4) - 1] \
        if len(ordered) > 1 else ordered[0]
    assert trends.quantile(ordered, p) == pytest.approx(expected, abs=1e-9)


def test_a_band_week_needs_enough_patients_and_weeks_come_in_order():
    rows = [(3, v) for v in (5, 1, 4, 2, 3)] + [(-1, 7.0)] * 4 + [(0, 6.0)] * 5
    weeks = trends.band_weeks(rows)
    assert [w.week for w in weeks] == [0, 3]  # week -1 has four patients only
    assert weeks[1] == trends.BandWeek(3, 5, 2.0, 3.0, 4.0)
    assert trends.band_weeks(rows, min_patients=4)[0].week == -1


def test_weeks_count_from_the_first_dose_and_the_week_before_is_minus_one():
    assert trends.week_of(FIRST, FIRST) == 0
    assert trends.week_of(FIRST + timedelta(days=7) - timedelta(microseconds=1), FIRST) == 0
    assert trends.week_of(FIRST + timedelta(days=7), FIRST) == 1
    assert trends.week_of(FIRST - timedelta(seconds=1), FIRST) == -1
    assert trends.weeks_between(FIRST - timedelta(days=8), FIRST + timedelta(days=20),
                                FIRST) == (-2, 2)
    assert trends.week_span(-1, FIRST) == (FIRST - timedelta(days=7), FIRST)
    assert trends.week_words(-1) == "the week before the first dose"
    assert trends.week_words(0) == "week 1 after the first dose"
    assert trends.week_words(-3) == "3 weeks before the first dose"


def test_a_band_is_said_in_words_with_its_numbers():
    week = trends.BandWeek(1, 12, 4.0, 5.25, 6.0)
    text = trends.band_text(week, FIRST)
    assert text == ("Other patients, week 2 after the first dose (9 Mar–15 Mar): median 5.2, "
                    "middle half 4 to 6 (12 patients)")
    summary = trends.band_summary([trends.BandWeek(-1, 7, 6, 7, 8), week])
    assert summary.startswith("Other patients from the week before the first dose to week 2 "
                              "after the first dose, 12 patients a week at most")
    assert "median was 5.2, middle half 4 to 6" in summary
    assert trends.band_summary([]) == ""


def test_the_band_is_drawn_behind_the_points_with_a_title_per_week():
    bins = [BandBin(FIRST + timedelta(days=7 * k), FIRST + timedelta(days=7 * k + 7),
                    3 + k, 4 + k, 5 + k, f"week {k}") for k in range(3)]
    bins.append(BandBin(FIRST + timedelta(days=35), FIRST + timedelta(days=42), 1, 2, 3,
                        "after a gap"))
    bins.append(BandBin(FIRST - timedelta(days=400), FIRST - timedelta(days=393), 1, 2, 3,
                        "off the chart"))
    svg = line_chart([Point(FIRST + timedelta(days=d), 5) for d in range(0, 50, 5)],
                     band=Band(bins, "others & co"), y_range=(0, 10),
                     x_range=(FIRST - timedelta(days=3), FIRST + timedelta(days=50)))
    root = ET.fromstring(svg)
    band = next(g for g in root.iter(f"{NS}g") if g.get("class") == "chart-band")
    titles = [t.text for t in band.iter(f"{NS}title")]
    assert titles == ["others & co", "week 0", "week 1", "week 2", "after a gap"]
    assert len([p for p in band.iter(f"{NS}path")
                if p.get("class") == "chart-band-iqr"]) == 2  # the gap splits the area
    order = [el.get("class") for el in root.iter() if el.get("class") in (
        "chart-band", "chart-line")]
    assert order == ["chart-band", "chart-line"]
    assert "Shaded: others &amp; co." in svg
    assert all(el.get("style") is None for el in root.iter())


def test_items_change_from_baseline_to_latest_largest_first_with_better_or_worse():
    gad7 = KNOWN["gad7"]
    before = {f"gad7_{i}": 1 for i in range(1, 8)} | {"gad7_2": 3, "gad7_5": 0}
    after = {f"gad7_{i}": 1 for i in range(1, 8)} | {"gad7_2": 0, "gad7_5": 2, "gad7_6": 2}
    changes = trends.item_changes(gad7, before, after)
    assert [c.item_id for c in changes[:3]] == ["gad7_2", "gad7_5", "gad7_6"]
    first = changes[0]
    assert (first.before, first.after, first.change, first.better) == (3, 0, -3, True)
    assert changes[1].better is False and changes[3].change == 0 and changes[3].better is None
    assert trends.change_words(first) == "3 (Nearly every day) → 0 (Not at all) (3 lower, better)"
    assert trends.change_words(changes[3]).endswith("(no change)")
    assert first.to_dict()["change"] == -3


def test_items_that_are_not_numbers_or_not_in_both_answers_are_left_out():
    peg = KNOWN["peg"]
    changes = trends.item_changes(peg, {"peg_1": 8, "peg_2": True, "peg_3": 5},
                                  {"peg_1": 3.5, "peg_2": 4})
    assert [(c.item_id, c.change) for c in changes] == [("peg_1", -4.5)]
    assert trends.change_words(changes[0]) == "8 → 3.5 (4.5 lower, better)"


def test_reverse_scored_and_higher_is_better_items_turn_the_judgement():
    sleep = KNOWN["nrs_sleep"]
    (change,) = trends.item_changes(sleep, {"nrs_sleep_1": 3}, {"nrs_sleep_1": 7})
    assert change.better is True  # sleep quality: higher is better
    directions = trends.item_directions(KNOWN["gad7"])
    assert set(directions.values()) == {"lower_is_better"}
