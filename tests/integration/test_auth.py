"""Clinician sign-in: passwords, lock-out, rate limits, sessions, second factor, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from backend.dbtypes import utcnow

from ..conftest import PASSWORD, login


def session_cookie(client) -> str:
    return client.get_cookie("ebb_session").value


def test_a_clinician_signs_in_with_the_right_password(client, clinician):
    response = login(client, clinician)
    body = response.get_json()
    assert body["kind"] == "user" and body["user"]["email"] == clinician["email"]
    assert body["csrf_token"]
    assert client.get("/api/v1/auth/session").status_code == 200


def test_a_wrong_password_gets_401_as_problem_json(client, clinician):
    response = client.post("/api/v1/auth/login",
                           json={"email": clinician["email"], "password": "wrong password"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"]


def test_the_sixth_bad_password_in_a_row_gets_429_and_locks_even_the_right_one(client,
                                                                                clinician):
    statuses = [client.post("/api/v1/auth/login",
                            json={"email": clinician["email"], "password": f"bad {i}"}).status_code
                for i in range(6)]
    assert statuses == [401] * 5 + [429]
    locked = client.post("/api/v1/auth/login",
                         json={"email": clinician["email"], "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "locked" in locked.get_json()["detail"]


def test_login_is_rate_limited_per_address(app_config, clinician):
    from backend import create_app

    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    statuses = [client.post("/api/v1/auth/login",
                            json={"email": "x@y.test", "password": "nope"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    last = client.post("/api/v1/auth/login", json={"email": "x@y.test", "password": "nope"})
    assert last.mimetype == "application/problem+json"


def test_signing_in_issues_a_new_session_so_a_planted_cookie_is_useless(client, clinician):
    client.get("/login")  # an anonymous session exists first (what an attacker could plant)
    before = session_cookie(client)
    login(client, clinician)
    assert session_cookie(client) != before


def test_a_cookie_replayed_after_logout_gets_401(make_client, clinician):
    client = make_client()
    login(client, clinician)
    stolen = session_cookie(client)
    assert client.post("/api/v1/auth/logout").status_code == 204
    replay = make_client()
    replay.set_cookie("ebb_session", stolen)
    assert replay.get("/api/v1/auth/session").status_code == 401
    assert replay.get("/api/v1/patients").status_code == 401


@pytest.mark.parametrize("idle_minutes, status", [(31, 401), (29, 200)])
def test_a_clinician_session_ends_after_30_minutes_idle_and_not_before(app, client, clinician,
                                                                       idle_minutes, status):
    from backend.extensions import db
    from backend.users.models import AuthSession

    login(client, clinician)
    with app.app_context():
        db.session.execute(update(AuthSession).values(
            last_seen_at=utcnow() - timedelta(minutes=idle_minutes)))
        db.session.commit()
    assert client.get("/api/v1/patients").status_code == status


def test_disabling_a_user_ends_all_their_sessions(make_client, make_clinic, make_user):
    clinic = make_clinic()
    admin, user = make_user(clinic, role="admin"), make_user(clinic)
    phone, laptop, admin_client = make_client(), make_client(), make_client()
    login(phone, user)
    login(laptop, user)
    login(admin_client, admin)
    response = admin_client.patch(f"/api/v1/users/{user['id']}", json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert phone.get("/api/v1/patients").status_code == 401
    assert laptop.get("/api/v1/patients").status_code == 401
    again = make_client().post("/api/v1/auth/login",
                               json={"email": user["email"], "password": PASSWORD})
    assert again.status_code == 401


def test_an_admin_cannot_disable_their_own_account(make_client, make_clinic, make_user):
    clinic = make_clinic()
    admin = make_user(clinic, role="admin")
    client = make_client()
    login(client, admin)
    refused = client.patch(f"/api/v1/users/{admin['id']}", json={"active": False})
    assert refused.status_code == 409
    assert refused.get_json()["errors"] == [{"field": "active",
                                             "reason": "cannot disable your own account"}]
    assert client.get("/api/v1/auth/session").status_code == 200  # still signed in
    assert client.patch(f"/api/v1/users/{admin['id']}", json={"active": True}).status_code \
        == 200
    login(make_client(), admin)


def test_a_write_without_the_csrf_token_is_refused(app, clinician):
    from flask.testing import FlaskClient

    app.test_client_class = FlaskClient  # a plain client that does not send the token
    client = app.test_client()
    login(client, clinician)
    refused = client.post("/api/v1/patients", json={})
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "urn:ebb:problem:csrf"
    wrong = client.post("/api/v1/patients", json={}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    token = client.get("/api/v1/auth/session").get_json()["csrf_token"]
    assert client.post("/api/v1/patients", json={},
                       headers={"X-CSRF-Token": token}).status_code == 201


def test_a_cross_site_form_post_is_refused_as_unsupported_media_type(client, clinician):
    login(client, clinician)
    response = client.post("/api/v1/patients", data={"code": "X1"})
    assert response.status_code == 415


class TestSecondFactor:
    @pytest.fixture
    def totp(self, client, clinician):
        login(client, clinician)
        setup = client.post("/api/v1/auth/totp")
        assert setup.status_code == 201
        body = setup.get_json()
        assert body["otpauth_uri"].startswith("otpauth://totp/")
        assert body["qr_svg"].startswith("<svg")
        return pyotp.TOTP(body["secret"])

    def test_turning_it_on_needs_a_valid_code(self, client, totp):
        assert client.put("/api/v1/auth/totp", json={"code": "000000"}).status_code == 422
        response = client.put("/api/v1/auth/totp", json={"code": totp.now()})
        assert response.status_code == 200 and response.get_json()["totp_enabled"] is True

    def test_once_on_sign_in_needs_the_code_and_refuses_a_replayed_one(self, app, client,
                                                                       make_client, clinician,
                                                                       totp):
        from backend.extensions import db
        from backend.users.models import User

        assert client.put("/api/v1/auth/totp", json={"code": totp.now()}).status_code == 200
        creds = {"email": clinician["email"], "password": PASSWORD}
        missing = make_client().post("/api/v1/auth/login", json=creds)
        assert missing.status_code == 401
        assert missing.get_json()["type"] == "urn:ebb:problem:totp-required"
        with app.app_context():  # the enabling code was used; the next step's code is fresh
            user = db.session.scalar(select(User).where(User.email == clinician["email"]))
            step = user.totp_last_step + 1
        code = totp.generate_otp(step)
        with app.app_context():
            db.session.execute(update(User).values(totp_last_step=step - 1))
            db.session.commit()
        ok = make_client().post("/api/v1/auth/login", json={**creds, "totp_code": code})
        assert ok.status_code == 200
        replay = make_client().post("/api/v1/auth/login", json={**creds, "totp_code": code})
        assert replay.status_code == 401

    def test_turning_it_off_needs_the_password(self, client, totp):
        client.put("/api/v1/auth/totp", json={"code": totp.now()})
        assert client.delete("/api/v1/auth/totp", json={"password": "nope"}).status_code == 422
        response = client.delete("/api/v1/auth/totp", json={"password": PASSWORD})
        assert response.get_json()["totp_enabled"] is False


def test_the_web_sign_in_page_logs_in_with_the_form(client, clinician):
    page = client.get("/login")
    assert page.status_code == 200
    with client.session_transaction() as sess:
        token = sess["csrf"]
    response = client.post("/login", data={"email": clinician["email"], "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/clinic/patients")
    assert client.get("/clinic/patients").status_code == 200


def test_passwords_must_pass_the_policy(make_client, make_clinic, make_user):
    clinic = make_clinic()
    admin = make_user(clinic, role="admin")
    client = make_client()
    login(client, admin)
    for weak in ("short", "password1", "12345678"):
        response = client.post("/api/v1/users", json={"email": "n@c.test", "password": weak})
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "password"


class TestRememberedCookies:
    """Each worker remembers cookies it has verified (`VerifiedCookieSessions`); that must
    change nothing about which cookies are accepted."""

    def test_a_tampered_copy_of_a_remembered_cookie_is_refused(self, make_client, clinician):
        client = make_client()
        login(client, clinician)
        cookie = session_cookie(client)
        assert client.get("/api/v1/auth/session").status_code == 200  # verified, remembered
        payload, _, signature = cookie.rpartition(".")
        # The first character of the signature (the last may carry only padding bits).
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        for forged in (f"{payload}.{flipped}", cookie + "x", "x" + cookie):
            other = make_client()
            other.set_cookie("ebb_session", forged)
            assert other.get("/api/v1/auth/session").status_code == 401, forged

    def test_a_remembered_cookie_past_the_session_lifetime_is_refused(self, app, make_client,
                                                                      clinician, monkeypatch):
        from backend.users import sessions

        client = make_client()
        login(client, clinician)
        assert client.get("/api/v1/auth/session").status_code == 200  # remembered now
        lifetime = app.permanent_session_lifetime.total_seconds()
        later = sessions.time.time() + lifetime + 5
        monkeypatch.setattr(sessions.time, "time", lambda: later)
        assert client.get("/api/v1/auth/session").status_code == 401

    def test_each_request_gets_its_own_copy_of_a_remembered_session(self, app, clinician,
                                                                    make_client):
        from flask import request

        client = make_client()
        login(client, clinician)
        cookie = session_cookie(client)
        interface = app.session_interface
        with app.test_request_context(headers={"Cookie": f"ebb_session={cookie}"}):
            first = interface.open_session(app, request)
            first["csrf"] = "changed by one request"
        with app.test_request_context(headers={"Cookie": f"ebb_session={cookie}"}):
            second = interface.open_session(app, request)
        assert second["csrf"] != "changed by one request"
        assert second["_user_id"] == first["_user_id"]

    def test_a_cookie_signed_with_an_old_key_is_refused_after_the_key_changes(
            self, app, make_client, clinician):
        client = make_client()
        login(client, clinician)
        assert client.get("/api/v1/auth/session").status_code == 200  # remembered
        app.secret_key = "a new key"  # e.g. rotated after a leak, without a fallback
        assert client.get("/api/v1/auth/session").status_code == 401
