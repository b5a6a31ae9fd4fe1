"""Recording and correcting doses."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from ..audit.service import changes, record
from ..dbtypes import utcnow
from ..errors import NotFound
from ..extensions import db
from .models import Treatment

FIELDS = ("drug", "dose", "dose_unit", "route", "given_at", "course", "session_number",
          "period", "arm", "notes")


def _snapshot(t: Treatment) -> dict:
    return {name: getattr(t, name) for name in FIELDS}


def _utc(data: dict) -> dict:
    if data.get("given_at") is not None:
        data = {**data, "given_at": data["given_at"].astimezone(UTC)}
    return data


def add_treatment(patient, user, data: dict) -> Treatment:
    data = _utc(data)
    treatment = Treatment(clinic_id=patient.clinic_id, patient_id=patient.id,
                          created_by_id=user.id, **{k: data[k] for k in FIELDS if k in data})
    db.session.add(treatment)
    db.session.flush()
    record("treatment.create", patient_id=patient.id, target_type="treatment",
           target_id=treatment.id, new=_snapshot(treatment))
    return treatment


def list_treatments(patient) -> list[Treatment]:
    record("treatment.list", patient_id=patient.id, target_type="patient", target_id=patient.id)
    return list(db.session.scalars(select(Treatment).where(Treatment.patient_id == patient.id)
                                   .order_by(Treatment.given_at)))


def get_treatment(patient, treatment_id: int) -> Treatment:
    treatment = db.session.get(Treatment, treatment_id)
    if treatment is None or treatment.patient_id != patient.id:
        raise NotFound("No such treatment for this patient.")
    return treatment


def correct_treatment(patient, treatment_id: int, data: dict) -> Treatment:
    """Correct a recorded dose; the audit trail keeps the old and new values."""
    treatment = get_treatment(patient, treatment_id)
    data = _utc(data)
    old, new = changes(treatment, {k: v for k, v in data.items() if k in FIELDS})
    if new:
        treatment.updated_at = utcnow()
        record("treatment.update", patient_id=patient.id, target_type="treatment",
               target_id=treatment.id, old=old, new=new)
    return treatment
