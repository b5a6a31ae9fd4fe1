"""Request hooks: CSRF for cookie-authenticated writes, security headers, commit at the boundary."""

from __future__ import annotations

import hmac

from flask import Flask, current_app, request, session
from flask_login import current_user

from .errors import NotFound, Problem, ValidationProblem
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


NUL = "\x00"


def _nul_path(value, path: str = "") -> str | None:
    """Where in parsed JSON the first string or key holding a NUL is ("answers.x"), if any."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        name = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and NUL in key:
            return name
        found = _nul_path(item, name)
        if found:
            return found
    return None


def refuse_nul() -> None:
    """Text with a NUL character is refused before any view reads it: nobody types one, and
    PostgreSQL cannot store or even compare one (it would fail as a 500 there, and be stored
    on SQLite). A path part with one names nothing (404); a query, form or JSON field gets a
    422 naming the field."""
    if any(isinstance(v, str) and NUL in v for v in (request.view_args or {}).values()):
        raise NotFound("No such resource.")
    field = next((k for k, v in request.args.items(multi=True) if NUL in k or NUL in v), None)
    if field is None and request.mimetype in ("application/x-www-form-urlencoded",
                                              "multipart/form-data"):
        field = next((k for k, v in request.form.items(multi=True) if NUL in k or NUL in v),
                     None)
    # In JSON a NUL can only be written as \u0000: look for it before parsing anything.
    if field is None and request.is_json and b"\\u0000" in request.get_data(cache=True):
        field = _nul_path(request.get_json(silent=True))
    if field is not None:
        raise ValidationProblem("Text cannot contain a NUL character.",
                                errors=[{"field": field, "reason": "contains a NUL character"}])


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
    app.before_request(refuse_nul)
    app.after_request(security_headers)
    app.after_request(commit_or_rollback)  # after_request runs in reverse: this one first
