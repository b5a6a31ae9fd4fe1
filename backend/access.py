"""Who is calling: decorators that admit clinicians, admins or patients, and nobody else."""

from __future__ import annotations

from functools import wraps

from flask_login import current_user

from .errors import Forbidden, Problem, Unauthorized
from .users.sessions import SignedInPatient


class PinRequired(Problem):
    status = 401
    title = "PIN required"
    slug = "pin-required"


def current_principal():
    """The signed-in clinician or patient, or 401."""
    user = current_user._get_current_object()
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized("Sign in first.")
    return user


def clinician_required(view):
    """Clinicians and clinic admins."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = current_principal()
        if user.is_patient:
            raise Forbidden("This needs a clinician account.")
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        user = current_principal()
        if user.is_patient or not user.is_admin:
            raise Forbidden("This needs a clinic admin account.")
        return view(*args, **kwargs)

    return wrapper


def patient_required(view):
    """A patient with an unlocked session (PIN proved recently when they set one)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = current_principal()
        if not user.is_patient:
            raise Forbidden("This is for patients signed in from an invite.")
        if getattr(user, "pin_locked", False):
            raise PinRequired("Enter your PIN to continue.")
        return view(*args, **kwargs)

    return wrapper


def current_clinician():
    user = current_principal()
    if user.is_patient:
        raise Forbidden("This needs a clinician account.")
    return user


def current_patient():
    """The signed-in patient as an ORM ``Patient`` (to change it, or follow relationships).

    Reading only? ``current_principal()`` gives the session loader's read-only
    ``SignedInPatient`` without another query."""
    user = current_principal()
    if not user.is_patient:
        raise Forbidden("This is for patients signed in from an invite.")
    return user.record() if isinstance(user, SignedInPatient) else user
