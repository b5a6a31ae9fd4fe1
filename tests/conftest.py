"""Shared fixtures: a fresh database per test on SQLite or, with DATABASE_URL, PostgreSQL.

The schema is built once per run by the real migrations; each test then gets a copy of that
SQLite file, or the PostgreSQL tables truncated. Nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text

PG_URL = os.environ.get("DATABASE_URL", "")
ON_PG = PG_URL.startswith("postgresql")


def backend_name() -> str:
    return "postgresql" if ON_PG else "sqlite"


def pytest_report_header(config):
    return f"ebb database: {backend_name()} ({PG_URL or 'temporary SQLite files'})"


class EbbClient(FlaskClient):
    """A test client that sends the session's CSRF token, as the app's own pages do."""

    def open(self, *args, **kwargs):
        with self.session_transaction() as sess:
            token = sess.get("csrf")
        if token:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRF-Token", token)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def base_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "http://ebb.test",
        "SQLITE_SYNCHRONOUS": "NORMAL",
    }


def _upgrade(url: str, tmp_path) -> None:
    from flask_migrate import upgrade

    from backend import create_app

    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        from backend.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory):
    """Build the schema once with the migrations; return how to get a fresh database."""
    if ON_PG:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _upgrade(PG_URL, None)
        return PG_URL
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    url = f"sqlite:///{path}"
    _upgrade(url, folder)
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


def _truncate_pg() -> None:
    engine = create_engine(PG_URL)
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(schema_template, tmp_path):
    if ON_PG:
        _truncate_pg()
        return PG_URL
    path = tmp_path / "ebb.sqlite3"
    shutil.copyfile(schema_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    return base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config):
    from backend import create_app
    from backend.extensions import db

    app = create_app(app_config)
    app.test_client_class = EbbClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(app):
    """Several independent browsers: each call returns a client with its own cookies."""
    return app.test_client


PASSWORD = "correct horse battery"


@pytest.fixture
def make_clinic(app):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, timezone: str = "UTC"):
        from backend.clinics.service import create_clinic
        from backend.extensions import db

        n = next(counter)
        with app.app_context():
            clinic = create_clinic(name=name or f"Clinic {n}", slug=f"clinic-{n}",
                                   timezone=timezone)
            db.session.commit()
            return clinic.id

    return make


@pytest.fixture
def make_user(app):
    def make(clinic_id: int, role: str = "clinician", email: str | None = None,
             password: str = PASSWORD):
        from backend.extensions import db
        from backend.users.service import create_user

        with app.app_context():
            user = create_user(clinic_id, email or f"{uuid.uuid4().hex[:10]}@clinic.test",
                               password, role=role)
            db.session.commit()
            return {"id": user.id, "email": user.email, "password": password,
                    "clinic_id": clinic_id, "role": role}

    return make


def login(client, user: dict, **extra):
    response = client.post("/api/v1/auth/login",
                           json={"email": user["email"], "password": user["password"], **extra})
    assert response.status_code == 200, response.get_json()
    return response


@pytest.fixture
def clinician(make_clinic, make_user):
    return make_user(make_clinic())


@pytest.fixture
def clinician_client(make_client, clinician):
    c = make_client()
    login(c, clinician)
    return c


@pytest.fixture
def make_patient(make_client):
    """Create a patient through the API as ``staff`` and return (patient json, invite json)."""

    def make(staff_client, **fields):
        response = staff_client.post("/api/v1/patients", json=fields)
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return body["patient"], body["invite"]

    return make


@pytest.fixture
def enroll(make_client):
    """Enrol from an invite in a fresh client (a phone) and return that client."""

    def do(invite: dict, pin: str | None = None):
        phone = make_client()
        payload = {"token": invite["token"]}
        if pin:
            payload["pin"] = pin
        response = phone.post("/api/v1/enroll", json=payload)
        assert response.status_code == 201, response.get_json()
        return phone

    return do


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def submission(instrument_id: str, answers: dict, **extra) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "instrument_id": instrument_id,
            "answers": answers, "completed_at": now_iso(), **extra}
