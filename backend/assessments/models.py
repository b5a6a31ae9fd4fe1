"""Completed questionnaires, stored raw with their derived scores; never updated in place."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import JSONType, UTCDateTime, utcnow
from ..extensions import db
from ..patients.models import patient_fk

SOURCES = ("patient", "clinician", "import")


class Assessment(db.Model):
    __tablename__ = "assessments"
    __table_args__ = (
        patient_fk("assessments"),
        UniqueConstraint("patient_id", "client_uuid"),
        CheckConstraint("source IN ('patient', 'clinician', 'import')", name="source"),
        CheckConstraint("supersedes_id IS NULL OR supersedes_id <> id", name="supersedes_self"),
        Index("ix_assessments_patient_instrument_time", "patient_id", "instrument_id",
              "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(Integer)
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    #: Version of the scoring engine that derived ``scores``.
    scoring_version: Mapped[str] = mapped_column(String(16))
    #: The answers exactly as received: {item_id: value}.
    answers: Mapped[dict] = mapped_column(JSONType)
    #: The scoring result: scores, bands, flags, completeness.
    scores: Mapped[dict] = mapped_column(JSONType)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Device capture time (UTC), as reported by the phone or the clinician.
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Server receipt time.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Client-generated UUID: a retried submission returns the first result.
    client_uuid: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(16), default="patient")
    #: A correction names the row it replaces; the replaced row stays as it was.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), unique=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The schedule slot this answer was given for, and whether it came inside its window.
    slot_key: Mapped[str | None] = mapped_column(String(120))
    #: Decided by the server from the slot's window and ``completed_at``; never by the client.
    in_window: Mapped[bool | None] = mapped_column(Boolean)
    #: The schedule version whose window judged this answer, and that window (UTC).
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"))
    window_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class ScoreValue(db.Model):
    """One derived score of one current assessment, flat for fast outcome queries.

    Derived index data: rows of a superseded assessment are removed when its correction lands.
    """

    __tablename__ = "score_values"
    __table_args__ = (
        patient_fk("score_values"),
        UniqueConstraint("assessment_id", "score_id"),
        # The value too, so a cohort's (patient, time, value) read is one index scan.
        Index("ix_score_values_series", "clinic_id", "instrument_id", "score_id", "patient_id",
              "at", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(Integer)
    instrument_id: Mapped[str] = mapped_column(String(64))
    score_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    in_window: Mapped[bool | None] = mapped_column(Boolean)
