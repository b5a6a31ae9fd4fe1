"""Recording audit events in the same transaction as the work they describe."""

from __future__ import annotations

from collections.abc import Mapping

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from ..database import PlainInsert, PreparedRows
from ..dbtypes import utcnow
from ..extensions import db
from .models import AuditEvent

_INSERT = PlainInsert(AuditEvent.__table__)


def _actor() -> tuple[str, int | None, int | None]:
    if not has_request_context():
        return "system", None, None
    user = current_user._get_current_object() if current_user else None
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous", None, None
    kind = "patient" if user.is_patient else "user"
    return kind, user.id, user.clinic_id


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def record(action: str, *, clinic_id: int | None = None, patient_id: int | None = None,
           target_type: str | None = None, target_id: object = None,
           old: Mapping | None = None, new: Mapping | None = None,
           detail: str | None = None, actor: tuple[str, int | None] | None = None) -> None:
    """Write an audit event in the current transaction; it commits (or not) with the request.

    A plain INSERT rather than an ORM object: every read and write of patient data lands
    here, and the event is never changed or read back within the request.
    """
    _INSERT.execute(_values(action, clinic_id=clinic_id, patient_id=patient_id,
                            target_type=target_type, target_id=target_id, old=old, new=new,
                            detail=detail, actor=actor))


def prepare(action: str, *, clinic_id: int | None = None, patient_id: int | None = None,
            target_type: str | None = None, old: Mapping | None = None,
            new: Mapping | None = None, detail: str | None = None) -> PreparedRows:
    """An event about a row not inserted yet: everything is ready now, and
    ``.insert(str(target_id))`` writes it once the row (and its id) exists."""
    return _INSERT.prepare([_values(action, clinic_id=clinic_id, patient_id=patient_id,
                                    target_type=target_type, target_id=None, old=old, new=new,
                                    detail=detail, actor=None)], later="target_id")


def _values(action: str, *, clinic_id, patient_id, target_type, target_id, old, new, detail,
            actor) -> dict:
    kind, actor_id, actor_clinic = _actor()
    if actor is not None:
        kind, actor_id = actor
    return dict(
        at=utcnow(),
        clinic_id=clinic_id if clinic_id is not None else actor_clinic,
        actor_kind=kind,
        actor_id=actor_id,
        action=action,
        patient_id=patient_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        old=_jsonable(old),
        new=_jsonable(new),
        ip=request.remote_addr if has_request_context() else None,
        detail=detail[:500] if detail else None,
    )


def changes(obj, fields: Mapping[str, object]) -> tuple[dict, dict]:
    """Apply ``fields`` to ``obj`` and return (old, new) for the ones that changed."""
    old, new = {}, {}
    for name, value in fields.items():
        before = getattr(obj, name)
        if before != value:
            old[name], new[name] = before, value
            setattr(obj, name, value)
    return old, new


def list_events(clinic_id: int, *, patient_id: int | None = None, action: str | None = None,
                actor_kind: str | None = None, since=None, until=None, limit: int = 100,
                before_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor_kind:
        query = query.where(AuditEvent.actor_kind == actor_kind)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    query = query.order_by(AuditEvent.id.desc()).limit(limit)
    return list(db.session.scalars(query))
