"""Request hooks: CSRF for cookie-authenticated writes, security headers, commit at the boundary."""

from __future__ import annotations

import hmac
import re

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


def limit_chunked_body() -> None:
    """A body sent in chunks (no Content-Length) over MAX_CONTENT_LENGTH is a 413, as one
    that says its length is: werkzeug would hand the view its first MAX_CONTENT_LENGTH bytes
    (a 400 for the JSON cut short). Reading one byte past the body raises it."""
    if request.content_length is None and \
            "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        request.get_data(cache=True)
        request.stream.read(1)


def check_csrf() -> None:
    if request.method not in UNSAFE or request.endpoint in CSRF_EXEMPT:
        return
    if not current_user.is_authenticated:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed("Send the session's CSRF token in the X-CSRF-Token header.")


#: Text no database here keeps: a NUL character (PostgreSQL refuses it; SQLite would keep
#: it) and a lone surrogate, half of a UTF-16 pair that JSON can spell as "\ud800" but UTF-8
#: cannot encode (both drivers refuse it).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: How either is written in JSON (every other character is UTF-8, which holds neither).
_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _why(text: str) -> str | None:
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return "contains a NUL character" if found.group() == "\x00" else \
        "contains a lone surrogate (not a Unicode character)"


def _json_problem(value, path: str = "") -> tuple[str, str] | None:
    """(field, reason) for the first string or key in parsed JSON that cannot be stored."""
    if isinstance(value, str):
        why = _why(value)
        return (path or "body", why) if why else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        name = f"{path}.{key}" if path else str(key)
        why = _why(key) if isinstance(key, str) else None
        found = (name, why) if why else _json_problem(item, name)
        if found:
            return found
    return None


def _pairs_problem(pairs) -> tuple[str, str] | None:
    for key, value in pairs:
        why = _why(key) or _why(value)
        if why:
            return key, why
    return None


def refuse_unstorable_text() -> None:
    """Text that cannot be stored is refused before any view reads it: nobody types a NUL or
    a lone surrogate, and a database would fail on it (a 500) or, SQLite and a NUL, keep it.
    A path part with one names nothing (404); a query, form or JSON field gets a 422 that
    names the field."""
    if any(isinstance(v, str) and _why(v) for v in (request.view_args or {}).values()):
        raise NotFound("No such resource.")
    found = _pairs_problem(request.args.items(multi=True))
    if found is None and request.mimetype in ("application/x-www-form-urlencoded",
                                              "multipart/form-data"):
        found = _pairs_problem(request.form.items(multi=True))
    # JSON can only spell these as escapes: look for one before parsing anything.
    if found is None and request.is_json and _JSON_ESCAPE.search(request.get_data(cache=True)):
        found = _json_problem(request.get_json(silent=True))
    if found is not None:
        field, why = found
        raise ValidationProblem(f"Text that cannot be stored: {field} {why}.",
                                errors=[{"field": field, "reason": why}])


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
    app.before_request(limit_chunked_body)
    app.before_request(check_csrf)
    app.before_request(refuse_unstorable_text)
    app.after_request(security_headers)
    app.after_request(commit_or_rollback)  # after_request runs in reverse: this one first
