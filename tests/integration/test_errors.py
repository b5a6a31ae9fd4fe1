"""One error contract: problem+json for the API, HTML for pages, nothing stored on a 4xx."""

from __future__ import annotations

import pytest

from ..conftest import submission


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
