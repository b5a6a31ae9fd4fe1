"""A clinic's schedule: which instruments are due when, relative to doses. Edits add versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import JSONType, UTCDateTime, utcnow
from ..extensions import db


class Schedule(db.Model):
    """One version of a clinic's schedule; the newest version is the one in force.

    Old versions stay, because an assessment names the version whose window judged it.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("clinic_id", "version"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: The slots as JSON (see ``schemas.DefinitionSchema``): dose slots, monthly, routine.
    definition: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
