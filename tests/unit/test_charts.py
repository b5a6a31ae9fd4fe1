"""Charts are pure SVG text: no styles (the CSP forbids them), titles for every point."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from backend.charts import DOSE_TEXT_GAP, REF_NAME_GAP, Line, Marker, Point, line_chart

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NS = "{http://www.w3.org/2000/svg}"


def test_a_chart_is_well_formed_svg_without_style_attributes():
    svg = line_chart([Point(T0, 12), Point(T0 + timedelta(days=1), 7, in_window=False)],
                     doses=[Marker(T0, "Dose 1 <ketamine>")], y_range=(0, 27), baseline=12,
                     threshold=Line(5, "Remission"), title="PHQ-9 & co")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert all(el.get("style") is None for el in root.iter())
    assert "<style" not in svg and "<script" not in svg
    titles = [el.text for el in root.iter(f"{NS}title")]
    assert "Dose 1 <ketamine>: 1 Nov 2026 09:00" in titles
    assert any("7" in t and "outside its time window" in t for t in titles)
    hollow = [g for g in root.iter(f"{NS}g") if g.get("class") == "chart-point out"]
    assert len(hollow) == 1 and hollow[0].find(f"{NS}circle").get("fill") == "none"
    assert [g.get("class") for g in root.iter(f"{NS}g")].count("chart-threshold") == 1


def test_an_empty_chart_says_so():
    root = ET.fromstring(line_chart([], title="GAD-7"))
    assert any(el.text == "No answers yet" for el in root.iter(f"{NS}text"))


def test_higher_is_better_is_said_and_values_outside_the_range_stay_inside_the_plot():
    svg = line_chart([Point(T0, 150)], y_range=(0, 100), direction="higher_is_better",
                     title="Function", height=200)
    root = ET.fromstring(svg)
    desc = next(root.iter(f"{NS}desc")).text
    assert "Higher is better" in desc
    cy = float(next(root.iter(f"{NS}circle")).get("cy"))
    assert 0 <= cy <= 200


def test_dose_labels_that_would_overlap_are_left_to_the_hover_title():
    course = [Marker(T0 + timedelta(days=d), f"Dose {d + 1}", text=f"ketamine {d + 1}")
              for d in range(5)]
    later = Marker(T0 + timedelta(days=60), "Dose 6", text="ketamine 6")
    svg = line_chart([Point(T0 - timedelta(days=1), 7), Point(T0 + timedelta(days=89), 4)],
                     doses=[later, *course], y_range=(0, 10))
    root = ET.fromstring(svg)
    labels = [el for el in root.iter(f"{NS}text") if el.get("class") == "chart-dose-text"]
    xs = [float(el.get("x")) for el in labels]
    assert all(b - a >= DOSE_TEXT_GAP for a, b in zip(xs, xs[1:], strict=False))
    written = [el.text for el in labels]
    assert written[0] == "ketamine 1" and written[-1] == "ketamine 6" and len(written) < 6
    titles = [el.text for el in root.iter(f"{NS}title")]
    assert all(any((t or "").startswith(f"Dose {n}:") for t in titles) for n in range(1, 7))


def test_reference_lines_are_named_right_of_the_plot_and_apart():
    # Baseline 6 and threshold 5.6: a few pixels apart, beside the latest point.
    svg = line_chart([Point(T0, 8), Point(T0 + timedelta(days=30), 6)], y_range=(0, 10),
                     baseline=6, threshold=Line(5.6, "Threshold"), width=720, height=240)
    root = ET.fromstring(svg)
    names = {el.text: el for el in root.iter(f"{NS}text") if el.get("class") == "chart-ref-name"}
    assert set(names) == {"Baseline", "Threshold"}
    rightmost = max(float(c.get("cx")) + 5 for c in root.iter(f"{NS}circle"))
    line_end = max(float(el.get("x2")) for el in root.iter(f"{NS}line")
                   if el.get("stroke-dasharray") == "6 4")
    assert all(float(el.get("x")) > max(rightmost, line_end) for el in names.values())
    # Said within the chart: the longest name fits (11 px text, about 7 px a character).
    assert all(float(el.get("x")) + 7 * len(name) <= 720 for name, el in names.items())
    base_y, thr_y = (float(names[n].get("y")) for n in ("Baseline", "Threshold"))
    assert thr_y - base_y >= REF_NAME_GAP - 0.1  # apart, and the higher value above
    # Lines far apart keep their names at their own height.
    far = ET.fromstring(line_chart([Point(T0, 8)], y_range=(0, 10), baseline=8,
                                   threshold=Line(2, "Threshold")))
    ys = {el.text: float(el.get("y")) for el in far.iter(f"{NS}text")
          if el.get("class") == "chart-ref-name"}
    lines = {g.get("class"): float(g.find(f"{NS}line").get("y1")) for g in far.iter(f"{NS}g")
             if g.get("class") in ("chart-baseline", "chart-threshold")}
    assert ys == {"Baseline": lines["chart-baseline"] + 4,
                  "Threshold": lines["chart-threshold"] + 4}


def test_many_points_are_drawn_smaller_so_the_line_stays_visible():
    def radii(days: int) -> set[str]:
        svg = line_chart([Point(T0 + timedelta(days=d), d % 10) for d in range(days)],
                         y_range=(0, 10), width=640)
        return {c.get("r") for c in ET.fromstring(svg).iter(f"{NS}circle")}

    assert radii(30) == {"5"}  # a month of daily answers: 19 px apart
    assert radii(730) == {"2"}  # two years: under 1 px apart, every point still titled
    svg = ET.fromstring(line_chart([Point(T0 + timedelta(days=d), 3) for d in range(730)],
                                   y_range=(0, 10)))
    assert sum(1 for g in svg.iter(f"{NS}g") if g.get("class") == "chart-point") == 730
