"""Schemathesis fuzzes every API operation as a clinician and as a patient.

For each operation in ``/api/openapi.json`` it generates valid and invalid requests (path,
query and body) and sends them with a signed-in session (cookie + X-CSRF-Token). Every answer
must be a non-5xx, with a status code the operation documents, the documented content type,
and a body that matches the documented schema. The number of cases is printed.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from backend.users import passwords

from ..conftest import login

#: Examples per operation, role and mode (valid / invalid data): 4 x 25 = 100 per operation.
EXAMPLES = int(os.environ.get("EBB_FUZZ_EXAMPLES", "25"))
#: Unset: the same cases every run (derandomized). A number: other cases, repeatable by it.
SEED = os.environ.get("EBB_FUZZ_SEED")
#: Operations that would end the fuzzing session itself (they have their own tests).
SKIP = {("POST", "/api/v1/auth/logout")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]


def session_of(client) -> dict:
    """The cookie and CSRF header a browser of this session would send."""
    with client.session_transaction() as sess:
        csrf = sess.get("csrf", "")
    return {"cookies": {"ebb_session": client.get_cookie("ebb_session").value},
            "headers": {"X-CSRF-Token": csrf}}


def failure_key(text: str) -> str:
    """'ST105 Undocumented Content-Type [401]': what failed and on which status."""
    titles = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")]
    statuses = [line.strip().split("]")[0] + "]" for line in text.splitlines()
                if line.strip()[:1] == "[" and line.strip()[4:5] == "]"]
    return f"{', '.join(titles) or text.strip().splitlines()[0][:120]} {' '.join(statuses[:1])}"


def fuzz(operation, mode, session: dict, label: str, cases: Counter, failures: dict) -> None:
    """Send up to EXAMPLES generated cases; collect each distinct failure instead of stopping."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        cases[label.split(" as ")[0]] += 1
        try:
            case.call_and_validate(headers=session["headers"], cookies=session["cookies"],
                                   checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is the latter
            text = str(exc)
            failures.setdefault(f"{label}: {failure_key(text)}", text[:1500])

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
        pass


@pytest.mark.slow
def test_fuzzing_every_operation_finds_no_server_error_and_no_undocumented_answer(
        app, make_clinic, make_user, make_client, make_patient, enroll, monkeypatch):
    # argon2's cost is not under test here; thousands of sign-ins at full cost take minutes.
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                             parallelism=1))
    monkeypatch.setattr(passwords, "DUMMY_HASH", None)
    clinic = make_clinic()
    staff_user = make_user(clinic, role="admin")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    clients: dict = {}

    def live_sessions() -> dict:
        """The two sessions, started again when a case ended one (e.g. withdrew the patient)."""
        if "staff" not in clients or clients["staff"].get("/api/v1/auth/session").status_code \
                != 200:
            clients["staff"] = make_client()
            login(clients["staff"], staff_user)
        if "phone" not in clients or clients["phone"].get("/api/v1/me").status_code != 200:
            _, invite = make_patient(clients["staff"])
            clients["phone"] = enroll(invite)
        return {"clinician": session_of(clients["staff"]), "patient": session_of(clients["phone"])}

    cases: Counter = Counter()
    failures: dict[str, str] = {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIP:
            continue
        label = f"{key[0]} {key[1]}"
        for role, session in live_sessions().items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz(operation, mode, session, f"{label} as {role}", cases, failures)
    total = sum(cases.values())
    print(f"\nschemathesis (seed {SEED or 'derandomized'}): {total} cases over {len(cases)} "
          f"operations "
          f"in {time.monotonic() - started:.0f} s; {sum(v >= 100 for v in cases.values())} "
          f"operations got >= 100")
    small = {k: v for k, v in cases.items() if v < 100}
    if small:  # hypothesis stops early once it has tried every distinct input
        print("  fewer (input space exhausted): "
              + ", ".join(f"{k} {v}" for k, v in sorted(small.items())))
    assert not failures, "\n\n".join(list(failures.values())[:8]) + \
        f"\n\n{len(failures)} distinct failures:\n" + "\n".join(failures)
