"""Pure pieces of the clinician pages: the FHIR patient bundle, verdicts in words, cohort SVGs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from fhir.resources.R4B.bundle import Bundle

from backend.charts.clinic import Curve, RateBar, Series, change_chart, km_chart, rate_chart
from backend.clinic.words import hours_text, rule_text, threshold_value, verdict_sentence
from backend.fhir.bundle import patient_bundle
from backend.instruments import SHIPPED_DIR, build_registry

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
PAIN_30 = {"direction": "lower_is_better",
           "criteria": {"all": [{"kind": "percent_improvement", "value": 30}]},
           "window": {"start_hours": 0, "end_hours": 168, "evaluation": "any"}}


def assessment(aid, instrument, answers, scores, at, **extra):
    return SimpleNamespace(id=aid, patient_id=7, instrument_id=instrument,
                           instrument_version="1.0", answers=answers,
                           scores={"scores": scores}, completed_at=at, client_uuid=f"u-{aid}",
                           supersedes_id=None, source="patient", **extra)


def test_a_patient_bundle_is_valid_r4b_with_every_kind_of_answer():
    known = {i.id: i for i in build_registry([SHIPPED_DIR]).all()}
    patient = SimpleNamespace(id=7, clinic_id=3, code="KET-007", status="active")
    assessments = [
        assessment(1, "phq9", {f"phq9_{i}": 1 for i in range(1, 10)},
                   {"total": {"value": 9, "band": "mild"}, "phq2": {"value": 2}}, T0),
        assessment(2, "vas_fatigue", {"vas_fatigue_1": 62},
                   {"score": {"value": 62}}, T0 + timedelta(hours=1)),
        assessment(3, "nrs_pain", {"nrs_pain_1": 4}, {"score": {"value": 4}},
                   T0 + timedelta(days=1)),
    ]
    dose = SimpleNamespace(id=5, patient_id=7, drug="ketamine", dose=0.5, dose_unit="mg/kg",
                           route="IV", given_at=T0, course="induction", session_number=1,
                           arm=None, period=None, notes="40-minute infusion")
    bundle = patient_bundle(patient, assessments, [dose], known, base_url="https://x.test/fhir",
                            timestamp=T0)
    parsed = Bundle.model_validate(bundle)
    kinds = [type(e.resource).__name__ for e in parsed.entry]
    assert kinds == ["Patient", "MedicationAdministration", "QuestionnaireResponse",
                     "Observation", "Observation", "QuestionnaireResponse", "Observation",
                     "QuestionnaireResponse", "Observation"]
    qr = bundle["entry"][2]["resource"]
    assert qr["questionnaire"] == "https://x.test/fhir/Questionnaire/phq9|1.0"
    assert qr["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6569-3"  # "Several days"
    vas = bundle["entry"][5]["resource"]
    assert vas["item"][0]["answer"][0] == {"valueInteger": 62}
    total = bundle["entry"][3]["resource"]
    assert total["code"]["coding"][0] == {"system": "http://loinc.org", "code": "44261-6",
                                          "display": "PHQ-9 total"}
    assert total["valueQuantity"]["code"] == "{score}"
    assert total["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr-1"}]
    ma = bundle["entry"][1]["resource"]
    assert ma["note"][0]["text"] == "course induction, session 1"
    assert "name" not in bundle["entry"][0]["resource"]


def test_rules_and_verdicts_read_as_sentences():
    assert rule_text(PAIN_30, "pain") == "pain -30% within 7 days"
    assert threshold_value(PAIN_30, 7.0) == 4.9
    assert hours_text(2 / 3) == "40 min" and hours_text(24) == "24 h" and hours_text(72) == "3 days"
    verdict = {"verdict": "responder", "reason": None, "baseline": 7.0, "onset_hours": 24.0,
               "followups": [
                   {"hours": 24.0, "value": 4.0, "change_pct": -42.857, "improvement_pct": 42.857,
                    "meets": True, "counted": True}]}
    assert verdict_sentence("pain", verdict, "pain -30% within 7 days") == \
        "Pain fell 43% from 7.0 by 24 h: responder (rule: pain -30% within 7 days)"
    missing = {"verdict": "not_evaluable", "reason": "no_baseline", "baseline": None}
    assert "no score in the baseline span" in verdict_sentence("pain", missing, "x")


def test_cohort_charts_are_well_formed_svg_with_a_title_on_every_mark():
    svgs = [
        rate_chart([RateBar("ketamine", 0.6, 0.4, 0.77, 12, 20),
                    RateBar("midazolam", None, None, None, 0, 0)]),
        change_chart([Series("ketamine", [("24 h", 24, -38.7, 10), ("day 3", 72, -21.0, 9)])],
                     threshold_pct=-20),
        km_chart([Curve("all", [(48.0, 0.8, 10), (240.0, 0.5, 6)], 10, 240.0)]),
    ]
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img" and "style" not in svg
        assert root.find("{http://www.w3.org/2000/svg}title").text
    assert "ketamine: 12 of 20 responded, 60%" in svgs[0]
    assert "none evaluable" in svgs[0]
    assert "50% still responding after 10 days" in svgs[2]
