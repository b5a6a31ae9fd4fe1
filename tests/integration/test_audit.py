"""The audit trail: every read and write of patient data, append-only in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ..conftest import login, submission


def actions(client, **query):
    response = client.get("/api/v1/audit", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [e["action"] for e in response.get_json()]


@pytest.fixture
def admin_client(make_client, make_user, clinician):
    admin = make_user(clinician["clinic_id"], role="admin")
    client = make_client()
    login(client, admin)
    return client


def test_reads_and_writes_of_patient_data_are_recorded(clinician_client, admin_client,
                                                       make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    phone.post("/api/v1/assessments", json=submission("nrs_pain", {"nrs_pain_1": 6}))
    clinician_client.get(f"/api/v1/patients/{patient['id']}")
    clinician_client.get(f"/api/v1/patients/{patient['id']}/assessments")
    clinician_client.post(f"/api/v1/patients/{patient['id']}/treatments", json={
        "drug": "ketamine", "dose": 35, "dose_unit": "mg", "given_at": "2026-11-01T10:00:00Z"})
    seen = actions(admin_client, patient_id=patient["id"])
    for action in ("patient.create", "invite.create", "patient.enroll", "assessment.create",
                   "patient.read", "assessment.list", "treatment.create"):
        assert action in seen, action


def test_each_event_says_who_when_what_and_from_where(clinician_client, admin_client,
                                                      make_patient, clinician):
    patient, _ = make_patient(clinician_client)
    clinician_client.patch(f"/api/v1/patients/{patient['id']}",
                           json={"timezone": "Asia/Tokyo"})
    event = admin_client.get("/api/v1/audit",
                             query_string={"action": "patient.update"}).get_json()[0]
    assert event["actor_kind"] == "user" and event["actor_id"] == clinician["id"]
    assert event["patient_id"] == patient["id"]
    assert event["old"] == {"timezone": "UTC"} and event["new"] == {"timezone": "Asia/Tokyo"}
    assert event["ip"] and event["at"]


def test_sign_in_events_are_recorded_including_failures(client, admin_client, clinician):
    client.post("/api/v1/auth/login", json={"email": clinician["email"], "password": "bad"})
    login(client, clinician)
    seen = actions(admin_client, action="auth.")
    assert "auth.login_failed" in seen and "auth.login" in seen


def test_a_clinician_who_is_not_an_admin_cannot_read_the_trail(clinician_client):
    assert clinician_client.get("/api/v1/audit").status_code == 403


def test_a_rejected_request_leaves_no_audit_of_a_write(clinician_client, admin_client,
                                                        make_patient):
    patient, _ = make_patient(clinician_client)
    bad = clinician_client.post(f"/api/v1/patients/{patient['id']}/treatments",
                                json={"drug": "ketamine", "dose": -1})
    assert bad.status_code == 422
    assert "treatment.create" not in actions(admin_client)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'tampered'",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_delete_audit_events(app, clinician_client,
                                                                make_patient, statement):
    from backend.extensions import db

    make_patient(clinician_client)
    with app.app_context():
        count = db.session.execute(text("SELECT count(*) FROM audit_events")).scalar()
        assert count > 0
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
            db.session.commit()
        db.session.rollback()
        assert db.session.execute(text("SELECT count(*) FROM audit_events")).scalar() == count
