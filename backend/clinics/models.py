"""The clinic: the tenant every other row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db

DEFAULT_CONSENT = (
    "Your clinic uses Ebb to see how your treatment is working. You are known here only by a "
    "study code. Your answers go to your care team and nobody else. You can stop at any time."
)
DEFAULT_CRISIS = (
    "If you are thinking about hurting yourself, please get help now: call your clinic, or your "
    "local emergency number. In the US, call or text 988. In the UK and Ireland, call "
    "Samaritans on 116 123."
)


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: Shown to a patient on the welcome page before they start.
    consent_text: Mapped[str] = mapped_column(Text, default=DEFAULT_CONSENT)
    #: Shown to a patient at once after a positive suicidality item.
    crisis_text: Mapped[str] = mapped_column(Text, default=DEFAULT_CRISIS)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
