"""Submitting answers: scored on arrival, stored once, retries return the first result."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..conftest import submission

PHQ9_EXAMPLE = [2, 3, 1, 2, 0, 1, 0, 1, 0]


@pytest.fixture
def patient_and_phone(clinician_client, make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    return patient, enroll(invite)


def phq9(values):
    return {f"phq9_{i + 1}": v for i, v in enumerate(values)}


def test_a_submission_is_scored_and_stored_with_both_times(patient_and_phone):
    _, phone = patient_and_phone
    body = submission("phq9", phq9(PHQ9_EXAMPLE), completed_at="2026-11-20T08:30:00+01:00")
    response = phone.post("/api/v1/assessments", json=body,
                          headers={"Idempotency-Key": body["client_uuid"]})
    assert response.status_code == 201
    stored = response.get_json()
    assert stored["scores"]["scores"]["total"] == {"value": 10, "band": "moderate",
                                                   "reason": None}
    assert stored["scores"]["scores"]["phq2"]["value"] == 5
    assert stored["completed_at"].startswith("2026-11-20T07:30:00")
    assert stored["received_at"] != stored["completed_at"]
    assert stored["instrument_version"] and stored["scoring_version"]
    assert stored["crisis_text"] is None and stored["replayed"] is False


def test_a_retry_with_the_same_uuid_returns_the_first_result_and_stores_one_row(
        app, patient_and_phone):
    from backend.assessments.models import Assessment
    from backend.extensions import db

    _, phone = patient_and_phone
    body = submission("nrs_pain", {"nrs_pain_1": 6})
    first = phone.post("/api/v1/assessments", json=body)
    again = phone.post("/api/v1/assessments", json={**body, "answers": {"nrs_pain_1": 2}})
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["answers"] == {"nrs_pain_1": 6}
    assert again.get_json()["replayed"] is True
    with app.app_context():
        assert db.session.query(Assessment).count() == 1


def test_concurrent_retries_of_one_submission_store_it_once(app, patient_and_phone):
    from backend.assessments.models import Assessment
    from backend.extensions import db

    _, phone = patient_and_phone
    body = submission("nrs_fatigue", {"nrs_fatigue_1": 4})
    cookie = phone.get_cookie("ebb_session").value

    def post(_):
        c = app.test_client()
        c.set_cookie("ebb_session", cookie)
        return c.post("/api/v1/assessments", json=body).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(post, range(8)))
    assert sorted(set(statuses)) <= [200, 201] and statuses.count(201) == 1
    with app.app_context():
        assert db.session.query(Assessment).filter_by(client_uuid=body["client_uuid"]).count() == 1


def test_an_idempotency_key_that_differs_from_the_body_is_refused(patient_and_phone):
    _, phone = patient_and_phone
    body = submission("nrs_pain", {"nrs_pain_1": 6})
    response = phone.post("/api/v1/assessments", json=body,
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "client_uuid"


def test_a_positive_suicidality_item_shows_crisis_text_and_alerts_the_clinic(
        clinician_client, patient_and_phone):
    patient, phone = patient_and_phone
    response = phone.post("/api/v1/assessments", json=submission("phq9", phq9([0] * 8 + [1])))
    assert response.status_code == 201
    assert "988" in response.get_json()["crisis_text"]
    alerts = clinician_client.get(f"/api/v1/patients/{patient['id']}/alerts").get_json()
    assert [a["kind"] for a in alerts] == ["suicidality"]


def test_an_unknown_instrument_is_refused_naming_the_field(patient_and_phone):
    _, phone = patient_and_phone
    response = phone.post("/api/v1/assessments", json=submission("nope", {"x": 1}))
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == "instrument_id"


def test_a_completion_time_in_the_future_is_refused(patient_and_phone):
    _, phone = patient_and_phone
    response = phone.post("/api/v1/assessments", json=submission(
        "nrs_pain", {"nrs_pain_1": 1}, completed_at="2999-01-01T00:00:00Z"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "completed_at"


def test_a_clinician_backfills_a_paper_form_and_an_incomplete_import_is_kept_unscored(
        clinician_client, patient_and_phone):
    patient, _ = patient_and_phone
    url = f"/api/v1/patients/{patient['id']}/assessments"
    paper = clinician_client.post(url, json=submission("gad7", {f"gad7_{i}": 1
                                                                for i in range(1, 8)}))
    assert paper.status_code == 201 and paper.get_json()["source"] == "clinician"
    partial = clinician_client.post(url, json=submission("phq9", {"phq9_1": 2}, source="import"))
    assert partial.status_code == 201
    result = partial.get_json()
    assert result["complete"] is False
    assert result["scores"]["scores"]["total"]["value"] is None
    assert result["scores"]["scores"]["total"]["reason"]
    incomplete_by_hand = clinician_client.post(url, json=submission("phq9", {"phq9_1": 2}))
    assert incomplete_by_hand.status_code == 422


def test_a_correction_supersedes_the_old_row_without_changing_it(clinician_client,
                                                                  patient_and_phone):
    patient, phone = patient_and_phone
    first = phone.post("/api/v1/assessments",
                       json=submission("nrs_pain", {"nrs_pain_1": 9})).get_json()
    url = f"/api/v1/patients/{patient['id']}/assessments"
    fix = clinician_client.post(url, json=submission("nrs_pain", {"nrs_pain_1": 3},
                                                     supersedes_id=first["id"],
                                                     note="patient tapped 9 by mistake"))
    assert fix.status_code == 201 and fix.get_json()["supersedes_id"] == first["id"]
    current = clinician_client.get(url).get_json()
    assert [a["answers"]["nrs_pain_1"] for a in current] == [3]
    every = clinician_client.get(url, query_string={"include_superseded": "true"}).get_json()
    assert sorted(a["answers"]["nrs_pain_1"] for a in every) == [3, 9]
    twice = clinician_client.post(url, json=submission("nrs_pain", {"nrs_pain_1": 4},
                                                       supersedes_id=first["id"]))
    assert twice.status_code == 409


def test_a_retried_correction_returns_the_first_result_not_a_conflict(clinician_client,
                                                                       patient_and_phone):
    patient, phone = patient_and_phone
    first = phone.post("/api/v1/assessments",
                       json=submission("nrs_pain", {"nrs_pain_1": 9})).get_json()
    url = f"/api/v1/patients/{patient['id']}/assessments"
    body = submission("nrs_pain", {"nrs_pain_1": 3}, supersedes_id=first["id"])
    fix = clinician_client.post(url, json=body)
    retry = clinician_client.post(url, json=body)
    assert fix.status_code == 201 and retry.status_code == 200
    assert retry.get_json()["id"] == fix.get_json()["id"] and retry.get_json()["replayed"]


def test_a_retry_that_would_be_refused_now_still_returns_the_first_result(patient_and_phone):
    _, phone = patient_and_phone
    body = submission("nrs_pain", {"nrs_pain_1": 6})
    first = phone.post("/api/v1/assessments", json=body)
    # Same UUID, answers that would be refused today: the stored answer is what counts.
    again = phone.post("/api/v1/assessments", json={**body, "answers": {"nrs_pain_1": 99}})
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    other = phone.post("/api/v1/assessments",
                       json={**body, "instrument_id": "phq9", "answers": {"phq9_1": 9}})
    assert other.status_code == 409
    assert other.get_json()["errors"][0]["field"] == "client_uuid"


def test_stateless_scoring_stores_nothing(app, client):
    from backend.assessments.models import Assessment
    from backend.extensions import db

    response = client.post("/api/v1/instruments/peg/score",
                           json={"answers": {"peg_1": 7, "peg_2": 6, "peg_3": 5}})
    assert response.status_code == 200
    assert response.get_json()["scores"]["total"]["value"] == 6.0
    with app.app_context():
        assert db.session.query(Assessment).count() == 0
