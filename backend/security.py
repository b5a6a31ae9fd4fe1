"""Request hooks: CSRF for cookie-authenticated writes, security headers, commit at the boundary."""

from __future__ import annotations

import hmac

from flask import Flask, current_app, request, session
from flask_login import current_user

from .errors import Problem
from .extensions import db

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Endpoints that start a session (no session to forge yet); they demand JSON instead.
CSRF_EXEMPT = {"auth.Login", "patients.Enroll"}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class CsrfFailed(Problem):
    status = 403
    title = "CSRF check failed"
    slug = "csrf"


class UnsupportedMediaType(Problem):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


def check_json_body() -> None:
    """API writes with a body must say it is JSON (this also keeps cross-site forms out)."""
    if request.method not in UNSAFE or not request.path.startswith("/api/"):
        return
    if (request.content_length or request.headers.get("Transfer-Encoding")) \
            and request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")


def check_csrf() -> None:
    if request.method not in UNSAFE or request.endpoint in CSRF_EXEMPT:
        return
    if not current_user.is_authenticated:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed("Send the session's CSRF token in the X-CSRF-Token header.")


def commit_or_rollback(response):
    """The request boundary: keep the work of a successful request, drop everything else."""
    session = db.session()
    if not session.in_transaction() and not session.dirty:
        # Nothing begun since the view committed (a submission commits early): an empty
        # commit would still expire every loaded object, on the busiest endpoint there is.
        return response
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["EBB_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.before_request(check_json_body)
    app.before_request(check_csrf)
    app.after_request(security_headers)
    app.after_request(commit_or_rollback)  # after_request runs in reverse: this one first
