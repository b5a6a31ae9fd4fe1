"""Outcomes through the API: rules as versioned data, verdicts per dose, cohort statistics,
and a crossover trial loaded the way a clinic would load it, reproducing its figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from ..conftest import submission

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASES = [60, 80, 50, 70, 40]
#: Fatigue VAS (0-100) per participant: period-1 value at 40 min, 24 h, day 3, day 14.
#: Integers chosen so period 1 reproduces the trial's published means.
KETAMINE_P1 = {"40 min": [50, 60, 42, 55, 35], "24 h": [44, 49, 31, 35, 24],
               "day 3": [42, 61, 38, 58, 36], "day 14": [57, 72, 50, 60, 38]}
MIDAZOLAM_P1 = {"40 min": [54, 76, 43, 60, 32], "24 h": [51, 72, 40, 66, 38],
                "day 3": [45, 71, 40, 58, 34], "day 14": [60, 76, 50, 70, 36]}
OFFSETS = {"40 min": timedelta(minutes=40), "24 h": timedelta(hours=24),
           "day 3": timedelta(hours=72), "day 14": timedelta(days=14)}
DAY_3_RULE = {
    "name": "Fatigue -20% at day 3 (crossover)", "instrument": "vas_fatigue", "score": "score",
    "criteria": {"all": [{"kind": "percent_improvement", "value": 20}]},
    "window": {"start_hours": 0, "end_hours": 84, "evaluation": "nearest",
               "nominal_hours": 72, "tolerance_hours": 12},
    "baseline": {"method": "last", "span_hours": 48},
}


def backfill(client, patient_id, value, at):
    body = submission("vas_fatigue", {"vas_fatigue_1": value}, completed_at=at.isoformat())
    response = client.post(f"/api/v1/patients/{patient_id}/assessments", json=body)
    assert response.status_code == 201, response.get_json()


def dose(client, patient_id, at, arm, period):
    response = client.post(f"/api/v1/patients/{patient_id}/treatments", json={
        "drug": arm, "dose": 0.5 if arm == "ketamine" else 0.05, "dose_unit": "mg/kg",
        "given_at": at.isoformat(), "arm": arm, "period": period, "session_number": 1,
        "course": f"period-{period}"})
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def crossover(clinician_client, make_patient):
    """Ten participants, five per sequence, two periods four weeks apart."""
    for index in range(10):
        ketamine_first = index < 5
        slot = index % 5
        patient, _ = make_patient(clinician_client, code=f"XO-{index + 1:02d}")
        first = KETAMINE_P1 if ketamine_first else MIDAZOLAM_P1
        arms = ("ketamine", "midazolam") if ketamine_first else ("midazolam", "ketamine")
        start = T0 + timedelta(days=7 * index)
        for period in (1, 2):
            given = start + timedelta(days=28 * (period - 1))
            dose(clinician_client, patient["id"], given, arms[period - 1], period)
            base = BASES[slot] + (2 if period == 2 else 0)
            backfill(clinician_client, patient["id"], base, given - timedelta(hours=1))
            for label, offset in OFFSETS.items():
                value = first[label][slot] if period == 1 else round(base * 0.85)
                backfill(clinician_client, patient["id"], value, given + offset)
    rule = clinician_client.post("/api/v1/rules", json=DAY_3_RULE)
    assert rule.status_code == 201, rule.get_json()
    return rule.get_json()


def group(result, **key):
    for g in result["groups"]:
        if all(g["key"].get(k) == v for k, v in key.items()):
            return g
    raise AssertionError(f"no group {key} in {[g['key'] for g in result['groups']]}")


def timepoint(g, label):
    return next(t for t in g["timepoints"] if t["label"] == label)


def test_the_crossover_loaded_through_the_api_reproduces_the_published_figures(
        clinician_client, crossover):
    response = clinician_client.get("/api/v1/cohort/outcomes", query_string={
        "rule": crossover["key"], "group_by": "arm_period"})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    ketamine, midazolam = (group(result, arm="ketamine", period=1),
                           group(result, arm="midazolam", period=1))
    assert timepoint(ketamine, "24 h")["mean_change_pct"] == pytest.approx(-38.7, abs=0.05)
    assert timepoint(ketamine, "day 3")["mean_change_pct"] == pytest.approx(-21.0, abs=0.05)
    assert timepoint(midazolam, "day 3")["mean_change_pct"] == pytest.approx(-17.7, abs=0.05)
    # The pre-set endpoint: positive when the mean drop by day 3 is at least 20%.
    assert timepoint(ketamine, "day 3")["mean_change_pct"] <= -20
    assert timepoint(midazolam, "day 3")["mean_change_pct"] > -20
    # Per participant at day 3: ketamine 3 of 5 responded, midazolam 2 of 5 (one exactly -20%).
    assert (ketamine["responders"], ketamine["evaluable"]) == (3, 5)
    assert (midazolam["responders"], midazolam["evaluable"]) == (2, 5)
    assert ketamine["ci_low"] < ketamine["rate"] < ketamine["ci_high"]
    assert result["carryover"], "a crossover grouping reports the period-2 baseline check"


def test_a_patients_outcomes_list_a_verdict_per_dose_with_its_follow_ups(clinician_client,
                                                                          crossover):
    patients = clinician_client.get("/api/v1/patients", query_string={"q": "XO-01"}).get_json()
    response = clinician_client.get(f"/api/v1/patients/{patients[0]['id']}/outcomes",
                                    query_string={"rule": crossover["key"]})
    verdicts = response.get_json()["verdicts"]
    assert [v["period"] for v in verdicts] == [1, 2]
    first = verdicts[0]
    assert first["verdict"] == "responder" and first["baseline"] == 60
    day3 = next(f for f in first["followups"] if f["hours"] == 72)
    assert day3["value"] == 42 and day3["change_pct"] == pytest.approx(-30)


def test_editing_a_rule_makes_a_new_version_and_keeps_the_old_one(clinician_client):
    rule = {**DAY_3_RULE, "name": "Fatigue down"}
    first = clinician_client.post("/api/v1/rules", json=rule).get_json()
    changed = {**rule, "key": first["key"],
               "criteria": {"all": [{"kind": "percent_improvement", "value": 30}]}}
    second = clinician_client.post("/api/v1/rules", json=changed).get_json()
    assert (first["version"], second["version"]) == (1, 2) and second["key"] == first["key"]
    current = clinician_client.get(f"/api/v1/rules/{first['key']}").get_json()
    assert current["version"] == 2
    old = clinician_client.get(f"/api/v1/rules/{first['key']}@1").get_json()
    assert old["definition"]["criteria"]["all"][0]["value"] == 20
    listed = [r for r in clinician_client.get("/api/v1/rules").get_json()
              if r["key"] == first["key"]]
    assert [r["version"] for r in listed] == [2]


@pytest.mark.parametrize("change, field", [
    ({"criteria": {"all": [{"kind": "vibes", "value": 1}]}}, "criteria.all[0].kind"),
    ({"window": {"start_hours": 10, "end_hours": 5}}, "window"),
    ({"instrument": "nope"}, "instrument"),
    ({"score": "nope"}, "score"),
    ({"window": {"start_hours": 0, "end_hours": 72, "evaluation": "nearest"}}, "window"),
])
def test_an_invalid_rule_is_refused_naming_the_field(app, clinician_client, change, field):
    from backend.extensions import db
    from backend.rules.models import Rule

    with app.app_context():
        before = db.session.query(Rule).count()
    response = clinician_client.post("/api/v1/rules", json={**DAY_3_RULE, **change})
    assert response.status_code == 422
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    with app.app_context():
        assert db.session.query(Rule).count() == before


def test_every_clinic_starts_with_the_preset_rules(clinician_client):
    names = {r["name"] for r in clinician_client.get("/api/v1/rules").get_json()}
    assert {"PHQ-9 response", "PHQ-9 remission", "Pain reduced by 30% or more",
            "Pain reduced by 50% or more", "GAD-7 improvement of 4 points",
            "PEG improvement of 1 point"} <= names
    assert any("20%" in name and "ay 3" in name for name in names)


def test_the_endpoint_export_has_a_row_per_patient_and_anchor(clinician_client, crossover):
    response = clinician_client.get("/api/v1/exports/endpoints.csv",
                                    query_string={"rule": crossover["key"]})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 20
    first = next(r for r in rows if r["patient_code"] == "XO-01" and r["period"] == "1")
    assert first["verdict"] == "responder" and float(first["baseline"]) == 60
    assert float(first["change_pct_24_h"]) == pytest.approx(100 * (44 - 60) / 60)


def test_the_answer_export_has_a_row_per_answer_with_scores(clinician_client, make_patient,
                                                            enroll):
    _, invite = make_patient(clinician_client, code="PEG-1")
    phone = enroll(invite)
    phone.post("/api/v1/assessments", json=submission("peg", {"peg_1": 7, "peg_2": 6,
                                                                "peg_3": 5}))
    text = clinician_client.get("/api/v1/exports/answers.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["item"] for r in rows] == ["peg_1", "peg_2", "peg_3"]
    assert rows[0]["scores"] == "total=6.0" and rows[0]["answer"] == "7"
    assert rows[0]["patient_code"] == "PEG-1"


def test_text_cells_that_look_like_formulas_are_neutralised():
    from backend.rules.exports import _cell

    assert _cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _cell("-2+3") == "'-2+3" and _cell(-2.5) == -2.5 and _cell(None) == ""
