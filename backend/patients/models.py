"""Pseudonymous patients, their invites and their open safety alerts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db

PATIENT_STATUSES = ("invited", "active", "paused", "withdrawn")


def patient_fk(table: str) -> ForeignKeyConstraint:
    """(patient_id, clinic_id) -> patients: a patient-owned row cannot name another clinic."""
    return ForeignKeyConstraint(
        ["patient_id", "clinic_id"], ["patients.id", "patients.clinic_id"],
        name=f"fk_{table}_patient_clinic", ondelete="CASCADE",
    )


class Patient(UserMixin, db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("clinic_id", "code"),
        UniqueConstraint("id", "clinic_id"),
        CheckConstraint(
            "status IN ('invited', 'active', 'paused', 'withdrawn')", name="status"
        ),
        CheckConstraint("length(code) >= 2", name="code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: The pseudonymous study code; Ebb needs no name.
    code: Mapped[str] = mapped_column(String(40))
    #: IANA zone used to show local times; elapsed hours are always computed in UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="invited")
    #: argon2id hash of the optional PIN that unlocks the app on the phone.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    clinic = relationship("Clinic")

    is_patient = True
    session_token = None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.status != "withdrawn"

    def get_id(self) -> str | None:
        return self.session_token


class Invite(db.Model):
    """A single-use, expiring enrolment link; only the token's hash is stored."""

    __tablename__ = "invites"
    __table_args__ = (patient_fk("invites"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def state(self, now: datetime) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        if self.expires_at <= now:
            return "expired"
        return "open"


class Alert(db.Model):
    """A safety alert (e.g. PHQ-9 item 9 above 0), open until a clinician acknowledges it."""

    __tablename__ = "alerts"
    __table_args__ = (patient_fk("alerts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
