"""Response rules: named, versioned definitions; editing one adds a version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import JSONType, UTCDateTime, utcnow
from ..extensions import db


class Rule(db.Model):
    __tablename__ = "rules"
    __table_args__ = (
        UniqueConstraint("clinic_id", "key", "version"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    #: Stable identifier shared by every version of one rule (a slug).
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))
    instrument_id: Mapped[str] = mapped_column(String(64))
    score_id: Mapped[str] = mapped_column(String(64))
    #: The full rule (baseline, criteria, window, anchor) as plain data.
    definition: Mapped[dict] = mapped_column(JSONType)
    #: Only the newest version of a key is current; older ones stay for reproducibility.
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    preset: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
