"""Storing answers: validate against the instrument, score, store raw + derived, exactly once."""

from __future__ import annotations

from datetime import UTC, timedelta
from types import SimpleNamespace

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..audit import service as audit
from ..database import PlainInsert
from ..dbtypes import utcnow
from ..errors import Conflict, NotFound, Problem, ValidationProblem
from ..extensions import db
from ..instruments.service import get_instrument
from ..patients.models import Alert
from ..schedules.service import resolve as resolve_slot
from ..scoring import AnswerError, score
from .models import Assessment, ScoreValue

#: Version of the scoring engine stored beside every derived score.
SCORING_VERSION = "1"
#: How far ahead of the server clock a device clock may run before we refuse the time.
MAX_CLOCK_SKEW = timedelta(minutes=10)

_INSERT_ASSESSMENT = PlainInsert(Assessment.__table__, returning="id")
_INSERT_SCORES = PlainInsert(ScoreValue.__table__)


def find(patient_id: int, client_uuid: str) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.patient_id == patient_id,
                                                      Assessment.client_uuid == client_uuid))


def submit(patient, data: dict, *, source: str,
           user=None) -> tuple[Assessment | SimpleNamespace, bool]:
    """Store one questionnaire; return (assessment, created). A retry returns the first row.

    The insert comes first and the unique (patient, client UUID) key decides: a retry is the
    rare case, so it pays for the lookup instead of every first submission paying for one.
    """
    client_uuid = str(data["client_uuid"])
    try:
        instrument, result, completed_at, now = _validate(data, source)
        slot = resolve_slot(patient, data.get("slot_key"), instrument.id, completed_at)
        supersedes = None
        if data.get("supersedes_id") is not None:
            supersedes = _superseded(patient, data["supersedes_id"], instrument.id)
    except Problem:
        # A retry of an accepted answer returns the first result even where it would not
        # pass now (a correction already applied, a device clock that jumped).
        existing = find(patient.id, client_uuid)
        if existing is None:
            raise
        return _replay(existing, data), False

    values = dict(
        clinic_id=patient.clinic_id, patient_id=patient.id, instrument_id=instrument.id,
        instrument_version=instrument.version, scoring_version=SCORING_VERSION,
        answers=dict(data["answers"]), scores=result.to_dict(), complete=result.complete,
        completed_at=completed_at, received_at=now, client_uuid=client_uuid, source=source,
        supersedes_id=supersedes.id if supersedes else None,
        entered_by_id=user.id if user else None, note=data.get("note") or "", **slot,
    )
    # Everything the inserts need is built before the first of them: on SQLite that write
    # takes the database's write lock, held until the commit, and the other workers wait
    # on it. Only the new id is left to fill in.
    scores = _INSERT_SCORES.prepare([
        dict(assessment_id=None, clinic_id=patient.clinic_id, patient_id=patient.id,
             instrument_id=instrument.id, score_id=score_id, value=float(value.value),
             at=completed_at, in_window=slot["in_window"])
        for score_id, value in result.scores.items() if value.value is not None],
        later="assessment_id")
    safety = [flag for flag in result.flags if flag.severity == "safety"]
    event = audit.prepare("assessment.create", clinic_id=patient.clinic_id,
                          patient_id=patient.id, target_type="assessment",
                          new={"instrument": instrument.id, "client_uuid": client_uuid,
                               "source": source, "supersedes_id": values["supersedes_id"],
                               "safety_alerts": [flag.id for flag in safety]})
    try:
        # A plain INSERT: the row is never changed after this, so the ORM's unit of work
        # would only add cost on the hottest path.
        new_id = _INSERT_ASSESSMENT.execute(values)
    except IntegrityError:
        # The same client UUID is already stored (a retry, or a concurrent retry that won the
        # race): return its result. Nothing of this request is worth keeping, so roll back the
        # whole transaction (a savepoint would cost an extra fsync on SQLite for every
        # submission, not just for retries).
        db.session.rollback()
        existing = find(patient.id, client_uuid)
        if existing is None:
            raise
        return _replay(existing, data), False
    # What the response shows: the stored values as they are. (Not an ORM object: nothing
    # here is written again, and instrumenting twenty attributes is work for nothing.)
    assessment = SimpleNamespace(id=new_id, **values)

    if supersedes is not None:
        db.session.execute(delete(ScoreValue).where(ScoreValue.assessment_id == supersedes.id))
    scores.insert(new_id)  # one executemany, not one INSERT per score (this is the hot path)
    db.session.add_all([Alert(clinic_id=patient.clinic_id, patient_id=patient.id,
                              assessment_id=new_id, kind=flag.id, message=flag.message)
                        for flag in safety])
    event.insert(str(new_id))
    return assessment, True


def _validate(data: dict, source: str):
    """The instrument, its scoring of the answers, the completion time and now; or a 4xx."""
    instrument = get_instrument(data["instrument_id"])
    now = utcnow()
    completed_at = (data.get("completed_at") or now).astimezone(UTC)
    if completed_at > now + MAX_CLOCK_SKEW:
        raise ValidationProblem("The completion time is in the future.",
                                errors=[{"field": "completed_at", "reason": "is in the future"}])
    try:
        result = score(instrument, data["answers"], require_complete=source != "import")
    except AnswerError as exc:
        raise ValidationProblem(
            f"{len(exc.problems)} answer(s) cannot be accepted: {exc}",
            errors=[p.to_dict() for p in exc.problems]) from None
    return instrument, result, completed_at, now


def _replay(existing: Assessment, data: dict) -> Assessment:
    if existing.instrument_id != data["instrument_id"]:
        raise Conflict("This client UUID was already used for another questionnaire.",
                       errors=[{"field": "client_uuid", "reason": "already used for "
                                f"{existing.instrument_id}"}])
    audit.record("assessment.replay", clinic_id=existing.clinic_id,
                 patient_id=existing.patient_id, target_type="assessment",
                 target_id=existing.id)
    return existing


def _superseded(patient, assessment_id: int, instrument_id: str) -> Assessment:
    old = db.session.get(Assessment, assessment_id)
    if old is None or old.patient_id != patient.id:
        raise NotFound("No such assessment for this patient.",
                       errors=[{"field": "supersedes_id", "reason": "unknown assessment"}])
    if old.instrument_id != instrument_id:
        raise ValidationProblem("A correction must be of the same instrument.",
                                errors=[{"field": "supersedes_id",
                                         "reason": f"is a {old.instrument_id} assessment"}])
    taken = db.session.scalar(select(Assessment.id).where(Assessment.supersedes_id == old.id))
    if taken is not None:
        raise Conflict("That assessment was already corrected.",
                       errors=[{"field": "supersedes_id",
                                "reason": f"already superseded by {taken}"}])
    return old


def list_assessments(patient, *, instrument_id: str | None = None,
                     include_superseded: bool = False, limit: int | None = None) -> list:
    query = select(Assessment).where(Assessment.patient_id == patient.id)
    if instrument_id:
        query = query.where(Assessment.instrument_id == instrument_id)
    if not include_superseded:
        later = aliased(Assessment)
        query = query.where(~select(later.id).where(later.supersedes_id == Assessment.id)
                            .exists())
    query = query.order_by(Assessment.completed_at.desc(), Assessment.id.desc())
    if limit:
        query = query.limit(limit)
    rows = list(db.session.scalars(query))
    audit.record("assessment.list", clinic_id=patient.clinic_id, patient_id=patient.id,
                 target_type="patient", target_id=patient.id, detail=f"{len(rows)} rows")
    return rows
