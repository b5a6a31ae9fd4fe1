"""Schedules: the default every clinic starts with, versioned edits, due lists, slot checks."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..audit.service import record
from ..dbtypes import utcnow
from ..errors import ValidationProblem
from ..extensions import db
from ..instruments.service import registry
from .models import Schedule
from .slots import Dose, Slot, compute_slots, find_slot, with_states

FULL = ["nrs_pain", "nrs_fatigue", "nrs_sleep", "peg", "gad7", "phq9"]
HOUR = 60
DAY = 24 * HOUR

#: What a new clinic gets: before each dose, 40 min after, +24 h, +72 h, +7 d, +14 d, then
#: every 30 days; and weekly when no dose is near. Windows are minutes before/after due.
DEFAULT_DEFINITION = {
    "dose_slots": [
        {"id": "baseline", "offset_minutes": 0, "before_minutes": 12 * HOUR,
         "after_minutes": 30, "instruments": FULL},
        {"id": "min40", "offset_minutes": 40, "before_minutes": 10,
         "after_minutes": 2 * HOUR, "instruments": ["side_effects", "nrs_pain"]},
        {"id": "h24", "offset_minutes": DAY, "before_minutes": 4 * HOUR,
         "after_minutes": 8 * HOUR, "instruments": ["nrs_pain", "nrs_fatigue", "nrs_sleep", "peg"]},
        {"id": "h72", "offset_minutes": 3 * DAY, "before_minutes": 12 * HOUR,
         "after_minutes": 12 * HOUR, "instruments": FULL},
        {"id": "d7", "offset_minutes": 7 * DAY, "before_minutes": DAY,
         "after_minutes": DAY, "instruments": FULL},
        {"id": "d14", "offset_minutes": 14 * DAY, "before_minutes": 2 * DAY,
         "after_minutes": 2 * DAY, "instruments": FULL + ["pgic"]},
    ],
    "monthly": {"start_days": 44, "every_days": 30, "count": 6, "before_minutes": 3 * DAY,
                "after_minutes": 3 * DAY, "instruments": FULL + ["pgic"]},
    "routine": {"every_days": 7, "quiet_days": 3, "before_minutes": 0,
                "after_minutes": 3 * DAY, "instruments": FULL},
}

#: A missed slot stays on the patient's "due now" list this long after its window closed:
#: a late answer is still welcome (and marked out of window).
LATE_GRACE = timedelta(days=2)
#: Done slots shown on the home screen.
DONE_SHOWN = timedelta(days=14)


def validate_definition(definition: dict) -> dict:
    problems = []
    ids = [s["id"] for s in definition.get("dose_slots", [])]
    for i, slot_id in enumerate(ids):
        if ids.index(slot_id) != i:
            problems.append({"field": f"definition.dose_slots.{i}.id", "reason": "repeated"})
    known = registry()
    parts = [(f"dose_slots.{i}", s) for i, s in enumerate(definition.get("dose_slots", []))]
    parts += [(name, definition[name]) for name in ("monthly", "routine") if definition.get(name)]
    for where, part in parts:
        for j, instrument_id in enumerate(part["instruments"]):
            if instrument_id not in known:
                problems.append({"field": f"definition.{where}.instruments.{j}",
                                 "reason": f"unknown instrument {instrument_id!r}"})
    if problems:
        raise ValidationProblem("The schedule cannot be saved.", errors=problems)
    return definition


def current(clinic_id: int) -> Schedule | None:
    return db.session.scalar(select(Schedule).where(Schedule.clinic_id == clinic_id)
                             .order_by(Schedule.version.desc()).limit(1))


def save(clinic_id: int, definition: dict, user=None) -> Schedule:
    """Store a new version; the old ones stay, because stored answers refer to them."""
    validate_definition(definition)
    last = db.session.scalar(select(func.max(Schedule.version))
                             .where(Schedule.clinic_id == clinic_id)) or 0
    schedule = Schedule(clinic_id=clinic_id, version=last + 1, definition=definition,
                        created_by_id=user.id if user else None)
    db.session.add(schedule)
    db.session.flush()
    record("schedule.update" if last else "schedule.create", clinic_id=clinic_id,
           target_type="schedule", target_id=schedule.id, new={"version": schedule.version})
    return schedule


def install_default(clinic) -> Schedule:
    """Give a new clinic the default schedule (hooked into clinic creation)."""
    import copy

    return save(clinic.id, copy.deepcopy(DEFAULT_DEFINITION))


def _doses(patient) -> list[Dose]:
    from ..treatments.models import Treatment

    rows = db.session.execute(select(Treatment.id, Treatment.given_at)
                              .where(Treatment.patient_id == patient.id)).all()
    return [Dose(id=tid, given_at=at) for tid, at in rows]


def _start(patient) -> datetime:
    return patient.enrolled_at or patient.created_at


def _answered(patient) -> dict[str, set[str]]:
    from ..assessments.models import Assessment

    rows = db.session.execute(select(Assessment.slot_key, Assessment.instrument_id)
                              .where(Assessment.patient_id == patient.id,
                                     Assessment.slot_key.is_not(None))).all()
    out: dict[str, set[str]] = defaultdict(set)
    for key, instrument_id in rows:
        out[key].add(instrument_id)
    return out


def patient_slots(patient, now: datetime) -> tuple[Schedule | None, list[Slot]]:
    schedule = current(patient.clinic_id)
    if schedule is None:
        return None, []
    slots = compute_slots(schedule.definition, _doses(patient), start=_start(patient), now=now)
    return schedule, with_states(slots, _answered(patient), now)


def due_list(patient, now: datetime | None = None) -> dict:
    """Home screen: due now (incl. recently missed), coming up, and recently done."""
    now = now or utcnow()
    schedule, slots = patient_slots(patient, now)
    due = [s for s in slots if s.state == "due"
           or (s.state == "missed" and now - s.closes_at <= LATE_GRACE)]
    upcoming = [s for s in slots if s.state == "upcoming"]
    done = [s for s in slots if s.state == "done" and now - s.due_at <= DONE_SHOWN]
    record("schedule.due_list", clinic_id=patient.clinic_id, patient_id=patient.id,
           target_type="patient", target_id=patient.id)
    return {"now": now, "timezone": patient.timezone,
            "schedule_version": schedule.version if schedule else None,
            "due": [s.to_dict() for s in due], "upcoming": [s.to_dict() for s in upcoming],
            "done": [s.to_dict() for s in reversed(done)]}


def resolve(patient, slot_key: str | None, instrument_id: str, completed_at: datetime) -> dict:
    """The server's verdict on the slot an answer names: its window and whether it came inside.

    Returns the assessment columns to store (all None without a slot key).
    """
    empty = {"slot_key": None, "in_window": None, "schedule_id": None,
             "window_opens_at": None, "window_closes_at": None}
    if not slot_key:
        return empty
    schedule = current(patient.clinic_id)
    slot = None
    if schedule is not None:
        slot = find_slot(schedule.definition, _doses(patient), slot_key, start=_start(patient))
    if slot is None:
        raise ValidationProblem("Your schedule has no such slot.",
                                errors=[{"field": "slot_key", "reason": "unknown slot"}])
    if instrument_id not in slot.instruments:
        raise ValidationProblem(f"{instrument_id} is not due in this slot.",
                                errors=[{"field": "slot_key",
                                         "reason": f"slot does not include {instrument_id}"}])
    return {"slot_key": slot.key, "in_window": slot.contains(completed_at),
            "schedule_id": schedule.id, "window_opens_at": slot.opens_at,
            "window_closes_at": slot.closes_at}
