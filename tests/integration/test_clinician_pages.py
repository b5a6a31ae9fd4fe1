"""Clinician pages: each renders, shows the API's numbers, writes through forms, audits."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from ..conftest import login

PAIN_RULE = "nrs-pain-pain-reduced-by-30-or-more"
POINT = re.compile(r'class="chart-point(?: out)?"')
NOW = datetime.now(UTC).replace(microsecond=0)


def backfill(client, patient_id: int, instrument: str, answers: dict, at: datetime):
    r = client.post(f"/api/v1/patients/{patient_id}/assessments", json={
        "client_uuid": str(uuid.uuid4()), "instrument_id": instrument, "answers": answers,
        "completed_at": at.isoformat()})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def dose(client, patient_id: int, at: datetime, **extra):
    r = client.post(f"/api/v1/patients/{patient_id}/treatments", json={
        "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "given_at": at.isoformat(),
        **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def csrf(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf"]


@pytest.fixture
def seeded(clinician_client, make_patient, enroll):
    """A responder on pain (8 -> 4 a day after the dose), with a PHQ-9 safety alert."""
    patient, invite = make_patient(clinician_client, code="PG-001")
    enroll(invite)
    pid = patient["id"]
    given = NOW - timedelta(days=3)
    t = dose(clinician_client, pid, given, course="induction", session_number=1)
    backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 8}, given - timedelta(hours=20))
    backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 4}, given + timedelta(hours=24))
    backfill(clinician_client, pid, "side_effects", {
        "se_dissociation": 2, "se_nausea": 1, "se_dizziness": 0, "se_headache": 0,
        "se_blurred_vision": 0, "se_bladder": 0, "se_unsafe": 0}, given + timedelta(minutes=40))
    phq9 = {f"phq9_{i}": 1 for i in range(1, 10)} | {"phq9_9": 1}
    backfill(clinician_client, pid, "phq9", phq9, given - timedelta(hours=2))
    other, _ = make_patient(clinician_client, code="PG-002")
    return {"id": pid, "treatment": t, "other": other["id"]}


def page(client, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r.get_data(as_text=True)


def test_the_patient_list_puts_alerts_first_and_shows_latest_verdicts(clinician_client, seeded):
    html = page(clinician_client, "/clinic/patients")
    alerts = html.index("Open safety alerts")
    assert alerts < html.index("<table")
    assert "PG-001" in html[alerts:html.index("<table")]
    assert 'class="verdict responder"' in html and "responder</span>" in html
    first_row = html.index("PG-001", html.index("<tbody>"))
    assert first_row < html.index("PG-002", html.index("<tbody>"))


def test_the_patient_list_filters_by_code_and_by_alerts(clinician_client, seeded):
    html = page(clinician_client, "/clinic/patients?q=002")
    body = html[html.index("<tbody>"):]
    assert "PG-002" in body and "PG-001" not in body
    body = page(clinician_client, "/clinic/patients?only=alerts")
    body = body[body.index("<tbody>"):]
    assert "PG-001" in body and "PG-002" not in body


def test_the_patient_list_chooses_verdict_columns_with_checkboxes_named_apart(
        clinician_client, seeded):
    fatigue = ("nrs-fatigue-fatigue-reduced-by-20-or-more-by-day-3",
               "vas-fatigue-fatigue-reduced-by-20-or-more-by-day-3")
    html = page(clinician_client, "/clinic/patients?" + "&".join(f"rule={k}" for k in fatigue))
    boxes = dict(re.findall(r'<input type="checkbox" name="rule" value="([^"]+)"( checked)?',
                            html))
    assert {k for k, checked in boxes.items() if checked} == set(fatigue)
    assert PAIN_RULE in boxes and len(boxes) > len(fatigue)
    # Two instruments name their rules alike: the choices and the columns say which is which.
    head = html[html.index("<thead>"):html.index("</thead>")]
    for name in ("Fatigue reduced by 20% or more by day 3 · Fatigue (0-10)",
                 "Fatigue reduced by 20% or more by day 3 · Fatigue (0-100 slider)"):
        assert html.count(name) == 2 and name in head  # its checkbox and its column
    assert "Verdict columns: 2 of" in html


def test_the_patient_page_says_the_verdict_in_words_and_matches_the_api(clinician_client,
                                                                         seeded):
    pid = seeded["id"]
    api = clinician_client.get(f"/api/v1/patients/{pid}/outcomes",
                               query_string={"rule": PAIN_RULE}).get_json()
    verdict = api["verdicts"][0]
    assert verdict["verdict"] == "responder" and verdict["baseline"] == 8
    html = page(clinician_client, f"/clinic/patients/{pid}")
    assert "Pain fell 50% from 8.0 by 24 h: responder (rule: pain -30% within 7 days)" in html
    assert html.count("<svg") >= 2  # pain and PHQ-9 trend charts
    assert 'class="chart-dose"' in html and "ketamine 0.5 mg/kg IV" in html
    assert 'class="chart-threshold"' in html and "Threshold: 5.6" in html
    assert "Dissociation" in html and "moderate" in html  # side effects after the dose
    assert "Acknowledge" in html
    assert "phq9_9" not in html or "9:&nbsp;<b>1</b>" in html


def test_reading_a_patient_page_is_audited(app, clinician_client, seeded):
    page(clinician_client, f"/clinic/patients/{seeded['id']}")
    from backend.audit.models import AuditEvent
    from backend.extensions import db

    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)
                                         .where(AuditEvent.patient_id == seeded["id"])))
    assert {"patient.read", "clinic.patient_page", "assessment.list"} <= actions


def test_another_clinic_gets_404_and_strangers_are_sent_to_sign_in(
        seeded, make_clinic, make_user, make_client):
    other = make_client()
    login(other, make_user(make_clinic()))
    r = other.get(f"/clinic/patients/{seeded['id']}")
    assert r.status_code == 404 and "PG-001" not in r.get_data(as_text=True)
    r = make_client().get(f"/clinic/patients/{seeded['id']}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_dose_recorded_through_the_form_reaches_the_api(clinician_client, seeded):
    pid = seeded["id"]
    r = clinician_client.post(f"/clinic/patients/{pid}/treatments", data={
        "csrf_token": csrf(clinician_client), "drug": "ketamine", "dose": "0.75",
        "dose_unit": "mg/kg", "route": "IV", "given_at": "2026-01-05T09:30", "course": "c2",
        "session_number": "2", "arm": "A", "period": "1", "notes": ""})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    doses = clinician_client.get(f"/api/v1/patients/{pid}/treatments").get_json()
    new = [d for d in doses if d["dose"] == 0.75][0]
    assert new["arm"] == "A" and new["period"] == 1 and new["session_number"] == 2
    assert new["given_at"].startswith("2026-01-05T09:30")  # patient zone is UTC here


def test_a_bad_dose_form_is_shown_again_with_the_problem_and_stores_nothing(clinician_client,
                                                                          seeded):
    pid = seeded["id"]
    r = clinician_client.post(f"/clinic/patients/{pid}/treatments", data={
        "csrf_token": csrf(clinician_client), "drug": "ketamine", "dose": "-1",
        "dose_unit": "mg/kg", "given_at": "2026-01-05T09:30"})
    assert r.status_code == 422 and "Please fix" in r.get_data(as_text=True)
    assert len(clinician_client.get(f"/api/v1/patients/{pid}/treatments").get_json()) == 1


def test_a_form_without_the_csrf_token_is_refused(clinician_client, seeded):
    from flask.testing import FlaskClient

    r = FlaskClient.open(clinician_client, f"/clinic/patients/{seeded['id']}/treatments",
                         method="POST", data={"drug": "x", "dose": "1", "dose_unit": "mg",
                                              "given_at": "2026-01-05T09:30"})
    assert r.status_code == 403


def test_a_dose_can_be_corrected_and_the_correction_is_audited(app, clinician_client, seeded):
    pid, tid = seeded["id"], seeded["treatment"]["id"]
    assert "Correct the dose" in page(clinician_client, f"/clinic/patients/{pid}?edit={tid}")
    r = clinician_client.post(f"/clinic/patients/{pid}/treatments/{tid}", data={
        "csrf_token": csrf(clinician_client), "dose": "0.6", "drug": "ketamine",
        "dose_unit": "mg/kg", "route": "IV"})
    assert r.status_code == 303
    doses = clinician_client.get(f"/api/v1/patients/{pid}/treatments").get_json()
    assert doses[0]["dose"] == 0.6


def test_an_alert_is_acknowledged_from_the_patient_page(clinician_client, seeded):
    pid = seeded["id"]
    alert = clinician_client.get(f"/api/v1/patients/{pid}/alerts").get_json()[0]
    r = clinician_client.post(f"/clinic/patients/{pid}/alerts/{alert['id']}/acknowledge",
                              data={"csrf_token": csrf(clinician_client), "note": "called"})
    assert r.status_code == 303
    after = clinician_client.get(f"/api/v1/patients/{pid}/alerts").get_json()[0]
    assert after["acknowledged_at"] and after["note"] == "called"
    assert "Open safety alerts" not in page(clinician_client, "/clinic/patients")


def test_creating_a_patient_shows_the_qr_code_and_link_once(clinician_client):
    assert "Study code" in page(clinician_client, "/clinic/patients/new")
    r = clinician_client.post("/clinic/patients/new", data={
        "csrf_token": csrf(clinician_client), "code": "NEW-7", "timezone": "Europe/Oslo"})
    html = r.get_data(as_text=True)
    assert r.status_code == 201 and "<svg" in html and "http://ebb.test/join#" in html
    pid = int(re.search(r"/clinic/patients/(\d+)/invites", html).group(1))
    again = page(clinician_client, f"/clinic/patients/{pid}/invites")
    assert "/join#" not in again and "open" in again  # the token is never shown again
    r = clinician_client.post("/clinic/patients/new", data={
        "csrf_token": csrf(clinician_client), "code": "NEW-7"})
    assert r.status_code == 409 and "already in use" in r.get_data(as_text=True)


@pytest.mark.parametrize("code", ["x" * 41, "a b", "-lead"])
def test_the_new_patient_form_holds_codes_to_the_apis_rule(clinician_client, code):
    # The form used to call the service directly: a code of 500 characters was stored.
    r = clinician_client.post("/clinic/patients/new", data={
        "csrf_token": csrf(clinician_client), "code": code})
    assert r.status_code == 422
    assert "2-40 letters, digits" in r.get_data(as_text=True)
    assert clinician_client.get("/api/v1/patients").get_json() == []
    assert clinician_client.post("/api/v1/patients", json={"code": code}).status_code == 422


def test_a_blank_code_in_the_new_patient_form_gets_a_random_one(clinician_client):
    # Only spaces: as if left empty (it was a 500, the database refusing an empty code).
    r = clinician_client.post("/clinic/patients/new", data={
        "csrf_token": csrf(clinician_client), "code": "   "})
    assert r.status_code == 201
    (patient,) = clinician_client.get("/api/v1/patients").get_json()
    assert re.fullmatch(r"P-[A-Z0-9]{6}", patient["code"])


def test_invites_are_reissued_and_revoked(clinician_client, seeded):
    pid = seeded["other"]
    r = clinician_client.post(f"/clinic/patients/{pid}/invites",
                              data={"csrf_token": csrf(clinician_client)})
    assert r.status_code == 201 and "/join#" in r.get_data(as_text=True)
    invites = clinician_client.get(f"/api/v1/patients/{pid}/invites").get_json()
    assert [i["state"] for i in invites] == ["open", "revoked"]
    r = clinician_client.post(f"/clinic/patients/{pid}/invites/{invites[0]['id']}/revoke",
                              data={"csrf_token": csrf(clinician_client)})
    assert r.status_code == 303
    invites = clinician_client.get(f"/api/v1/patients/{pid}/invites").get_json()
    assert [i["state"] for i in invites] == ["revoked", "revoked"]


@pytest.mark.parametrize("group_by", ["none", "arm", "period", "arm_period", "drug"])
def test_the_cohort_page_shows_the_apis_rate_and_counts(clinician_client, seeded, group_by):
    api = clinician_client.get("/api/v1/cohort/outcomes", query_string={
        "rule": PAIN_RULE, "group_by": group_by}).get_json()
    html = page(clinician_client, f"/clinic/cohort?rule={PAIN_RULE}&group_by={group_by}")
    group = api["groups"][0]
    assert f"<strong>{group['rate'] * 100:.0f}%</strong>" in html
    assert f"<td>{group['evaluable']}</td><td>{group['responders']}</td>" in html
    assert html.count("<svg") == 3  # rates, % change by time point, Kaplan-Meier
    assert "/api/v1/exports/endpoints.csv?rule=" in html and "/api/v1/exports/answers.csv" in html


def test_the_rules_editor_previews_without_saving_then_saves_a_new_version(clinician_client,
                                                                           seeded):
    html = page(clinician_client, f"/clinic/rules/edit?key={PAIN_RULE}")
    assert 'value="nrs_pain:score" selected' in html
    form = {"csrf_token": csrf(clinician_client), "key": PAIN_RULE, "name": "Pain -60%",
            "target": "nrs_pain:score", "mode": "all", "kind1": "percent_improvement",
            "value1": "60", "kind2": "", "start_hours": "0", "end_hours": "168",
            "evaluation": "any", "baseline_method": "mean", "span_hours": "168",
            "anchor": "each_session"}
    r = clinician_client.post("/clinic/rules/edit", data={**form, "action": "preview"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Preview (not saved): pain -60% within 7 days" in html
    assert "<strong>0%</strong>" in html  # 8 -> 4 is a 50% drop: not a responder at 60%
    rules = clinician_client.get("/api/v1/rules").get_json()
    assert [r["version"] for r in rules if r["key"] == PAIN_RULE] == [1]
    r = clinician_client.post("/clinic/rules/edit", data={**form, "action": "save"})
    assert r.status_code == 303
    rules = clinician_client.get("/api/v1/rules").get_json()
    assert [r["version"] for r in rules if r["key"] == PAIN_RULE] == [2]
    bad = clinician_client.post("/clinic/rules/edit", data={**form, "value1": "150",
                                                            "action": "preview"})
    assert bad.status_code == 422 and "impossible" in bad.get_data(as_text=True)


def test_the_rules_page_lists_rules_in_words(clinician_client):
    html = page(clinician_client, "/clinic/rules")
    assert "PHQ-9 -50% within 14 days" in html


def test_the_fhir_bundle_is_audited(app, clinician_client, seeded):
    assert clinician_client.get(f"/fhir/Patient/{seeded['id']}/$everything").status_code == 200
    from backend.audit.models import AuditEvent
    from backend.extensions import db

    with app.app_context():
        event_row = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "fhir.patient_everything"))
    assert event_row.patient_id == seeded["id"] and event_row.actor_kind == "user"


def test_the_fhir_bundle_is_valid_r4_and_codes_scores(clinician_client, seeded):
    from fhir.resources.R4B.bundle import Bundle

    r = clinician_client.get(f"/fhir/Patient/{seeded['id']}/$everything")
    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    bundle = Bundle.model_validate_json(r.data)
    kinds = [type(e.resource).__name__ for e in bundle.entry]
    assert kinds.count("QuestionnaireResponse") == 4
    assert kinds.count("MedicationAdministration") == 1
    patient = bundle.entry[0].resource
    assert patient.identifier[0].value == "PG-001" and not patient.name
    observations = [e.resource for e in bundle.entry if type(e.resource).__name__ == "Observation"]
    phq = [o for o in observations if o.code.coding[0].code == "44261-6"][0]
    assert phq.valueQuantity.value == 9 and phq.valueQuantity.code == "{score}"
    assert phq.category[0].coding[0].code == "survey"
    assert phq.derivedFrom[0].reference.startswith("QuestionnaireResponse/qr-")
    pain = [o for o in observations if o.code.coding[0].code == "72514-3"]
    assert sorted(o.valueQuantity.value for o in pain) == [4, 8]


def test_the_fhir_bundle_is_clinic_scoped(seeded, make_clinic, make_user, make_client):
    other = make_client()
    login(other, make_user(make_clinic()))
    assert other.get(f"/fhir/Patient/{seeded['id']}/$everything").status_code == 404
    assert make_client().get(f"/fhir/Patient/{seeded['id']}/$everything").status_code == 401


def count_queries(app, fn) -> int:
    from backend.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine

    def before(*args, **kwargs):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_page_queries_do_not_grow_with_doses_or_patients(app, clinician_client, seeded,
                                                         make_patient):
    pid = seeded["id"]
    url = f"/clinic/patients/{pid}"
    before = count_queries(app, lambda: page(clinician_client, url))
    listing = count_queries(app, lambda: page(clinician_client, "/clinic/patients"))
    for k in range(8):
        dose(clinician_client, pid, NOW - timedelta(days=30 + k))
        make_patient(clinician_client)
    assert count_queries(app, lambda: page(clinician_client, url)) == before
    assert count_queries(app, lambda: page(clinician_client, "/clinic/patients")) == listing
    assert before <= 25 and listing <= 20


def test_answers_outside_their_schedule_window_are_drawn_apart(clinician_client, seeded):
    pid, tid = seeded["id"], seeded["treatment"]["id"]
    given = datetime.fromisoformat(seeded["treatment"]["given_at"])
    r = clinician_client.post(f"/api/v1/patients/{pid}/assessments", json={
        "client_uuid": str(uuid.uuid4()), "instrument_id": "nrs_pain",
        "answers": {"nrs_pain_1": 5}, "slot_key": f"d{tid}.h24",
        "completed_at": (given + timedelta(hours=40)).isoformat()})
    assert r.status_code == 201 and r.get_json()["in_window"] is False
    html = page(clinician_client, f"/clinic/patients/{pid}")
    assert html.count('class="chart-point out"') == 1
    assert "outside its time window" in html and "1 answer outside the schedule window" in html


def test_answers_are_paged_newest_first_as_the_api_lists_them(clinician_client, seeded,
                                                               monkeypatch):
    from backend.clinic import patient as patient_page

    monkeypatch.setattr(patient_page, "ANSWERS_PER_PAGE", 2)
    pid = seeded["id"]
    first = backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 6},
                     NOW - timedelta(hours=5))
    backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 7}, NOW - timedelta(hours=5))
    r = clinician_client.post(f"/api/v1/patients/{pid}/assessments", json={
        "client_uuid": str(uuid.uuid4()), "instrument_id": "nrs_pain",
        "answers": {"nrs_pain_1": 3}, "supersedes_id": first["id"],
        "completed_at": (NOW - timedelta(hours=4)).isoformat()})
    assert r.status_code == 201, r.get_json()
    api = [a["id"] for a in clinician_client.get(f"/api/v1/patients/{pid}/assessments")
           .get_json()]
    assert first["id"] not in api and len(api) == 6
    seen, number = [], 1
    while True:
        url = f"/clinic/patients/{pid}" + (f"?answers_page={number}" if number > 1 else "")
        html = page(clinician_client, url)
        answers = html[html.index('id="answers"'):]
        ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', answers)]
        assert len(ids) == 2
        seen += ids
        assert f"Answers {number * 2 - 1} to {number * 2}, newest first" in answers
        assert ('rel="prev"' in answers) == (number > 1)
        if 'rel="next"' not in answers:
            break
        assert f"answers_page={number + 1}#answers" in answers
        number += 1
    assert seen == api and number == 3
    past = page(clinician_client, f"/clinic/patients/{pid}?answers_page=9")
    assert "No answers on this page." in past and 'rel="prev"' in past


@pytest.fixture
def cohort(clinician_client, make_patient, seeded):
    """Six other patients dosed 20 days ago with pain before (week -1) and after (week 0)."""
    given = NOW - timedelta(days=20)
    for i in range(6):
        other, _ = make_patient(clinician_client, code=f"CO-{i}")
        dose(clinician_client, other["id"], given)
        backfill(clinician_client, other["id"], "nrs_pain", {"nrs_pain_1": 8},
                 given - timedelta(days=2))
        backfill(clinician_client, other["id"], "nrs_pain", {"nrs_pain_1": 2 + i},
                 given + timedelta(days=3))
        if i == 0:  # two answers in a week count as their mean: (2 + 6) / 2
            backfill(clinician_client, other["id"], "nrs_pain", {"nrs_pain_1": 6},
                     given + timedelta(days=4))
        backfill(clinician_client, other["id"], "nrs_pain", {"nrs_pain_1": 1},
                 given + timedelta(days=10))
    return seeded


def test_the_cohort_band_on_the_chart_is_the_apis(clinician_client, cohort):
    from backend.clinic import trends

    pid = cohort["id"]
    api = clinician_client.get(f"/api/v1/patients/{pid}/cohort-band",
                               query_string={"instrument_id": "nrs_pain"}).get_json()
    first = datetime.fromisoformat(api["first_dose_at"])
    assert first == datetime.fromisoformat(cohort["treatment"]["given_at"])
    weeks = {w["week"]: w for w in api["weeks"]}
    # This patient's first dose was 3 days ago: the others' week -1 and week 0 are in range;
    # week 1 (their answers at day 10) lies after today on this patient's time line.
    assert sorted(weeks) == [-1, 0]
    assert (weeks[-1]["n"], weeks[-1]["median"], weeks[-1]["q1"]) == (6, 8, 8)
    assert (weeks[0]["n"], weeks[0]["q1"], weeks[0]["median"], weeks[0]["q3"]) == (
        6, 4, 4.5, 5.75)
    assert datetime.fromisoformat(weeks[0]["start"]) == first
    html = page(clinician_client, f"/clinic/patients/{pid}")
    pain = html[html.index('id="d-nrs_pain"'):html.index('id="d-phq9"')]
    for w in api["weeks"]:
        week = trends.BandWeek(w["week"], w["n"], w["q1"], w["median"], w["q3"])
        assert f"<title>{trends.band_text(week, first)}</title>" in pain
    assert "median 4.5, middle half 4 to 5.8 (6 patients)" in pain
    assert "their median was 4.5, middle half 4 to 5.8" in pain
    assert 'class="key-band"' in pain
    # Fewer than five others answered PHQ-9: no band there, and the page says so.
    phq9 = html[html.index('id="d-phq9"'):]
    assert 'class="chart-band"' not in phq9 and "No band of other patients" in phq9


def test_the_band_is_bounded_and_leaves_out_the_patient_and_the_undosed(
        app, clinician_client, cohort, monkeypatch):
    from backend.clinic import reference

    pid = cohort["id"]
    monkeypatch.setattr(reference, "BAND_PATIENTS", 5)
    api = clinician_client.get(f"/api/v1/patients/{pid}/cohort-band",
                               query_string={"instrument_id": "nrs_pain"}).get_json()
    assert [w["n"] for w in api["weeks"]] == [5, 5] and api["patients_at_most"] == 5
    undosed = clinician_client.get(f"/api/v1/patients/{cohort['other']}/cohort-band",
                                   query_string={"instrument_id": "nrs_pain"}).get_json()
    assert undosed["first_dose_at"] is None and undosed["weeks"] == []
    html = page(clinician_client, f"/clinic/patients/{cohort['other']}")
    assert "Once a first dose is recorded" in html
    missing = clinician_client.get(f"/api/v1/patients/{pid}/cohort-band",
                                   query_string={"instrument_id": "nope"})
    assert missing.status_code == 404


def test_the_items_that_changed_most_are_the_apis(clinician_client, seeded):
    pid = seeded["id"]
    given = datetime.fromisoformat(seeded["treatment"]["given_at"])
    later = {f"phq9_{i}": 1 for i in range(1, 10)} | {"phq9_1": 3, "phq9_2": 0, "phq9_9": 0}
    latest = backfill(clinician_client, pid, "phq9", later, given + timedelta(hours=30))
    api = clinician_client.get(f"/api/v1/patients/{pid}/item-changes").get_json()
    phq9 = next(c for c in api if c["instrument_id"] == "phq9")
    assert phq9["latest"]["assessment_id"] == latest["id"]
    assert phq9["baseline"]["before_first_dose"] is True
    moved = [(i["item_id"], i["before"], i["after"], i["better"]) for i in phq9["items"]
             if i["change"]]
    assert moved == [("phq9_1", 1, 3, False), ("phq9_2", 1, 0, True), ("phq9_9", 1, 0, True)]
    assert clinician_client.get(f"/api/v1/patients/{pid}/item-changes",
                                query_string={"instrument_id": "phq9"}).get_json() == [phq9]
    html = page(clinician_client, f"/clinic/patients/{pid}")
    section = html[html.index('id="items-phq9"'):]
    section = section[:section.index("</ol>")]
    assert re.findall(r'data-item="(\w+)"', section) == ["phq9_1", "phq9_2", "phq9_9"]
    assert "1 (Several days) → 3 (Nearly every day) (2 higher, worse)" in section
    assert "(before the first dose)" in section
    # Pain is one item: its change is the chart's, so no list for it.
    assert 'id="items-nrs_pain"' not in html


def test_a_score_without_a_rule_is_read_only_as_far_as_its_chart_but_counted_whole(
        clinician_client, seeded):
    pid = seeded["id"]
    for days, value in ((400, 2), (200, 3), (10, 7)):
        backfill(clinician_client, pid, "nrs_sleep", {"nrs_sleep_1": value},
                 NOW - timedelta(days=days))
    html = page(clinician_client, f"/clinic/patients/{pid}")
    sleep = html[html.index('id="d-nrs_sleep"'):]
    sleep = sleep[:sleep.index("</section>")]
    assert "3 answers, latest 7 on" in sleep and "No rule for this instrument" in sleep
    assert len(POINT.findall(sleep)) == 1
    everything = page(clinician_client, f"/clinic/patients/{pid}?range=all")
    sleep = everything[everything.index('id="d-nrs_sleep"'):]
    assert len(POINT.findall(sleep[:sleep.index("</section>")])) == 3
    # Nothing in the last 90 days: the latest answer is still said, the chart is empty.
    api = clinician_client.get(f"/api/v1/patients/{pid}/assessments",
                               query_string={"instrument_id": "nrs_sleep"}).get_json()
    latest = api[0]
    r = clinician_client.post(f"/api/v1/patients/{pid}/assessments", json={
        "client_uuid": str(uuid.uuid4()), "instrument_id": "nrs_sleep",
        "answers": {"nrs_sleep_1": 4}, "supersedes_id": latest["id"],
        "completed_at": (NOW - timedelta(days=100)).isoformat()})
    assert r.status_code == 201, r.get_json()
    html = page(clinician_client, f"/clinic/patients/{pid}")
    sleep = html[html.index('id="d-nrs_sleep"'):]
    sleep = sleep[:sleep.index("</section>")]
    assert "3 answers, latest 4 on" in sleep and not POINT.findall(sleep)


VERDICT_ROW = re.compile(r'<td>([^<]*)</td><td><span class="verdict ([a-z_]+)">')


def pain_section(html: str) -> str:
    section = html[html.index('id="d-nrs_pain"'):]
    return section[:section.index("</section>")]


def test_the_latest_verdicts_of_a_long_history_are_the_apis(clinician_client, make_patient,
                                                             enroll):
    """The page reads a rule's series only as far back as its latest verdicts need."""
    patient, invite = make_patient(clinician_client, code="PG-LONG")
    enroll(invite)
    pid = patient["id"]
    for k in range(13):  # 13 doses a week apart, pain the day before and the day after each
        given = NOW - timedelta(days=7 * (13 - k))
        dose(clinician_client, pid, given)
        backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 8 - k % 3},
                 given - timedelta(hours=20))
        backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 3 + k % 5},
                 given + timedelta(hours=24))
    api = clinician_client.get(f"/api/v1/patients/{pid}/outcomes",
                               query_string={"rule": PAIN_RULE}).get_json()["verdicts"]
    assert len(api) == 13
    expected = [("—" if v["baseline"] is None else f"{v['baseline']:.1f}", v["verdict"])
                for v in reversed(api)]
    html = page(clinician_client, f"/clinic/patients/{pid}")
    assert VERDICT_ROW.findall(pain_section(html)) == expected[:10]
    assert "Show all 13 doses" in html
    everything = page(clinician_client, f"/clinic/patients/{pid}?doses=all")
    assert VERDICT_ROW.findall(pain_section(everything)) == expected
    assert f"Baseline: {api[-1]['baseline']:g}" in pain_section(html)


def test_the_baseline_line_comes_from_an_older_verdict_when_the_latest_have_none(
        clinician_client, make_patient, enroll):
    patient, invite = make_patient(clinician_client, code="PG-GAP")
    enroll(invite)
    pid = patient["id"]
    for k in range(12):  # pain answered around the first dose only
        given = NOW - timedelta(days=7 * (12 - k))
        dose(clinician_client, pid, given)
        if k == 0:
            backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 7},
                     given - timedelta(hours=20))
            backfill(clinician_client, pid, "nrs_pain", {"nrs_pain_1": 4},
                     given + timedelta(hours=24))
    api = clinician_client.get(f"/api/v1/patients/{pid}/outcomes",
                               query_string={"rule": PAIN_RULE}).get_json()["verdicts"]
    assert [v["baseline"] for v in api[-10:]] == [None] * 10
    older = next(v["baseline"] for v in reversed(api) if v["baseline"] is not None)
    for url in (f"/clinic/patients/{pid}", f"/clinic/patients/{pid}?range=all"):
        section = pain_section(page(clinician_client, url))
        assert f"Baseline: {older:g}" in section and 'class="chart-threshold"' in section
        assert "2 answers" in section
