"""One error contract: API errors are ``application/problem+json`` (RFC 9457), pages get HTML.

Domain code raises a :class:`Problem` (or a subclass) carrying its HTTP status; the handlers
here are the only place errors are rendered. A 4xx never leaves anything stored: the handlers
roll back the session before answering.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error with an HTTP status, rendered as problem+json."""

    status = 400
    title = "Bad Request"
    slug = "bad-request"

    def __init__(self, detail: str | None = None, *, errors: Iterable[Mapping] | None = None,
                 status: int | None = None, title: str | None = None, slug: str | None = None,
                 headers: Mapping[str, str] | None = None, extra: Mapping | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or title or self.title
        self.errors = [dict(e) for e in errors] if errors else []
        self.status = status or self.status
        self.title = title or self.title
        self.slug = slug or self.slug
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class ValidationProblem(Problem):
    status = 422
    title = "Invalid input"
    slug = "validation"


class Unauthorized(Problem):
    status = 401
    title = "Not signed in"
    slug = "unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(Problem):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Gone(Problem):
    status = 410
    title = "Gone"
    slug = "gone"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"
    slug = "too-many-requests"


def field_errors(messages: object, prefix: str = "") -> list[dict]:
    """Flatten marshmallow/webargs messages into ``[{"field": "a.b", "reason": "..."}]``."""
    out: list[dict] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, (Mapping, list, tuple)):
                out.extend(field_errors(value, name))
            else:
                out.append({"field": name, "reason": str(value)})
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out.extend({"field": prefix or "body", "reason": m} for m in messages)
        else:
            for m in messages:
                out.extend(field_errors(m, prefix))
    else:
        out.append({"field": prefix or "body", "reason": str(messages)})
    return out


def is_api_request() -> bool:
    path = request.path
    return path.startswith("/api") or path.startswith("/fhir")


def problem_response(status: int, title: str, detail: str, *, slug: str | None = None,
                     errors: list[dict] | None = None, headers: Mapping | None = None,
                     extra: Mapping | None = None):
    body = {
        "type": f"urn:ebb:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _rollback() -> None:
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # pragma: no cover - a broken connection must not hide the error
        log.exception("rollback failed while rendering an error")


def _html(status: int, title: str, detail: str):
    return render_template("error.html", status=status, title=title, detail=detail), status


def handle_problem(error: Problem):
    _rollback()
    if not is_api_request():
        return _html(error.status, error.title, error.detail)
    return problem_response(error.status, error.title, error.detail, slug=error.slug,
                            errors=error.errors, headers=error.headers, extra=error.extra)


def handle_http_exception(error: HTTPException):
    _rollback()
    status = error.code or 500
    title = error.name
    detail = error.description or title
    errors: list[dict] = []
    slug = None
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:
        # webargs nests by location ({"json": {...}, "query": {...}}); keep the field names.
        if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "form",
                                                                  "headers", "files", "view_args"}:
            for location, msgs in messages.items():
                prefix = "" if location == "json" else location
                errors.extend(field_errors(msgs, prefix))
        else:
            errors = field_errors(messages)
        title, slug = "Invalid input", "validation"
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    if status == 429:
        slug = "too-many-requests"
        detail = f"Too many requests: {error.description}. Try again later."
    headers = dict(error.get_headers()) if status in (405, 429) else {}
    headers.pop("Content-Type", None)
    if not is_api_request():
        return _html(status, title, detail)
    return problem_response(status, title, detail, slug=slug, errors=errors, headers=headers)


def handle_unexpected(error: Exception):
    _rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if not is_api_request():
        return _html(500, "Something went wrong", "The error has been logged.")
    return problem_response(500, "Internal Server Error", "The error has been logged.")


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
