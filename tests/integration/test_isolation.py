"""Every route, walked as every kind of caller: nobody reads or writes what is not theirs.

The table below lists every rule in ``app.url_map``. A route missing from it fails the test,
so no new route can escape this check.
"""

from __future__ import annotations

import uuid

import pytest

from backend.schedules.service import DEFAULT_DEFINITION

from ..conftest import PASSWORD, login, submission

RULE = "phq9-phq-9-response"  # a preset every clinic has
ROLES = ("anonymous", "patient_a", "patient_b", "clinician_1", "clinician_2", "admin_1")

#: access classes:
#:  public      - anyone; never 403, never a 5xx (a wrong password may be 401)
#:  session     - anyone signed in (clinician or patient); anonymous gets 401
#:  clinician   - clinic staff; anonymous 401, patients 403; clinic data stays in its clinic
#:  patient_of  - clinic staff, about the clinic's patient in the URL: other clinic gets 404
#:  admin       - clinic admins only
#:  patient     - a signed-in patient, about themself only
#:  page        - clinician HTML page: anyone else is sent to the sign-in page
#:  page_of     - clinician HTML page about the clinic's patient in the URL: other clinic 404
ROUTES: dict[tuple[str, str], tuple[str, object]] = {
    ("/", "GET"): ("public", None),
    ("/login", "GET"): ("public", None),
    ("/login", "POST"): ("public", "form"),
    ("/logout", "POST"): ("public", "form"),
    ("/clinic/patients", "GET"): ("page", None),
    ("/clinic/patients/new", "GET"): ("page", None),
    ("/clinic/patients/new", "POST"): ("page", "form"),
    ("/clinic/patients/<int:patient_id>", "GET"): ("page_of", None),
    ("/clinic/patients/<int:patient_id>/treatments", "POST"): ("page_of", "form"),
    ("/clinic/patients/<int:patient_id>/treatments/<int:treatment_id>", "POST"): (
        "page_of", "form"),
    ("/clinic/patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge", "POST"): (
        "page_of", "form"),
    ("/clinic/patients/<int:patient_id>/invites", "GET"): ("page_of", None),
    ("/clinic/patients/<int:patient_id>/invites", "POST"): ("page_of", "form"),
    ("/clinic/patients/<int:patient_id>/invites/<int:invite_id>/revoke", "POST"): (
        "page_of", "form"),
    ("/clinic/cohort", "GET"): ("page", None),
    ("/clinic/rules", "GET"): ("page", None),
    ("/clinic/rules/edit", "GET"): ("page", None),
    ("/clinic/rules/edit", "POST"): ("page", "form"),
    ("/fhir/Patient/<int:patient_id>/$everything", "GET"): ("patient_of", None),
    ("/api/docs", "GET"): ("public", None),
    ("/api/docs/assets/<path:filename>", "GET"): ("public", None),
    ("/static/<path:filename>", "GET"): ("public", None),
    ("/api/openapi.json", "GET"): ("public", None),
    ("/fhir/Questionnaire/<string:instrument_id>", "GET"): ("public", None),
    ("/api/v1/instruments", "GET"): ("public", None),
    ("/api/v1/instruments/<string:instrument_id>", "GET"): ("public", None),
    ("/api/v1/instruments/<string:instrument_id>/score", "POST"): (
        "public", {"answers": {"phq9_1": 1}}),
    ("/api/v1/auth/login", "POST"): ("public", {"email": "nobody@x.test", "password": "nope"}),
    ("/api/v1/enroll", "POST"): ("public", {"token": "not-a-real-token-at-all"}),
    ("/api/v1/auth/logout", "POST"): ("public", None),
    ("/api/v1/auth/session", "GET"): ("session", None),
    ("/api/v1/auth/unlock", "POST"): ("patient", {"pin": "1234"}),
    ("/api/v1/auth/totp", "POST"): ("clinician", None),
    ("/api/v1/auth/totp", "PUT"): ("clinician", {"code": "000000"}),
    ("/api/v1/auth/totp", "DELETE"): ("clinician", {"password": "wrong password"}),
    ("/api/v1/auth/password", "POST"): ("clinician", {"current_password": "wrong",
                                                      "new_password": "another long one"}),
    ("/api/v1/users", "GET"): ("admin", None),
    ("/api/v1/users", "POST"): ("admin", lambda w: {"email": f"{uuid.uuid4().hex[:8]}@c.test",
                                                    "password": PASSWORD}),
    ("/api/v1/users/<int:user_id>", "PATCH"): ("admin", {"active": True}),
    ("/api/v1/audit", "GET"): ("admin", None),
    ("/api/v1/patients", "GET"): ("clinician", None),
    ("/api/v1/patients", "POST"): ("clinician", {}),
    ("/api/v1/patients/<int:patient_id>", "GET"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>", "PATCH"): ("patient_of", {"timezone": "Europe/Oslo"}),
    ("/api/v1/patients/<int:patient_id>/invites", "GET"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>/invites", "POST"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>/invites/<int:invite_id>", "DELETE"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>/alerts", "GET"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge", "POST"): (
        "patient_of", {"note": "called the patient"}),
    ("/api/v1/patients/<int:patient_id>/treatments", "GET"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>/treatments", "POST"): ("patient_of", {
        "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg",
        "given_at": "2026-11-01T09:00:00+00:00"}),
    ("/api/v1/patients/<int:patient_id>/treatments/<int:treatment_id>", "PATCH"): (
        "patient_of", {"notes": "corrected"}),
    ("/api/v1/patients/<int:patient_id>/assessments", "GET"): ("patient_of", None),
    ("/api/v1/patients/<int:patient_id>/assessments", "POST"): (
        "patient_of", lambda w: submission("nrs_pain", {"nrs_pain_1": 4})),
    # Patient app (PWA): shells without patient data, the service worker and the manifest.
    ("/join", "GET"): ("public", None),
    ("/app", "GET"): ("public", None),
    ("/app/answer", "GET"): ("public", None),
    ("/app/progress", "GET"): ("public", None),
    ("/sw.js", "GET"): ("public", None),
    ("/manifest.webmanifest", "GET"): ("public", None),
    ("/api/v1/schedule", "GET"): ("clinician", None),
    ("/api/v1/schedule", "PUT"): ("clinician", lambda w: {"definition": DEFAULT_DEFINITION}),
    ("/api/v1/patients/<int:patient_id>/due", "GET"): ("patient_of", None),
    ("/api/v1/me", "GET"): ("patient", None),
    ("/api/v1/me/due", "GET"): ("patient", None),
    ("/api/v1/me/progress", "GET"): ("patient", None),
    ("/api/v1/assessments", "GET"): ("patient", None),
    ("/api/v1/rules", "GET"): ("clinician", None),
    ("/api/v1/rules", "POST"): ("clinician", {
        "name": "Pain down 40%", "instrument": "nrs_pain", "score": "score",
        "criteria": {"all": [{"kind": "percent_improvement", "value": 40}]},
        "window": {"start_hours": 0, "end_hours": 72}}),
    ("/api/v1/rules/<string:rule_ref>", "GET"): ("clinician", None),
    ("/api/v1/patients/<int:patient_id>/outcomes", "GET"): ("patient_of", {"rule": RULE}),
    ("/api/v1/patients/<int:patient_id>/cohort-band", "GET"): ("patient_of",
                                                               {"instrument_id": "phq9"}),
    ("/api/v1/patients/<int:patient_id>/item-changes", "GET"): ("patient_of", None),
    ("/api/v1/cohort/outcomes", "GET"): ("clinician", {"rule": RULE, "group_by": "arm"}),
    ("/api/v1/exports/endpoints.csv", "GET"): ("clinician", {"rule": RULE}),
    ("/api/v1/exports/answers.csv", "GET"): ("clinician", None),
    ("/api/v1/assessments", "POST"): (
        "patient", lambda w: submission("nrs_pain", {"nrs_pain_1": 5})),
}

CANARY = "CANARY-A1"


@pytest.fixture
def world(app, make_clinic, make_user, make_client, make_patient, enroll):
    """Clinic 1 with patient A (and their dose, answers, alert, invite); clinic 2 with B."""
    c1, c2 = make_clinic(), make_clinic()
    staff = {"clinician_1": make_user(c1), "admin_1": make_user(c1, role="admin"),
             "clinician_2": make_user(c2)}
    spare_user = make_user(c1)
    s1, s2 = make_client(), make_client()
    login(s1, staff["clinician_1"])
    login(s2, staff["clinician_2"])
    patient_a, invite_a = make_patient(s1, code=CANARY)
    _, invite_b = make_patient(s2, code="OTHER-B2")
    phone_a, phone_b = enroll(invite_a), enroll(invite_b)
    treatment = s1.post(f"/api/v1/patients/{patient_a['id']}/treatments", json={
        "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg",
        "given_at": "2026-11-01T09:00:00+00:00"}).get_json()
    phq9 = {f"phq9_{i}": 0 for i in range(1, 10)} | {"phq9_9": 1}
    assert phone_a.post("/api/v1/assessments",
                        json=submission("phq9", phq9)).status_code == 201
    alert = s1.get(f"/api/v1/patients/{patient_a['id']}/alerts").get_json()[0]
    invite = s1.post(f"/api/v1/patients/{patient_a['id']}/invites").get_json()
    params = {"patient_id": patient_a["id"], "treatment_id": treatment["id"],
              "alert_id": alert["id"], "invite_id": invite["id"], "user_id": spare_user["id"],
              "instrument_id": "phq9", "rule_ref": RULE}
    return {"staff": staff, "params": params, "phones": {"patient_a": phone_a,
                                                         "patient_b": phone_b}}


def client_for(role, world, make_client):
    if role in world["phones"]:
        return world["phones"][role]
    client = make_client()
    if role != "anonymous":
        login(client, world["staff"][role])
    return client


def fill(rule: str, params: dict) -> str:
    url = rule
    for name, value in params.items():
        for conv in ("int", "string"):
            url = url.replace(f"<{conv}:{name}>", str(value))
    url = url.replace("<path:filename>", "swagger-ui.css" if "docs" in rule else "css/app.css")
    assert "<" not in url, f"no value for a parameter of {rule}"
    return url


def expected(access: str, role: str) -> str:
    """'ok' (allowed), a status code, or 'redirect'."""
    staff = role in ("clinician_1", "clinician_2", "admin_1")
    patient = role.startswith("patient")
    if access == "public":
        return "ok"
    if access == "page":
        return "ok" if staff else "redirect"
    if access == "page_of":
        return "redirect" if not staff else "404" if role == "clinician_2" else "ok"
    if role == "anonymous":
        return "401"
    if access == "session":
        return "ok"
    if access == "patient":
        return "ok" if patient else "403"
    if patient:
        return "403"
    if access == "admin":
        return "ok" if role == "admin_1" else "403"
    if access == "patient_of" and role == "clinician_2":
        return "404"
    return "ok"


def test_every_route_is_listed_in_the_access_table(app):
    missing = []
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.rule, method) not in ROUTES:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"add these routes to the access table: {missing}"


def test_every_caller_gets_exactly_what_the_access_table_allows(app, world, make_client):
    failures = []
    for role in ROLES:
        client = client_for(role, world, make_client)
        # Logging out last, so the role keeps its session for the rest of the walk.
        order = sorted(ROUTES.items(), key=lambda kv: kv[0][0].endswith("logout"))
        for (rule, method), (access, body) in order:
            url = fill(rule, world["params"])
            if callable(body):
                body = body(world)
            if body == "form":
                with client.session_transaction() as sess:
                    token = sess.get("csrf", "")
                response = client.open(url, method=method, data={"csrf_token": token})
            elif method == "GET":
                response = client.open(url, method=method, query_string=body)
            else:
                response = client.open(url, method=method,
                                       json=body if body is not None else None)
            want = expected(access, role)
            got = response.status_code
            text = response.get_data(as_text=True)
            location = response.headers.get("Location", "")
            ok = {"ok": got < 400 or got in (409, 410, 422) if access != "public"
                  else got != 403 and got < 500,
                  "redirect": got in (302, 303) and "/login" in location,
                  }.get(want, str(got) == want)
            if role in ("clinician_2", "patient_b") and CANARY in text:
                ok = False
                want = "no clinic-1 data"
            if got >= 500:
                ok = False
            if not ok:
                failures.append(f"{role}: {method} {rule} -> {got} (want {want})")
    assert not failures, "\n".join(failures)
