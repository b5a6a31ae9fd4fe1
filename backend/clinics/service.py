"""Creating and finding clinics."""

from __future__ import annotations

from sqlalchemy import select

from ..errors import Conflict, NotFound
from ..extensions import db
from .models import Clinic


def create_clinic(*, name: str, slug: str, timezone: str = "UTC") -> Clinic:
    from ..patients.service import check_timezone

    check_timezone(timezone)
    if db.session.scalar(select(Clinic.id).where(Clinic.slug == slug)) is not None:
        raise Conflict(f"A clinic with slug {slug!r} exists.")
    clinic = Clinic(name=name, slug=slug, timezone=timezone)
    db.session.add(clinic)
    db.session.flush()
    _after_create(clinic)
    return clinic


def _after_create(clinic: Clinic) -> None:
    """Give a new clinic the preset response rules of the instruments it can use, and the
    default schedule."""
    from ..rules.service import install_presets
    from ..schedules.service import install_default

    install_presets(clinic)
    install_default(clinic)


def clinic_by_slug(slug: str) -> Clinic:
    clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug))
    if clinic is None:
        raise NotFound(f"No clinic {slug!r}.")
    return clinic
