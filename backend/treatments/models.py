"""Doses given to a patient: the anchors that response rules are measured from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db
from ..patients.models import patient_fk


class Treatment(db.Model):
    __tablename__ = "treatments"
    __table_args__ = (
        patient_fk("treatments"),
        CheckConstraint("dose >= 0", name="dose"),
        CheckConstraint("session_number IS NULL OR session_number >= 1", name="session"),
        CheckConstraint("period IS NULL OR period >= 1", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(Integer, index=True)
    drug: Mapped[str] = mapped_column(String(120))
    dose: Mapped[float] = mapped_column(Float)
    dose_unit: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(32), default="IV")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Doses sharing a course label form one course (e.g. a 5-day induction).
    course: Mapped[str | None] = mapped_column(String(64))
    session_number: Mapped[int | None] = mapped_column(Integer)
    #: Crossover trials: period (1, 2, ...) and arm (e.g. "ketamine", "midazolam").
    period: Mapped[int | None] = mapped_column(Integer)
    arm: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
