"""Patients: pseudonymous codes, single-use expiring invites, enrolment, PIN."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backend.dbtypes import utcnow

from ..conftest import submission


def test_creating_a_patient_returns_a_single_use_invite_link_and_qr_code(clinician_client,
                                                                          make_patient):
    patient, invite = make_patient(clinician_client, timezone="Europe/Berlin")
    assert patient["code"].startswith("P-") and patient["status"] == "invited"
    assert invite["url"].startswith("http://ebb.test/join#")
    assert invite["qr_svg"].startswith("<svg")
    assert invite["state"] == "open"


def test_only_a_hash_of_the_invite_token_is_stored(app, clinician_client, make_patient):
    from backend.extensions import db
    from backend.patients.models import Invite

    _, invite = make_patient(clinician_client)
    with app.app_context():
        stored = db.session.query(Invite).one()
        assert invite["token"] not in stored.token_hash
        assert len(stored.token_hash) == 64


def test_a_patient_code_is_unique_within_a_clinic(clinician_client, make_patient):
    make_patient(clinician_client, code="KET-001")
    again = clinician_client.post("/api/v1/patients", json={"code": "KET-001"})
    assert again.status_code == 409
    assert again.get_json()["errors"][0]["field"] == "code"


def test_an_unknown_time_zone_is_refused_naming_the_field(clinician_client):
    response = clinician_client.post("/api/v1/patients", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "timezone",
                                              "reason": "unknown IANA time zone"}]


def test_enrolling_starts_a_patient_session_and_activates_the_patient(clinician_client,
                                                                       make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    me = phone.get("/api/v1/auth/session").get_json()
    assert me["kind"] == "patient" and me["patient"]["code"] == patient["code"]
    status = clinician_client.get(f"/api/v1/patients/{patient['id']}").get_json()["status"]
    assert status == "active"


def test_a_replayed_invite_is_refused_and_starts_no_session(clinician_client, make_patient,
                                                            enroll, make_client):
    _, invite = make_patient(clinician_client)
    enroll(invite)
    second = make_client()
    response = second.post("/api/v1/enroll", json={"token": invite["token"]})
    assert response.status_code == 410
    assert response.get_json()["type"] == "urn:ebb:problem:invite-used"
    assert second.get("/api/v1/auth/session").status_code == 401


def test_an_expired_invite_is_refused(app, clinician_client, make_patient, make_client):
    from backend.extensions import db
    from backend.patients.models import Invite

    _, invite = make_patient(clinician_client)
    with app.app_context():
        db.session.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = make_client().post("/api/v1/enroll", json={"token": invite["token"]})
    assert response.status_code == 410
    assert "expired" in response.get_json()["detail"]


def test_reissuing_revokes_the_old_invite(clinician_client, make_patient, make_client, enroll):
    patient, old = make_patient(clinician_client)
    new = clinician_client.post(f"/api/v1/patients/{patient['id']}/invites").get_json()
    refused = make_client().post("/api/v1/enroll", json={"token": old["token"]})
    assert refused.status_code == 410 and "withdrawn" in refused.get_json()["detail"]
    enroll(new)
    states = [i["state"] for i in
              clinician_client.get(f"/api/v1/patients/{patient['id']}/invites").get_json()]
    assert sorted(states) == ["revoked", "used"]


def test_a_revoked_invite_is_refused(clinician_client, make_patient, make_client):
    patient, invite = make_patient(clinician_client)
    assert clinician_client.delete(
        f"/api/v1/patients/{patient['id']}/invites/{invite['id']}").status_code == 204
    assert make_client().post("/api/v1/enroll",
                              json={"token": invite["token"]}).status_code == 410


def test_an_unknown_invite_gets_a_clear_404(make_client):
    response = make_client().post("/api/v1/enroll", json={"token": "x" * 32})
    assert response.status_code == 404
    assert "not valid" in response.get_json()["detail"]


def test_a_pin_guards_the_app_after_it_has_been_idle(app, clinician_client, make_patient,
                                                     enroll):
    from backend.extensions import db
    from backend.users.models import AuthSession

    _, invite = make_patient(clinician_client)
    phone = enroll(invite, pin="2468")
    assert phone.get("/api/v1/assessments").status_code == 200
    with app.app_context():
        db.session.execute(update(AuthSession).where(AuthSession.kind == "patient").values(
            last_seen_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()
    locked = phone.get("/api/v1/assessments")
    assert locked.status_code == 401
    assert locked.get_json()["type"] == "urn:ebb:problem:pin-required"
    assert phone.post("/api/v1/auth/unlock", json={"pin": "1111"}).status_code == 422
    assert phone.post("/api/v1/auth/unlock", json={"pin": "2468"}).status_code == 200
    assert phone.get("/api/v1/assessments").status_code == 200


def test_withdrawing_a_patient_ends_their_sessions(clinician_client, make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    clinician_client.patch(f"/api/v1/patients/{patient['id']}", json={"status": "withdrawn"})
    assert phone.post("/api/v1/assessments",
                      json=submission("nrs_pain", {"nrs_pain_1": 3})).status_code == 401


def test_the_patient_list_puts_open_safety_alerts_first(clinician_client, make_patient, enroll):
    calm, _ = make_patient(clinician_client, code="A-CALM")
    worried, invite = make_patient(clinician_client, code="Z-ALERT")
    phone = enroll(invite)
    phq9 = {f"phq9_{i}": 1 for i in range(1, 10)}
    assert phone.post("/api/v1/assessments", json=submission("phq9", phq9)).status_code == 201
    rows = clinician_client.get("/api/v1/patients").get_json()
    assert [r["code"] for r in rows] == ["Z-ALERT", "A-CALM"]
    assert rows[0]["open_alerts"] == 1 and rows[0]["last_answer_at"]
    alert = clinician_client.get(f"/api/v1/patients/{worried['id']}/alerts").get_json()[0]
    ack = clinician_client.post(
        f"/api/v1/patients/{worried['id']}/alerts/{alert['id']}/acknowledge",
        json={"note": "phoned, safe"})
    assert ack.status_code == 200 and ack.get_json()["acknowledged_at"]
    assert clinician_client.get("/api/v1/patients").get_json()[1]["open_alerts"] == 0
    assert clinician_client.get("/api/v1/patients", query_string={"q": "calm"}).get_json()[0][
        "code"] == "A-CALM"


def forget_kind(phone) -> None:
    """Make the phone's cookie look like one issued before sessions recorded their kind: its
    requests then take the ORM loader instead of the patient one."""
    with phone.session_transaction() as sess:
        sess.pop("kind")


class TestBothSessionLoaders:
    """A patient's session is read by the lean loader (cookies that say they are a patient's)
    or by the ORM one (older cookies): both must admit and refuse alike."""

    @staticmethod
    def phone(request, enroll, invite, **kwargs):
        phone = enroll(invite, **kwargs)
        if request.param == "orm":
            forget_kind(phone)
        return phone

    @pytest.fixture(params=["lean", "orm"])
    def loader(self, request):
        return request

    def test_submits_and_reads_its_own_answers(self, loader, clinician_client, make_patient,
                                               enroll):
        patient, invite = make_patient(clinician_client)
        phone = self.phone(loader, enroll, invite)
        me = phone.get("/api/v1/auth/session").get_json()
        assert me["kind"] == "patient" and me["patient"]["id"] == patient["id"]
        posted = phone.post("/api/v1/assessments", json=submission("nrs_pain", {"nrs_pain_1": 4}))
        assert posted.status_code == 201 and posted.get_json()["patient_id"] == patient["id"]
        listed = phone.get("/api/v1/assessments").get_json()
        assert [a["id"] for a in listed] == [posted.get_json()["id"]]

    def test_the_pin_locks_after_idle_and_unlocks(self, loader, app, clinician_client,
                                                  make_patient, enroll):
        from backend.extensions import db
        from backend.users.models import AuthSession

        _, invite = make_patient(clinician_client)
        phone = self.phone(loader, enroll, invite, pin="2468")
        assert phone.get("/api/v1/assessments").status_code == 200
        with app.app_context():
            db.session.execute(update(AuthSession).values(
                last_seen_at=utcnow() - timedelta(minutes=20)))
            db.session.commit()
        assert phone.post("/api/v1/assessments",
                          json=submission("nrs_pain", {"nrs_pain_1": 4})).status_code == 401
        assert phone.get("/api/v1/auth/session").get_json()["pin_locked"] is True
        assert phone.post("/api/v1/auth/unlock", json={"pin": "2468"}).status_code == 200
        assert phone.post("/api/v1/assessments",
                          json=submission("nrs_pain", {"nrs_pain_1": 4})).status_code == 201

    def test_expired_revoked_and_withdrawn_sessions_are_refused(self, loader, app,
                                                                clinician_client,
                                                                make_patient, enroll):
        from backend.extensions import db
        from backend.users.models import AuthSession

        for end in ("expired", "revoked", "withdrawn"):
            patient, invite = make_patient(clinician_client)
            phone = self.phone(loader, enroll, invite)
            assert phone.get("/api/v1/assessments").status_code == 200
            if end == "withdrawn":  # set directly: withdrawing through the API also revokes
                from backend.patients.models import Patient

                with app.app_context():
                    db.session.execute(update(Patient).where(Patient.id == patient["id"])
                                       .values(status="withdrawn"))
                    db.session.commit()
            else:
                column = "expires_at" if end == "expired" else "revoked_at"
                with app.app_context():
                    db.session.execute(update(AuthSession)
                                       .where(AuthSession.patient_id == patient["id"])
                                       .values({column: utcnow() - timedelta(seconds=1)}))
                    db.session.commit()
            assert phone.get("/api/v1/assessments").status_code == 401, end
            assert phone.post("/api/v1/assessments", json=submission(
                "nrs_pain", {"nrs_pain_1": 4})).status_code == 401, end

    def test_a_request_touches_the_session_at_most_once_a_minute(self, loader, app,
                                                                 clinician_client,
                                                                 make_patient, enroll):
        from backend.extensions import db
        from backend.users.models import AuthSession

        patient, invite = make_patient(clinician_client)
        phone = self.phone(loader, enroll, invite)
        long_ago = utcnow() - timedelta(minutes=5)
        with app.app_context():
            db.session.execute(update(AuthSession).values(last_seen_at=long_ago))
            db.session.commit()
        assert phone.get("/api/v1/assessments").status_code == 200
        with app.app_context():
            seen = db.session.scalar(select(AuthSession.last_seen_at)
                                     .where(AuthSession.patient_id == patient["id"]))
        assert seen > long_ago + timedelta(minutes=4)


def test_the_signed_in_patient_is_read_only(app, clinician_client, make_patient, enroll):
    from flask_login import current_user

    from backend.access import current_patient
    from backend.patients.models import Patient
    from backend.users.sessions import SignedInPatient

    _, invite = make_patient(clinician_client)
    phone = enroll(invite)
    cookie = phone.get_cookie("ebb_session").value
    with app.test_request_context(headers={"Cookie": f"ebb_session={cookie}"}):
        principal = current_user._get_current_object()
        assert isinstance(principal, SignedInPatient)
        with pytest.raises(AttributeError):
            principal.status = "withdrawn"
        record = current_patient()
        assert isinstance(record, Patient) and record.id == principal.id
        assert record.session_token == principal.session_token
