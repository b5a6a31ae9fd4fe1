"""One error contract: problem+json for the API, HTML for pages, nothing stored on a 4xx."""

from __future__ import annotations

import io
import json

import pytest

from ..conftest import login, now_iso, submission


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def test_an_unknown_api_path_is_a_problem_404(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_a_wrong_method_is_a_problem_405_with_allow(client):
    response = client.delete("/api/v1/instruments")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_body_that_is_not_json_is_a_problem_415(client):
    assert_problem(client.post("/api/v1/auth/login", data="email=x",
                               content_type="application/x-www-form-urlencoded"), 415)


def test_a_body_over_the_limit_is_a_problem_413(client):
    big = "x" * (300 * 1024)
    assert_problem(client.post("/api/v1/auth/login", data=big,
                               content_type="application/json"), 413)


@pytest.mark.parametrize("size, status", [(300 * 1024, 413), (1024, 422)])
def test_a_body_sent_in_chunks_has_the_same_limit(client, size, status):
    # No Content-Length: gunicorn passes the chunks on, and the limit applies as they arrive.
    body = b'{"email": "' + b"x" * size + b'"}'
    response = client.post("/api/v1/auth/login", headers={
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True,
                           "CONTENT_LENGTH": ""})
    assert_problem(response, status)  # under the limit: read whole, then judged (422)


def test_validation_errors_name_each_field_and_its_reason(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={"email": "not-an-email"}), 422)
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert set(fields) == {"email", "password"}
    assert "email" in fields["email"].lower()


def test_an_unexpected_error_is_a_problem_500_without_internals(app, client):
    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/_boom", "boom", boom)
    response = client.get("/api/v1/_boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["title"] == "Internal Server Error"


def test_pages_outside_the_api_get_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("answers, field", [
    ({"nrs_pain_1": 11}, "answers.nrs_pain_1"),
    ({"nrs_pain_1": "7"}, "answers.nrs_pain_1"),
    ({"nrs_pain_1": 3, "bogus": 1}, "answers.bogus"),
    ({}, "answers.nrs_pain_1"),
])
def test_bad_answers_get_422_naming_the_item_and_store_nothing(app, clinician_client,
                                                                make_patient, enroll, answers,
                                                                field):
    from backend.assessments.models import Assessment
    from backend.extensions import db

    _, invite = make_patient(clinician_client)
    phone = enroll(invite)
    body = assert_problem(phone.post("/api/v1/assessments",
                                     json=submission("nrs_pain", answers)), 422)
    assert field in [e["field"] for e in body["errors"]]
    with app.app_context():
        assert db.session.query(Assessment).count() == 0


def test_text_no_database_can_hold_is_refused_naming_the_field_and_stores_nothing(
        app, clinician_client, make_patient, enroll):
    # PostgreSQL can neither store nor compare a NUL (it was a 500 there; SQLite stored it):
    # refused everywhere before a view reads it, in a query, a JSON body, a form or a path.
    from backend.assessments.models import Assessment
    from backend.extensions import db
    from backend.patients.models import Patient
    from backend.treatments.models import Treatment

    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    pid = patient["id"]
    cases = [
        (clinician_client.get("/api/v1/cohort/outcomes", query_string={"rule": "pain\x00"}),
         "rule"),
        (clinician_client.post("/api/v1/patients", json={"code": "KET-\x00"}), "code"),
        (phone.post("/api/v1/assessments",
                    json=submission("nrs_pain", {"nrs_pain_1\x00": 3})), "answers.nrs_pain_1\x00"),
        (clinician_client.post(f"/api/v1/patients/{pid}/treatments", json={
            "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "given_at": now_iso(),
            "notes": "calm\x00"}), "notes"),
    ]
    for response, field in cases:
        body = assert_problem(response, 422)
        assert body["errors"] == [{"field": field, "reason": "contains a NUL character"}]
    # Half of a UTF-16 pair, which JSON can spell but UTF-8 (so neither database) cannot hold.
    lone = clinician_client.post(
        f"/api/v1/patients/{pid}/treatments", content_type="application/json",
        data=b'{"drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "given_at": "'
             + now_iso().encode() + b'", "notes": "calm \\uD83D"}')
    assert assert_problem(lone, 422)["errors"] == [
        {"field": "notes", "reason": "contains a lone surrogate (not a Unicode character)"}]
    with clinician_client.session_transaction() as sess:
        token = sess["csrf"]
    page = clinician_client.post(f"/clinic/patients/{pid}/treatments", data={
        "csrf_token": token, "drug": "ketamine", "dose": "0.5", "dose_unit": "mg/kg",
        "route": "IV", "given_at": "2026-01-05T09:30", "notes": "calm\x00"})
    assert page.status_code == 422 and page.mimetype == "text/html"
    assert_problem(clinician_client.get("/api/v1/instruments/nrs\x00pain"), 404)
    with app.app_context():
        assert db.session.query(Patient).count() == 1
        assert db.session.query(Assessment).count() == 0
        assert db.session.query(Treatment).count() == 0

    # The text "\u0000" (an escaped backslash, then u0000) is not a NUL, and a whole pair
    # spelled as escapes is one character (an emoji): both are kept as sent.
    r = clinician_client.post(
        f"/api/v1/patients/{pid}/treatments", content_type="application/json",
        data=b'{"drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "given_at": "'
             + now_iso().encode() + b'", "notes": "path C:\\\\u0000 \\ud83d\\ude00"}')
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["notes"] == "path C:\\u0000 \U0001F600"


#: Year 1 an hour ahead of UTC is in year 0 in UTC, and year 9999 behind it in year 10000:
#: neither can be turned into UTC (both were a 500). 1850 can, but is no dose or answer time.
FAR = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-05:00", "1850-01-01T00:00:00+00:00"]


@pytest.mark.parametrize("at", FAR)
def test_a_time_outside_the_years_1900_to_2200_is_refused_naming_the_field(
        app, clinician_client, make_patient, enroll, at):
    from backend.assessments.models import Assessment
    from backend.extensions import db
    from backend.treatments.models import Treatment

    patient, invite = make_patient(clinician_client)
    phone = enroll(invite)
    pid = patient["id"]
    reason = "must be between the years 1900 and 2200"
    for response, field in (
        (clinician_client.post(f"/api/v1/patients/{pid}/treatments", json={
            "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg", "given_at": at}),
         "given_at"),
        (phone.post("/api/v1/assessments",
                    json=submission("nrs_pain", {"nrs_pain_1": 3}, completed_at=at)),
         "completed_at"),
        (clinician_client.get(f"/api/v1/patients/{pid}/cohort-band",
                              query_string={"instrument_id": "nrs_pain", "from": at}),
         "query.from"),
    ):
        body = assert_problem(response, 422)
        assert {"field": field, "reason": reason} in body["errors"], body
    with app.app_context():
        assert db.session.query(Treatment).count() == 0
        assert db.session.query(Assessment).count() == 0


def test_a_dose_form_time_that_cannot_be_turned_into_utc_is_shown_again(
        clinician_client, make_patient):
    # 00:00 on 1 January of year 1 in Berlin is still year 0 in UTC.
    patient, _ = make_patient(clinician_client, timezone="Europe/Berlin")
    with clinician_client.session_transaction() as sess:
        token = sess["csrf"]
    page = clinician_client.post(f"/clinic/patients/{patient['id']}/treatments", data={
        "csrf_token": token, "drug": "ketamine", "dose": "0.5", "dose_unit": "mg/kg",
        "route": "IV", "given_at": "0001-01-01T00:00"})
    assert page.status_code == 422
    assert "must be between the years 1900 and 2200" in page.get_data(as_text=True)


def test_a_rule_preview_with_a_window_of_a_thousand_years_is_shown_again(clinician_client):
    with clinician_client.session_transaction() as sess:
        token = sess["csrf"]
    page = clinician_client.post("/clinic/rules/edit", data={
        "csrf_token": token, "action": "preview", "name": "Far", "target": "nrs_pain:score",
        "mode": "all", "kind1": "percent_improvement", "value1": "30", "start_hours": "0",
        "end_hours": "1e300", "evaluation": "any", "baseline_method": "last",
        "span_hours": "168", "anchor": "each_session"})
    assert page.status_code == 422
    assert "must be at most 87660" in page.get_data(as_text=True)


def test_a_request_body_is_documented_as_required_exactly_when_it_must_be_sent(client):
    # A body whose fields are all optional may be left out (it means {}); the document must
    # not call it required, or a client following it is told a body-less call is refused.
    spec = client.get("/api/openapi.json").get_json()
    components = spec["components"]["schemas"]
    seen = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody") if method != "parameters" else None
            if body is None:
                continue
            seen += 1
            ref = body["content"]["application/json"]["schema"]["$ref"]
            schema = components[ref.rsplit("/", 1)[1]]
            assert body.get("required", False) == bool(schema.get("required")), \
                f"{method.upper()} {path}"
    assert seen >= 15


def test_a_body_with_only_optional_fields_may_be_left_out(clinician_client):
    response = clinician_client.post("/api/v1/patients")  # no body: a patient with a random code
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["patient"]["code"]


def test_a_body_that_must_be_sent_is_a_422_naming_its_fields_when_left_out(clinician_client):
    body = assert_problem(clinician_client.post("/api/v1/rules"), 422)
    assert {"name", "instrument", "score", "criteria", "window"} <= \
        {e["field"] for e in body["errors"]}


@pytest.fixture
def admin_and_colleague(make_client, make_clinic, make_user):
    """A signed-in clinic admin's client and a clinician of the same clinic."""
    clinic = make_clinic()
    staff = make_client()
    login(staff, make_user(clinic, role="admin"))
    return staff, make_user(clinic)


@pytest.mark.parametrize("value", [0, 1, "false", "true", "no", "yes", "on", None])
def test_a_boolean_in_a_body_is_true_or_false_and_nothing_else(admin_and_colleague, value):
    # marshmallow's Boolean reads 0, "no", "on"... as booleans; the API documents a boolean.
    staff, colleague = admin_and_colleague
    body = assert_problem(staff.patch(f"/api/v1/users/{colleague['id']}",
                                      json={"active": value}), 422)
    assert [e["field"] for e in body["errors"]] == ["active"]
    users = {u["id"]: u for u in staff.get("/api/v1/users").get_json()}
    assert users[colleague["id"]]["active"] is True
    rule = {"name": "r", "instrument": "nrs_pain", "score": "score",
            "criteria": {"all": [{"kind": "percent_improvement", "value": 30}]},
            "window": {"start_hours": 0, "end_hours": 72, "evaluation": "any"},
            "require_in_window": value}
    body = assert_problem(staff.post("/api/v1/rules", json=rule), 422)
    assert "require_in_window" in {e["field"] for e in body["errors"]}


def test_a_json_boolean_is_taken(admin_and_colleague):
    staff, colleague = admin_and_colleague
    response = staff.patch(f"/api/v1/users/{colleague['id']}", json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False


def test_a_nullable_nested_object_is_documented_as_that_object_or_null(clinician_client):
    # apispec's null branch was {"type": "object", "nullable": true}: any object at all, so
    # {"routine": {}} read as valid although the schedule refuses it.
    spec = clinician_client.get("/api/openapi.json").get_json()
    routine = spec["components"]["schemas"]["Definition"]["properties"]["routine"]
    assert {"$ref": "#/components/schemas/Routine"} in routine["anyOf"]
    assert {"type": "object", "nullable": True, "enum": [None]} in routine["anyOf"]
    assert '{"type": "object", "nullable": true}' not in json.dumps(spec)
    current = clinician_client.get("/api/v1/schedule").get_json()["definition"]
    body = assert_problem(clinician_client.put("/api/v1/schedule", json={
        "definition": {**current, "routine": {}}}), 422)
    assert {e["field"] for e in body["errors"]} >= {"definition.routine.every_days"}


@pytest.mark.parametrize("path", ["/api/v1/assessments",
                                  "/api/v1/instruments/{instrument_id}/score"])
def test_answers_are_documented_as_at_most_200_numbers_and_held_to_it(client, path):
    spec = client.get("/api/openapi.json").get_json()
    body_ref = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    name = body_ref["schema"]["$ref"].rsplit("/", 1)[1]
    answers = spec["components"]["schemas"][name]["properties"]["answers"]
    assert answers == {"type": "object", "maxProperties": 200,
                       "additionalProperties": {"type": "number"}}
    if path.endswith("/score"):  # open to anyone: the checks themselves
        path = path.replace("{instrument_id}", "phq9")
        too_many = {f"item{i}": 1 for i in range(201)}
        body = assert_problem(client.post(path, json={"answers": too_many}), 422)
        assert [e["field"] for e in body["errors"]] == ["answers"]
        body = assert_problem(client.post(path, json={"answers": {"phq9_1": "2"}}), 422)
        assert {"field": "answers.phq9_1", "reason": "must be a number, not text"} in \
            body["errors"]


@pytest.mark.parametrize("password", ["", "short"])
def test_a_new_password_is_documented_and_refused_below_8_characters(admin_and_colleague,
                                                                     password):
    staff, _ = admin_and_colleague
    spec = staff.get("/api/openapi.json").get_json()["components"]["schemas"]
    assert spec["NewUser"]["properties"]["password"]["minLength"] == 8
    assert spec["PasswordChange"]["properties"]["new_password"]["minLength"] == 8
    body = assert_problem(staff.post("/api/v1/users", json={
        "email": "new@clinic.test", "password": password}), 422)
    assert body["errors"] == [{"field": "password", "reason": "must be at least 8 characters"}]
