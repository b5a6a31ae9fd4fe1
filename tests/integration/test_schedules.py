"""Schedules through the API: the default, versioned edits, due lists, server-decided windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..conftest import submission

PEG = {"peg_1": 7, "peg_2": 6, "peg_3": 5}


def dose(staff, patient_id: int, at: datetime) -> dict:
    r = staff.post(f"/api/v1/patients/{patient_id}/treatments", json={
        "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "given_at": at.isoformat()})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_new_clinic_starts_with_the_default_schedule(clinician_client):
    body = clinician_client.get("/api/v1/schedule").get_json()
    assert body["version"] == 1
    ids = [s["id"] for s in body["definition"]["dose_slots"]]
    assert ids == ["baseline", "min40", "h24", "h72", "d7", "d14"]
    assert body["definition"]["monthly"]["every_days"] == 30
    assert body["definition"]["routine"]["every_days"] == 7


def test_changing_the_schedule_adds_a_version_and_checks_the_instruments(clinician_client):
    definition = clinician_client.get("/api/v1/schedule").get_json()["definition"]
    definition["dose_slots"][0]["instruments"] = ["phq9"]
    r = clinician_client.put("/api/v1/schedule", json={"definition": definition})
    assert r.status_code == 200 and r.get_json()["version"] == 2
    definition["dose_slots"][1]["instruments"] = ["no_such_scale"]
    r = clinician_client.put("/api/v1/schedule", json={"definition": definition})
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["field"] == "definition.dose_slots.1.instruments.0"
    r = clinician_client.put("/api/v1/schedule", json={"definition": {"dose_slots": [],
                                                                      "surprise": 1}})
    assert r.status_code == 422
    assert clinician_client.get("/api/v1/schedule").get_json()["version"] == 2


def test_the_patient_sees_the_baseline_before_a_planned_dose_as_due(clinician_client,
                                                                    make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    planned = dose(clinician_client, patient["id"], datetime.now(UTC) + timedelta(hours=3))
    due = phone.get("/api/v1/me/due").get_json()
    keys = [s["key"] for s in due["due"]]
    assert f"d{planned['id']}.baseline" in keys
    assert f"d{planned['id']}.min40" in [s["key"] for s in due["upcoming"]]
    assert due["schedule_version"] == 1
    # The clinician sees the same list for the patient.
    staff_view = clinician_client.get(f"/api/v1/patients/{patient['id']}/due").get_json()
    assert [s["key"] for s in staff_view["due"]] == keys


def test_an_answer_inside_the_window_is_marked_in_window(app, clinician_client, make_patient,
                                                          enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    given = datetime.now(UTC) - timedelta(hours=30)
    t = dose(clinician_client, patient["id"], given)
    r = phone.post("/api/v1/assessments", json=submission(
        "peg", PEG, slot_key=f"d{t['id']}.h24",
        completed_at=(given + timedelta(hours=25)).isoformat()))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["in_window"] is True and body["slot_key"] == f"d{t['id']}.h24"
    assert body["window_opens_at"].startswith((given + timedelta(hours=20)).strftime("%Y-%m-%dT%H"))
    done = phone.get("/api/v1/me/due").get_json()
    h24 = next(s for s in done["due"] + done["done"] if s["key"] == f"d{t['id']}.h24")
    assert "peg" in h24["done"]


def test_a_late_answer_is_accepted_and_marked_out_of_window(app, clinician_client,
                                                             make_patient, enroll):
    from sqlalchemy import select

    from backend.assessments.models import Assessment, ScoreValue
    from backend.extensions import db

    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    t = dose(clinician_client, patient["id"], datetime.now(UTC) - timedelta(days=5))
    payload = submission("peg", PEG, slot_key=f"d{t['id']}.h24", in_window=True)
    r = phone.post("/api/v1/assessments", json=payload)
    assert r.status_code == 422  # the client may not say whether it was in the window
    del payload["in_window"]
    r = phone.post("/api/v1/assessments", json=payload)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["in_window"] is False
    with app.app_context():
        row = db.session.scalar(select(Assessment))
        assert row.in_window is False and row.schedule_id is not None
        assert row.window_closes_at < row.completed_at
        values = db.session.scalars(select(ScoreValue.in_window)).all()
        assert values and all(v is False for v in values)
    # A retry returns the first result, window verdict included.
    again = phone.post("/api/v1/assessments", json=payload)
    assert again.status_code == 200 and again.get_json()["in_window"] is False


def test_a_slot_the_schedule_does_not_have_is_refused_next_to_the_field(clinician_client,
                                                                         make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    t = dose(clinician_client, patient["id"], datetime.now(UTC) - timedelta(hours=1))
    for key, reason in ((f"d{t['id']}.h99", "unknown slot"), ("d999999.baseline", "unknown slot"),
                        (f"d{t['id']}.min40", "slot does not include peg")):
        r = phone.post("/api/v1/assessments", json=submission("peg", PEG, slot_key=key))
        assert r.status_code == 422, key
        assert r.get_json()["errors"] == [{"field": "slot_key", "reason": reason}]


def test_me_gives_the_clinic_texts_and_progress_gives_svg_charts(clinician_client,
                                                                 make_patient, enroll):
    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    me = phone.get("/api/v1/me").get_json()
    assert me["code"] == patient["code"]
    assert "study code" in me["clinic"]["consent_text"]
    assert "988" in me["clinic"]["crisis_text"]
    assert phone.get("/api/v1/me/progress").get_json() == []
    dose(clinician_client, patient["id"], datetime.now(UTC) - timedelta(days=2))
    for value in (7, 4):
        assert phone.post("/api/v1/assessments", json=submission(
            "nrs_pain", {"nrs_pain_1": value})).status_code == 201
    [chart] = phone.get("/api/v1/me/progress").get_json()
    assert chart["instrument_id"] == "nrs_pain" and chart["count"] == 2 and chart["latest"] == 4
    assert chart["svg"].startswith("<svg") and "style=" not in chart["svg"]
    assert 'class="chart-dose"' in chart["svg"]


def test_the_patient_app_pages_service_worker_and_manifest_are_served(client):
    for path in ("/join", "/app", "/app/answer", "/app/progress"):
        r = client.get(path)
        assert r.status_code == 200 and b'type="module"' in r.data, path
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["start_url"] == "/app"
