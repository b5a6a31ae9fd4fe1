"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from .assessments.models import Assessment, ScoreValue
from .audit.models import AuditEvent
from .clinics.models import Clinic
from .patients.models import Alert, Invite, Patient
from .rules.models import Rule
from .schedules.models import Schedule
from .treatments.models import Treatment
from .users.models import AuthSession, User

__all__ = ["Alert", "Assessment", "AuditEvent", "AuthSession", "Clinic", "Invite", "Patient",
           "Rule", "Schedule", "ScoreValue", "Treatment", "User"]
