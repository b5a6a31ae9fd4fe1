"""An answer acknowledged with 201 survives a kill -9 of the server a moment later."""

from __future__ import annotations

import json
import os
import signal
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from ..conftest import ON_PG, PG_URL
from .live import enrolled_phone, gunicorn, signed_in


@pytest.fixture
def server(database_url):
    """gunicorn with 2 workers on the test database; yields (base_url, process)."""
    with gunicorn(database_url) as running:
        yield running


def test_an_acknowledged_answer_survives_kill_9(server, database_url, app, make_clinic,
                                                make_user):
    base, proc = server
    user = make_user(make_clinic())
    phone = enrolled_phone(base, signed_in(base, user))
    client_uuid = str(uuid.uuid4())
    status, body = phone.call("POST", "/api/v1/assessments", {
        "client_uuid": client_uuid, "instrument_id": "nrs_pain", "answers": {"nrs_pain_1": 7},
        "completed_at": datetime.now(UTC).isoformat()})
    assert status == 201
    os.killpg(proc.pid, signal.SIGKILL)  # no clean shutdown, no checkpoint
    proc.wait()

    engine = create_engine(PG_URL if ON_PG else database_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT answers, completed_at, received_at FROM assessments "
                                "WHERE client_uuid = :u"), {"u": client_uuid}).one()
    engine.dispose()
    answers = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    assert answers == {"nrs_pain_1": 7}
    assert row[1] is not None and row[2] is not None  # device time and receipt time both kept
