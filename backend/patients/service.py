"""Patients: creation with a pseudonymous code, invites, enrolment, PIN, safety alerts."""

from __future__ import annotations

import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, request
from sqlalchemy import func, select, update

from ..audit.service import changes, record
from ..dbtypes import utcnow
from ..errors import Conflict, Gone, NotFound, Problem, ValidationProblem
from ..extensions import db
from ..users import sessions
from ..users.passwords import hash_password, verify_password
from ..users.service import qr_svg
from .models import Alert, Invite, Patient

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U


class InvalidInvite(Problem):
    status = 404
    title = "Invite not valid"
    slug = "invite-invalid"


def check_timezone(name: str, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationProblem(f"Unknown time zone {name!r}.",
                                errors=[{"field": field, "reason": "unknown IANA time zone"}]) \
            from None
    return name


def new_code() -> str:
    return "P-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def create_patient(user, *, code: str | None = None, timezone: str | None = None,
                   language: str = "en") -> Patient:
    code = (code or new_code()).strip()
    tz = check_timezone(timezone or user.clinic.timezone or "UTC")
    exists = db.session.scalar(select(Patient.id).where(Patient.clinic_id == user.clinic_id,
                                                        Patient.code == code))
    if exists is not None:
        raise Conflict("A patient with this code exists in your clinic.",
                       errors=[{"field": "code", "reason": "already in use"}])
    patient = Patient(clinic_id=user.clinic_id, code=code, timezone=tz, language=language,
                      status="invited", created_by_id=user.id)
    db.session.add(patient)
    db.session.flush()
    record("patient.create", patient_id=patient.id, target_type="patient", target_id=patient.id,
           new={"code": code, "timezone": tz})
    return patient


def get_patient(clinic_id: int, patient_id: int, *, audit: bool = True) -> Patient:
    """The clinic's patient or 404: another clinic's patient is indistinguishable from none."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != clinic_id:
        raise NotFound("No such patient.")
    if audit:
        record("patient.read", patient_id=patient.id, target_type="patient", target_id=patient.id)
    return patient


def update_patient(patient: Patient, fields: dict) -> Patient:
    if "timezone" in fields:
        check_timezone(fields["timezone"])
    old, new = changes(patient, fields)
    if new.get("status") == "withdrawn":
        sessions.revoke_all(patient_id=patient.id)
    if new:
        record("patient.update", patient_id=patient.id, target_type="patient",
               target_id=patient.id, old=old, new=new)
    return patient


def list_patients(clinic_id: int, *, q: str | None = None, status: str | None = None) -> list:
    """Patients with their open alert count and last answer time, alerts first."""
    from ..assessments.models import Assessment

    last = (select(Assessment.patient_id, func.max(Assessment.completed_at).label("last_at"))
            .where(Assessment.clinic_id == clinic_id).group_by(Assessment.patient_id).subquery())
    alerts = (select(Alert.patient_id, func.count(Alert.id).label("open_alerts"))
              .where(Alert.clinic_id == clinic_id, Alert.acknowledged_at.is_(None))
              .group_by(Alert.patient_id).subquery())
    query = (select(Patient, last.c.last_at, func.coalesce(alerts.c.open_alerts, 0))
             .outerjoin(last, last.c.patient_id == Patient.id)
             .outerjoin(alerts, alerts.c.patient_id == Patient.id)
             .where(Patient.clinic_id == clinic_id))
    if q:
        query = query.where(Patient.code.ilike(f"%{q.strip()}%"))
    if status:
        query = query.where(Patient.status == status)
    query = query.order_by(func.coalesce(alerts.c.open_alerts, 0).desc(), Patient.code)
    rows = db.session.execute(query).all()
    record("patient.list", detail=f"{len(rows)} patients; q={q or ''}; status={status or ''}")
    out = []
    for patient, last_at, open_alerts in rows:
        patient.last_answer_at = last_at
        patient.open_alerts = open_alerts
        out.append(patient)
    return out


def invite_url(token: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
    return base.rstrip("/") + "/join#" + token


def issue_invite(patient: Patient, user) -> dict:
    """Revoke the patient's open invites and create a new single-use one."""
    now = utcnow()
    db.session.execute(update(Invite)
                       .where(Invite.patient_id == patient.id, Invite.used_at.is_(None),
                              Invite.revoked_at.is_(None))
                       .values(revoked_at=now))
    token = secrets.token_urlsafe(24)
    invite = Invite(clinic_id=patient.clinic_id, patient_id=patient.id,
                    token_hash=sessions.token_hash(token), created_at=now,
                    expires_at=now + timedelta(days=int(current_app.config["INVITE_DAYS"])),
                    created_by_id=user.id)
    db.session.add(invite)
    db.session.flush()
    record("invite.create", patient_id=patient.id, target_type="invite", target_id=invite.id,
           new={"expires_at": invite.expires_at})
    url = invite_url(token)
    return {"id": invite.id, "url": url, "token": token, "expires_at": invite.expires_at,
            "state": "open", "qr_svg": qr_svg(url)}


def list_invites(patient: Patient) -> list[Invite]:
    return list(db.session.scalars(select(Invite).where(Invite.patient_id == patient.id)
                                   .order_by(Invite.created_at.desc())))


def revoke_invite(patient: Patient, invite_id: int) -> Invite:
    invite = db.session.get(Invite, invite_id)
    if invite is None or invite.patient_id != patient.id:
        raise NotFound("No such invite.")
    if invite.revoked_at is None and invite.used_at is None:
        invite.revoked_at = utcnow()
        record("invite.revoke", patient_id=patient.id, target_type="invite", target_id=invite.id)
    return invite


def check_pin(pin: str | None) -> None:
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationProblem("The PIN must be 4 to 8 digits.",
                                errors=[{"field": "pin", "reason": "must be 4 to 8 digits"}])


def enroll(token: str, pin: str | None) -> Patient:
    """Use an invite: one time only, before it expires; starts a long-lived patient session."""
    check_pin(pin)
    invite = db.session.scalar(select(Invite).where(
        Invite.token_hash == sessions.token_hash(token)).with_for_update())
    now = utcnow()
    if invite is None:
        raise InvalidInvite("This invite link is not valid. Ask your clinic for a new one.")
    state = invite.state(now)
    if state != "open":
        messages = {
            "used": "This invite link has already been used. Ask your clinic for a new one.",
            "expired": "This invite link has expired. Ask your clinic for a new one.",
            "revoked": "This invite link was withdrawn. Ask your clinic for a new one.",
        }
        raise Gone(messages[state], slug=f"invite-{state}", title="Invite not usable")
    patient = db.session.get(Patient, invite.patient_id)
    if patient.status == "withdrawn":
        raise Gone("This invite link is no longer valid.", slug="invite-revoked",
                   title="Invite not usable")
    # Mark used with a guarded UPDATE so two racing enrolments cannot both succeed.
    used = db.session.execute(update(Invite).where(Invite.id == invite.id,
                                                   Invite.used_at.is_(None))
                              .values(used_at=now)).rowcount
    if used != 1:
        raise Gone("This invite link has already been used.", slug="invite-used",
                   title="Invite not usable")
    patient.status = "active"
    patient.enrolled_at = patient.enrolled_at or now
    patient.pin_hash = hash_password(pin) if pin else None
    sessions.start(patient)
    record("patient.enroll", clinic_id=patient.clinic_id, patient_id=patient.id,
           target_type="invite", target_id=invite.id, actor=("patient", patient.id),
           new={"pin": bool(pin)})
    return patient


def unlock(patient: Patient, pin: str) -> None:
    row = sessions.current_row()
    if not patient.pin_hash:
        return
    if row.pin_failures >= 5:
        sessions.end()
        record("patient.pin_lockout", clinic_id=patient.clinic_id, patient_id=patient.id,
               actor=("patient", patient.id))
        db.session.commit()
        raise Gone("Too many wrong PINs. Open the invite link from your clinic again.",
                   slug="pin-lockout", title="Session ended")
    if not verify_password(patient.pin_hash, pin):
        row.pin_failures += 1
        db.session.commit()
        raise ValidationProblem("That PIN is not right.",
                                errors=[{"field": "pin", "reason": "does not match"}])
    row.pin_failures = 0
    row.pin_ok_at = row.last_seen_at = utcnow()
    patient.pin_locked = False


def open_alerts(clinic_id: int, patient_id: int | None = None) -> list[Alert]:
    query = select(Alert).where(Alert.clinic_id == clinic_id, Alert.acknowledged_at.is_(None))
    if patient_id is not None:
        query = query.where(Alert.patient_id == patient_id)
    return list(db.session.scalars(query.order_by(Alert.created_at)))


def list_alerts(patient: Patient) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.patient_id == patient.id)
                                   .order_by(Alert.created_at.desc())))


def acknowledge_alert(patient: Patient, alert_id: int, user, note: str | None) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.patient_id != patient.id:
        raise NotFound("No such alert.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by_id = user.id
        alert.note = note
        record("alert.acknowledge", patient_id=patient.id, target_type="alert",
               target_id=alert.id, new={"note": note})
    return alert
