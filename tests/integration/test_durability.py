"""An answer acknowledged with 201 survives a kill -9 of the server a moment later."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import create_engine, text

from ..conftest import ON_PG, PG_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """A tiny cookie-keeping JSON client for a real server."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.csrf = None

    def call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.csrf:
            request.add_header("X-CSRF-Token", self.csrf)
        with self.opener.open(request, timeout=10) as response:
            payload = json.loads(response.read() or b"null")
            if isinstance(payload, dict) and payload.get("csrf_token"):
                self.csrf = payload["csrf_token"]
            return response.status, payload


@pytest.fixture
def server(database_url, tmp_path):
    """gunicorn with 2 workers on the test database; yields (base_url, process)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "durability",
           "RATELIMIT_ENABLED": "false", "SQLITE_SYNCHRONOUS": "FULL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "backend.wsgi:app"], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/instruments", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
    yield base, proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_an_acknowledged_answer_survives_kill_9(server, database_url, app, make_clinic,
                                                make_user):
    base, proc = server
    user = make_user(make_clinic())
    staff = Http(base)
    staff.call("POST", "/api/v1/auth/login", {"email": user["email"],
                                              "password": user["password"]})
    _, created = staff.call("POST", "/api/v1/patients", {})
    phone = Http(base)
    phone.call("POST", "/api/v1/enroll", {"token": created["invite"]["token"]})
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
