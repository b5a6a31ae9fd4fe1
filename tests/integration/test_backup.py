"""``ebb backup`` while answers keep arriving, and ``ebb restore`` that loses none of them."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from ..conftest import ON_PG, base_config
from .live import enrolled_phone, gunicorn, signed_in

sqlite_only = pytest.mark.skipif(ON_PG, reason="SQLite backups; PostgreSQL uses pg_dump")


def stored_uuids(path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT client_uuid FROM assessments")}
    finally:
        con.close()


def app_on(path, tmp_path):
    from backend import create_app

    return create_app(base_config(f"sqlite:///{path}", tmp_path))


@sqlite_only
@pytest.mark.slow
def test_a_backup_taken_under_writes_restores_every_answer_acknowledged_before_it(
        app, database_url, make_clinic, make_user, tmp_path):
    user = make_user(make_clinic())
    backup_file = tmp_path / "backups" / "ebb.sqlite3"
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()
    errors: list[str] = []
    with gunicorn(database_url) as (base, _):
        phone = enrolled_phone(base, signed_in(base, user))

        def write():
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                client_uuid = str(uuid.uuid4())
                status, body = phone.call("POST", "/api/v1/assessments", {
                    "client_uuid": client_uuid, "instrument_id": "nrs_pain",
                    "answers": {"nrs_pain_1": 4}, "completed_at": datetime.now(UTC).isoformat()})
                if status == 201:
                    acknowledged.append((time.monotonic(), client_uuid))
                else:
                    errors.append(f"{status} {body}")

        writer = threading.Thread(target=write)
        writer.start()
        while len(acknowledged) < 30 and writer.is_alive():
            time.sleep(0.05)
        started = time.monotonic()
        result = app.test_cli_runner().invoke(args=["backup", str(backup_file)])
        time.sleep(0.3)  # the writer keeps going after the backup too
        stop.set()
        writer.join(30)
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and "assessments" in result.output
    assert not errors, errors[:3]
    before = {u for t, u in acknowledged if t < started}
    after = {u for t, u in acknowledged if t >= started}
    assert len(before) >= 30 and after, "writes must go on before and after the backup"

    fresh = tmp_path / "restored.sqlite3"  # an empty database: no --force needed
    restored_app = app_on(fresh, tmp_path)
    result = restored_app.test_cli_runner().invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    restored = stored_uuids(fresh)
    assert before <= restored, f"missing after restore: {sorted(before - restored)[:5]}"
    assert restored <= before | after
    con = sqlite3.connect(fresh)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT COUNT(*) FROM assessments a WHERE NOT EXISTS (SELECT 1 FROM "
                       "score_values s WHERE s.assessment_id = a.id)").fetchone()[0] == 0
    con.close()


@sqlite_only
def test_restore_refuses_to_overwrite_data_unless_forced(app, make_clinic, tmp_path):
    make_clinic()
    backup_file = tmp_path / "b.sqlite3"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(backup_file)]).exit_code == 0
    refused = runner.invoke(args=["restore", str(backup_file)])
    assert refused.exit_code != 0 and "--force" in refused.output
    forced = runner.invoke(args=["restore", "--force", str(backup_file)])
    assert forced.exit_code == 0, forced.output
    assert "1 clinics" in forced.output


@sqlite_only
def test_restore_refuses_a_damaged_file_or_one_that_is_not_an_ebb_database(app, tmp_path):
    runner = app.test_cli_runner()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4096)
    result = runner.invoke(args=["restore", "--force", str(garbage)])
    assert result.exit_code != 0
    assert "integrity" in result.output or "not a readable" in result.output
    other = tmp_path / "other.sqlite3"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    result = runner.invoke(args=["restore", "--force", str(other)])
    assert result.exit_code != 0 and "not an Ebb database" in result.output
    missing = runner.invoke(args=["restore", str(tmp_path / "nope.sqlite3")])
    assert missing.exit_code != 0 and "does not exist" in missing.output


def test_backup_on_postgresql_refuses_and_points_to_pg_dump(tmp_path):
    from backend import create_app

    pg = create_app(base_config("postgresql+psycopg://postgres@127.0.0.1:5432/test", tmp_path))
    for args in (["backup", str(tmp_path / "x")], ["restore", str(tmp_path / "x")]):
        result = pg.test_cli_runner().invoke(args=args)
        assert result.exit_code != 0
        assert "pg_dump -Fc" in result.output and "pg_restore" in result.output
