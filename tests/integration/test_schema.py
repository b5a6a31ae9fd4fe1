"""The migrations build the whole schema from nothing and agree with the models (no drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_the_migrated_schema_matches_the_models(app):
    from backend.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_a_patient_owned_row_cannot_point_at_another_clinics_patient(app, make_clinic,
                                                                     clinician_client,
                                                                     make_patient):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from backend.dbtypes import utcnow
    from backend.extensions import db
    from backend.treatments.models import Treatment

    patient, _ = make_patient(clinician_client)
    other_clinic = make_clinic()
    with app.app_context():
        db.session.add(Treatment(clinic_id=other_clinic, patient_id=patient["id"],
                                 drug="ketamine", dose=1, dose_unit="mg", given_at=utcnow()))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_plain_inserts_store_exactly_what_core_inserts_store(app, clinician_client,
                                                             make_patient):
    """`PlainInsert` (the submission path's INSERTs) against SQLAlchemy Core's own INSERT of
    the same values: the stored rows are the same, column for column, as the driver reads
    them (text times on SQLite, JSON as stored, booleans as stored)."""
    from datetime import UTC, datetime, timedelta, timezone

    import pytest
    from sqlalchemy import text

    from backend.assessments.models import Assessment, ScoreValue
    from backend.audit.models import AuditEvent
    from backend.database import PlainInsert
    from backend.extensions import db

    patient, _ = make_patient(clinician_client)
    pid, cid = patient["id"], None
    at = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    with app.app_context():
        cid = db.session.execute(text("SELECT clinic_id FROM patients WHERE id = :p"),
                                 {"p": pid}).scalar_one()

        def assessment(uuid: str, **changes) -> dict:
            return dict(clinic_id=cid, patient_id=pid, instrument_id="phq9",
                        instrument_version="1.0", scoring_version="1",
                        answers={"phq9_1": 2, "phq9_2": 0}, scores={"total": 7.5, "flags": []},
                        complete=True, completed_at=at, received_at=datetime.now(UTC),
                        client_uuid=uuid, source="patient", supersedes_id=None,
                        entered_by_id=None, note="ünïcode ✓", slot_key=None, in_window=None,
                        schedule_id=None, window_opens_at=None, window_closes_at=None)
        plain = PlainInsert(Assessment.__table__, returning="id")
        variants = [{}, {"complete": False, "in_window": True, "slot_key": "d1.0",
                         "window_opens_at": at, "window_closes_at": at + timedelta(hours=6)},
                    {"in_window": False, "answers": {}, "scores": {}}]
        pairs = []
        for n, changes in enumerate(variants):
            values = assessment(f"00000000-0000-4000-8000-00000000000{n}", **changes)
            core_id = db.session.execute(Assessment.__table__.insert(),
                                         values | {"client_uuid": f"c{n}"}
                                         ).inserted_primary_key[0]
            plain_id = plain.execute(values | {"client_uuid": f"p{n}"})
            pairs.append((Assessment.__table__, core_id, plain_id, {"client_uuid"}))
        score = dict(assessment_id=core_id, clinic_id=cid, patient_id=pid, instrument_id="phq9",
                     score_id="total", value=7.25, at=at, in_window=None)
        db.session.execute(ScoreValue.__table__.insert(), [score, score | {"score_id": "b"}])
        PlainInsert(ScoreValue.__table__).executemany([score | {"score_id": "p"},
                                                       score | {"score_id": "q"}])
        event = dict(at=at, clinic_id=cid, actor_kind="patient", actor_id=pid,
                     action="assessment.create", patient_id=pid, target_type="assessment",
                     target_id="5", old=None, new={"nested": [1, 2.5, None, "x"]},
                     ip="127.0.0.1", detail=None)
        db.session.execute(AuditEvent.__table__.insert(), event)
        PlainInsert(AuditEvent.__table__).execute(event)

        def raw(table, where, params):
            return db.session.execute(text(f"SELECT * FROM {table.name} WHERE {where} "
                                           "ORDER BY id"), params).all()

        for table, core_id, plain_id, differ in pairs:
            (core,), (plain_row,) = raw(table, "id = :i", {"i": core_id}), \
                raw(table, "id = :i", {"i": plain_id})
            keys = [c.key for c in table.c]
            for key, a, b in zip(keys, core, plain_row, strict=True):
                if key not in differ | {"id"}:
                    assert (key, a) == (key, b)
        scores = raw(ScoreValue.__table__, "patient_id = :p", {"p": pid})
        assert [row[1:5] + row[6:] for row in scores[:2]] == \
            [row[1:5] + row[6:] for row in scores[2:]]
        events = raw(AuditEvent.__table__, "action = 'assessment.create' AND actor_id = :p",
                     {"p": pid})
        assert len(events) == 2 and events[0][1:] == events[1][1:]

        with pytest.raises(ValueError, match="missing"):
            PlainInsert(AuditEvent.__table__).execute({k: v for k, v in event.items()
                                                      if k != "ip"})
        db.session.rollback()


def test_a_plain_insert_that_breaks_a_constraint_raises_sqlalchemys_error(app, clinician_client,
                                                                         make_patient):
    """The submission path tells a retry by SQLAlchemy's `IntegrityError` (the unique client
    UUID): `PlainInsert` runs on a driver cursor, so it must raise that, not the driver's."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from backend.audit.models import AuditEvent
    from backend.database import PlainInsert
    from backend.extensions import db

    patient, _ = make_patient(clinician_client)
    with app.app_context():
        cid = db.session.execute(text("SELECT clinic_id FROM patients WHERE id = :p"),
                                 {"p": patient["id"]}).scalar_one()
        event = dict(at=None, clinic_id=cid, actor_kind="system", actor_id=None, action="x",
                     patient_id=patient["id"], target_type=None, target_id=None, old=None,
                     new=None, ip=None, detail=None)  # at is NOT NULL
        with pytest.raises(IntegrityError):
            PlainInsert(AuditEvent.__table__).execute(event)
        db.session.rollback()


def test_plain_select_returns_what_core_returns(app, clinician_client, make_patient, enroll):
    """`PlainSelect` (the signed-in patient's query) against Core's execution of the same
    statement: the same keys and values, aware datetimes included, and None for no row."""
    from datetime import UTC, datetime

    import pytest
    from sqlalchemy import bindparam, select, update

    from backend.database import PlainSelect
    from backend.extensions import db
    from backend.patients.models import Patient
    from backend.users.models import AuthSession

    patient, invite = make_patient(clinician_client)
    enroll(invite)
    sessions, patients = AuthSession.__table__, Patient.__table__
    statement = (select(sessions.c.id.label("session_id"), sessions.c.revoked_at,
                        sessions.c.expires_at, *patients.c)
                 .join(patients, patients.c.id == sessions.c.patient_id)
                 .where(sessions.c.patient_id == bindparam("pid"), sessions.c.kind == "patient"))
    with app.app_context():
        db.session.execute(update(AuthSession).values(revoked_at=datetime(
            2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)).where(AuthSession.patient_id == patient["id"]))
        core = db.session.execute(statement, {"pid": patient["id"]}).first()
        plain = PlainSelect(statement).first(pid=patient["id"])
        assert core is not None and plain == dict(core._mapping)
        assert plain["revoked_at"].tzinfo is UTC and plain["enrolled_at"].tzinfo is UTC
        assert PlainSelect(statement).first(pid=patient["id"] + 1000) is None
        with pytest.raises(ValueError, match="unknown bind"):
            PlainSelect(statement).first(pid=patient["id"], patient_id=patient["id"])
        db.session.rollback()


def test_prepared_rows_get_the_later_value_and_store_what_core_stores(app, clinician_client,
                                                                      make_patient):
    """`PlainInsert.prepare(..., later=...)`: the submission builds its score rows before it
    knows the assessment's id. The id is filled into every row; the rows equal Core's."""
    from datetime import UTC, datetime

    import pytest
    from sqlalchemy import select

    from backend.assessments.models import ScoreValue
    from backend.audit.models import AuditEvent
    from backend.database import PlainInsert
    from backend.extensions import db
    from tests.conftest import submission

    patient, _ = make_patient(clinician_client)
    made = clinician_client.post(f"/api/v1/patients/{patient['id']}/assessments",
                                 json=submission("phq9", {f"phq9_{i}": 1 for i in range(1, 10)}))
    assert made.status_code == 201, made.get_json()
    aid = made.get_json()["id"]
    at = datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)
    table = ScoreValue.__table__
    with app.app_context():
        cid = db.session.scalar(select(table.c.clinic_id).where(table.c.assessment_id == aid))
        rows = [dict(assessment_id=None, clinic_id=cid, patient_id=patient["id"],
                     instrument_id="phq9", score_id=name, value=value, at=at, in_window=True)
                for name, value in (("p", 3.5), ("q", 0.0))]
        prepared = PlainInsert(table).prepare(rows, later="assessment_id")
        db.session.execute(table.insert(), [row | {"assessment_id": aid,
                                                   "score_id": row["score_id"] + "-core"}
                                            for row in rows])
        prepared.insert(aid)
        stored = {row.score_id: (row.assessment_id, row.clinic_id, row.patient_id,
                                 row.instrument_id, row.value, row.at, row.in_window)
                  for row in db.session.execute(select(table).where(
                      table.c.assessment_id == aid, table.c.score_id.in_(
                          ["p", "q", "p-core", "q-core"])))}
        assert stored["p"] == stored["p-core"] and stored["q"] == stored["q-core"]
        assert stored["p"][0] == aid and stored["p"][4:] == (3.5, at, True)
        with pytest.raises(ValueError, match="later"):  # JSON is processed: not fillable later
            PlainInsert(AuditEvent.__table__).prepare([{}], later="new")
        db.session.rollback()
