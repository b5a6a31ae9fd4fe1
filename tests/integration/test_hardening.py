"""Security headers, production transport settings, size limits, password policy, no-store."""

from __future__ import annotations

import pytest

from ..conftest import PASSWORD, base_config, login, submission
from .test_isolation import ROUTES, client_for, fill, world  # noqa: F401 (fixture)

PAGES = ["/login", "/app", "/join", "/api/docs", "/api/v1/instruments", "/api/openapi.json",
         "/api/v1/no-such-thing"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # not outside production


@pytest.fixture
def production_app(app_config):
    from backend import create_app
    from backend.extensions import db

    app = create_app({**app_config, "EBB_ENV": "production"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_sends_hsts_and_marks_the_session_cookie_secure(production_app, make_clinic,
                                                                   make_user):
    user = make_user(make_clinic())
    client = production_app.test_client()
    page = client.get("/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(page.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 31536000
    response = client.post("/api/v1/auth/login",
                           json={"email": user["email"], "password": user["password"]})
    assert response.status_code == 200
    cookie = next(v for v in response.headers.getlist("Set-Cookie")
                  if v.startswith("ebb_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags


def test_development_cookies_work_over_plain_http(client, clinician):
    response = login(client, clinician)
    cookie = next(v for v in response.headers.getlist("Set-Cookie")
                  if v.startswith("ebb_session="))
    assert "secure" not in cookie.lower()
    assert "httponly" in cookie.lower()


def test_the_production_setting_comes_from_the_environment(monkeypatch, database_url, tmp_path):
    from backend.config import load_settings

    monkeypatch.setenv("EBB_ENV", "production")
    settings = load_settings(str(tmp_path), base_config(database_url, tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_a_submission_over_the_size_limit_is_refused_with_413_and_stores_nothing(
        app, clinician_client, make_patient, enroll):
    _, invite = make_patient(clinician_client)
    phone = enroll(invite)
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = submission("nrs_pain", {"nrs_pain_1": 3}, note="x" * (limit + 10))
    response = phone.post("/api/v1/assessments", json=body)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert phone.get("/api/v1/assessments").get_json() == []


def test_password_policy_holds_for_new_accounts_and_for_changes(make_client, make_clinic,
                                                                make_user):
    clinic = make_clinic()
    admin = make_user(clinic, role="admin")
    staff = make_client()
    login(staff, admin)
    for weak, why in (("short1", "at least 8"), ("password123", "common"),
                      ("P@ssw0rd", "common"), ("x" * 257, "256")):
        created = staff.post("/api/v1/users", json={"email": "new@c.test", "password": weak})
        assert created.status_code == 422, weak
        assert why in created.get_json()["errors"][0]["reason"]
        changed = staff.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                            "new_password": weak})
        assert changed.status_code == 422, weak
    wrong_current = staff.post("/api/v1/auth/password", json={
        "current_password": "not my password", "new_password": "a fresh long passphrase"})
    assert wrong_current.status_code in (401, 422)
    ok = staff.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                   "new_password": "a fresh long passphrase"})
    assert ok.status_code == 204
    old = make_client().post("/api/v1/auth/login",
                             json={"email": admin["email"], "password": PASSWORD})
    assert old.status_code == 401
    login(make_client(), {**admin, "password": "a fresh long passphrase"})


def test_every_answer_that_can_carry_patient_data_is_no_store(app, world, make_client):  # noqa: F811
    """Walk every non-static GET route as a clinician and as a patient: all say no-store."""
    cached = []
    for role in ("clinician_1", "patient_a"):
        client = client_for(role, world, make_client)
        for (rule, method), (_access, body) in ROUTES.items():
            if method != "GET" or rule.startswith("/static/") or "/assets/" in rule:
                continue
            response = client.get(fill(rule, world["params"]),
                                  query_string=body if isinstance(body, dict) else None)
            if response.headers.get("Cache-Control") != "no-store":
                cached.append(f"{role} GET {rule} -> {response.status_code} "
                              f"{response.headers.get('Cache-Control')}")
    assert not cached, cached
