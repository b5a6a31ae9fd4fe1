"""Error responses in the OpenAPI document: every operation lists the problems it can answer.

Views declare their success responses (and special errors) with flask-smorest. The error
statuses that follow from cross-cutting rules are added here, in one place, after the
blueprints are registered: sign-in and role (401, 403), CSRF on writes (403), a body that is
not JSON, too large or invalid (415, 413, 400, 422), an unknown id in the path (404), plus the
few endpoint-specific ones below. Every 4xx is documented as ``application/problem+json``
with the :data:`PROBLEM` schema. There is no catch-all ``default`` response, so a status an
operation does not list is a documentation bug that the API fuzzing test catches.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from flask import Flask

from .errors import PROBLEM_JSON
from .security import CSRF_EXEMPT, UNSAFE

PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, and for invalid input which field.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": "urn:ebb:problem:validation"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "reason"],
            "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            "additionalProperties": True}},
    },
    "additionalProperties": True,
}

#: Endpoints anyone may call (no 401/403 for a missing or wrong role).
PUBLIC = {"auth.Login", "auth.Logout", "patients.Enroll", "instruments.Instruments",
          "instruments.InstrumentItem", "instruments.ScoreAnswers", "fhir.Questionnaire"}

#: Statuses specific to one endpoint and method, beyond the general rules.
SPECIFIC: dict[tuple[str, str], set[int]] = {
    ("auth.Login", "POST"): {401, 429},
    ("patients.Enroll", "POST"): {404, 410, 429},
    ("patients.Unlock", "POST"): {410, 429},
    ("auth.Users", "POST"): {409},
    ("auth.UserItem", "PATCH"): {409},  # one's own account
    ("patients.Patients", "POST"): {409},
    ("patients.PatientItem", "PATCH"): {409},
    ("assessments.Assessments", "POST"): {404, 409},  # unknown instrument; UUID reused
    ("assessments.PatientAssessments", "POST"): {404, 409},
    ("rules.EndpointsExport", "GET"): {404},  # unknown rule
    ("rules.CohortOutcomes", "GET"): {404},
}

DESCRIPTIONS = {
    400: "The body is not valid JSON",
    401: "Not signed in (or the session ended, or a PIN is needed)",
    403: "Signed in, but not allowed (wrong role) or the CSRF token is missing",
    404: "No such resource in your clinic",
    409: "Conflicts with what is stored",
    410: "No longer usable",
    413: "The body is larger than the limit",
    415: "The body is not application/json",
    422: "Invalid input: the errors name each field and why",
    429: "Too many requests; try again later",
}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def statuses_for(endpoint: str, method: str, has_path_args: bool, operation: dict) -> set[int]:
    codes: set[int] = set()
    if endpoint not in PUBLIC:
        codes |= {401, 403}
    if method in UNSAFE and endpoint not in CSRF_EXEMPT:
        codes.add(403)
    if method in UNSAFE:
        codes |= {413, 415}
    if "requestBody" in operation:
        codes |= {400, 422}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        codes.add(422)
    if has_path_args:
        codes.add(404)
    return codes | SPECIFIC.get((endpoint, method), set())


def problem_response(description: str) -> dict:
    return {"description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def document_errors(app: Flask, api) -> None:
    """Add the error responses of every API operation to the spec (call after registering)."""
    spec = api.spec
    if "Problem" not in spec.components.schemas:
        spec.components.schema("Problem", PROBLEM)
    paths = spec._paths  # apispec keeps operations here until to_dict()
    for rule in app.url_map.iter_rules():
        path = openapi_path(rule.rule)
        if path not in paths:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = paths[path].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            codes = statuses_for(rule.endpoint, method, bool(rule.arguments), operation)
            for code in codes | {int(c) for c in responses if c.isdigit() and int(c) >= 400}:
                old = responses.get(str(code))
                description = (old or {}).get("description") or DESCRIPTIONS.get(
                    code, HTTPStatus(code).phrase)
                responses[str(code)] = problem_response(description)


#: How apispec documents a ``Nested(..., allow_none=True)`` for OpenAPI 3.0: the schema *or*
#: this, which admits any object at all (``"routine": {}`` would be documented as valid).
_ANY_OBJECT_OR_NULL = {"type": "object", "nullable": True}


def null_means_null(api) -> None:
    """Make the null branch of every nullable nested object admit null alone (``enum: [null]``,
    as OpenAPI 3.0.3 spells it), so the document says what the schemas accept."""

    def visit(node) -> None:
        if isinstance(node, dict):
            for branch in node.get("anyOf", ()):
                if branch == _ANY_OBJECT_OR_NULL:
                    branch["enum"] = [None]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(api.spec.components.schemas)
    visit(api.spec._paths)
