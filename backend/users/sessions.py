"""Server-side sessions for clinicians and patients behind Flask-Login.

The signed cookie carries only a random token; the ``auth_sessions`` row decides whether it is
still good (not revoked, not expired, not idle past the limit, user still active).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from functools import cache

from flask import current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user, logout_user
from itsdangerous import BadSignature
from sqlalchemy import bindparam, select, update

from ..clinics.models import Clinic
from ..database import PlainSelect
from ..dbtypes import utcnow
from ..extensions import db, login_manager
from ..patients.models import Patient
from .models import AuthSession, User

#: Touch ``last_seen_at`` at most this often, so reads do not all become writes.
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(principal: User | Patient) -> str:
    """Begin a new session (new token, new cookie contents: no fixation) for a principal."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    cfg = current_app.config
    if principal.is_patient:
        lifetime = timedelta(days=int(cfg["PATIENT_SESSION_DAYS"]))
        row = AuthSession(kind="patient", patient_id=principal.id, pin_ok_at=now)
    else:
        lifetime = timedelta(hours=12)
        row = AuthSession(kind="user", user_id=principal.id)
    row.token_hash = token_hash(token)
    row.clinic_id = principal.clinic_id
    row.created_at = row.last_seen_at = now
    row.expires_at = now + lifetime
    row.ip = request.remote_addr
    db.session.add(row)
    session.clear()
    principal.session_token = token
    principal.pin_locked = False
    login_user(principal)
    session.permanent = True
    session["csrf"] = secrets.token_urlsafe(32)
    # Which loader reads this session back: a patient's takes the lean path (see below).
    session["kind"] = "patient" if principal.is_patient else "user"
    return token


def current_row() -> AuthSession | None:
    token = session.get("_user_id")
    if not token:
        return None
    return db.session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def end() -> None:
    """Log out: revoke the server row so the old cookie is refused if replayed."""
    row = current_row()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    logout_user()
    session.clear()


def revoke_all(*, user_id: int | None = None, patient_id: int | None = None) -> int:
    query = update(AuthSession).where(AuthSession.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(AuthSession.user_id == user_id)
    else:
        query = query.where(AuthSession.patient_id == patient_id)
    return db.session.execute(query.values(revoked_at=utcnow())).rowcount


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@cache
def _principal_query():
    """One query for the session and whoever it belongs to, built once: it runs per request."""
    return (select(AuthSession, User, Patient)
            .outerjoin(User, User.id == AuthSession.user_id)
            .outerjoin(Patient, Patient.id == AuthSession.patient_id)
            .where(AuthSession.token_hash == bindparam("token_hash")))


@login_manager.user_loader
def load_principal(token: str):
    if session.get("kind") == "patient":
        return _load_patient(token)
    return _load_any(token)


def _load_any(token: str):
    """A clinician's session (or one started before sessions said their kind), as ORM objects."""
    found = db.session.execute(_principal_query(), {"token_hash": token_hash(token)}).first()
    if found is None:
        return None
    row, user, patient = found
    now = utcnow()
    if _ended(row.revoked_at, row.expires_at, now):
        return None
    cfg = current_app.config
    if row.kind == "user":
        principal = user
        if principal is None or not principal.active:
            return None
        if now - row.last_seen_at > timedelta(minutes=int(cfg["CLINICIAN_IDLE_MINUTES"])):
            row.revoked_at = now
            db.session.commit()  # the idle session is over whatever this request does
            return None
        principal.pin_locked = False
    else:
        principal = patient
        if principal is None or principal.status == "withdrawn":
            return None
        pin_ok_at = _pin_ok_at(principal.pin_hash, row.pin_ok_at, row.last_seen_at, now)
        if pin_ok_at != row.pin_ok_at:
            row.pin_ok_at = pin_ok_at
        principal.pin_locked = bool(principal.pin_hash) and pin_ok_at is None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    principal.session_token = token
    return principal


def _ended(revoked_at, expires_at, now) -> bool:
    """Whether a session row no longer admits anyone (both loaders ask)."""
    return revoked_at is not None or expires_at <= now


def _pin_ok_at(pin_hash, pin_ok_at, last_seen_at, now):
    """When a patient last proved their PIN, as this request sees it: forgotten once the app
    has been idle past the PIN limit (both loaders ask)."""
    idle = timedelta(minutes=int(current_app.config["PATIENT_PIN_IDLE_MINUTES"]))
    if pin_hash and pin_ok_at is not None and now - last_seen_at > idle:
        return None
    return pin_ok_at


_PATIENTS, _SESSIONS = Patient.__table__, AuthSession.__table__
_PATIENT_COLUMNS = tuple(column.key for column in _PATIENTS.c)


@cache
def _patient_query() -> PlainSelect:
    """A patient's session row and the patient, as plain columns: built once, it runs for
    every request from a phone."""
    return PlainSelect(
        select(_SESSIONS.c.id.label("session_id"), _SESSIONS.c.revoked_at,
               _SESSIONS.c.expires_at, _SESSIONS.c.last_seen_at, _SESSIONS.c.pin_ok_at,
               *_PATIENTS.c)
        .select_from(_SESSIONS)
        .join(_PATIENTS, _PATIENTS.c.id == _SESSIONS.c.patient_id)
        .where(_SESSIONS.c.token_hash == bindparam("token_hash"),
               _SESSIONS.c.kind == "patient"))


def _load_patient(token: str) -> SignedInPatient | None:
    """The same checks as `_load_any` for a patient, without building ORM objects: on the
    submission path the ORM load of the session row and the patient was a tenth of the CPU.
    Changes to the session row are plain UPDATEs in the request's transaction (committed or
    rolled back with it, as the ORM's flush was)."""
    found = _patient_query().first(token_hash=token_hash(token))
    if found is None:
        return None
    now = utcnow()
    if _ended(found["revoked_at"], found["expires_at"], now) or found["status"] == "withdrawn":
        return None
    changes = {}
    last_seen_at = found["last_seen_at"]
    pin_ok_at = _pin_ok_at(found["pin_hash"], found["pin_ok_at"], last_seen_at, now)
    if pin_ok_at != found["pin_ok_at"]:
        changes["pin_ok_at"] = pin_ok_at
    if now - last_seen_at > TOUCH_EVERY:
        changes["last_seen_at"] = now
    if changes:
        db.session.execute(update(AuthSession).where(AuthSession.id == found["session_id"])
                           .values(**changes))
    return SignedInPatient({key: found[key] for key in _PATIENT_COLUMNS}, session_token=token,
                           pin_locked=bool(found["pin_hash"]) and pin_ok_at is None)


class SignedInPatient:
    """The signed-in patient as the session loader read them: the patient's columns, read-only.

    This is ``current_user`` for a patient's session. It answers what access checks, the audit
    trail and the submission path read (``id``, ``clinic_id``, ``status``, ``pin_hash``...)
    without an ORM object; ``record()`` gives the ORM ``Patient`` for anything that changes
    the patient or follows its relationships (``access.current_patient`` returns that).
    """

    __slots__ = (*_PATIENT_COLUMNS, "session_token", "pin_locked")
    is_patient = True
    is_authenticated = True
    is_anonymous = False

    def __init__(self, columns: dict, *, session_token: str, pin_locked: bool) -> None:
        for key, value in columns.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "session_token", session_token)
        object.__setattr__(self, "pin_locked", pin_locked)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only; change the patient "
                             "through access.current_patient()")

    def __repr__(self) -> str:
        return f"<SignedInPatient {self.id}>"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.status != "withdrawn"

    def get_id(self) -> str:
        return self.session_token

    @property
    def clinic(self) -> Clinic:
        return db.session.get(Clinic, self.clinic_id)

    def record(self) -> Patient:
        """The ORM patient (from the session's identity map after the first call), carrying
        the session's token and PIN state as the loader's ORM path sets them."""
        patient = db.session.get(Patient, self.id)
        patient.session_token, patient.pin_locked = self.session_token, self.pin_locked
        return patient


_SCALARS = (str, int, float, bool, type(None))


class VerifiedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, remembering the cookies already verified.

    A phone sends the same cookie with every request, and verifying it again (HMAC key
    derivation, base64, zlib, JSON) costs about a twentieth of a submission's CPU. A cookie
    that verified once under the current keys verifies again, so each worker remembers the
    payload and signing time of the last few thousand it has seen. What is not skipped: the
    age limit, checked on every request as itsdangerous checks it, and a fresh copy of the
    data per request. Payloads holding anything but plain scalars are not remembered (a
    shared nested list could be changed by one request under another).
    """

    #: Cookies remembered per worker; the memory is cleared when it is full.
    SIZE = 4096

    def __init__(self) -> None:
        self._verified: dict[tuple, tuple[dict, float]] = {}

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        key = (value, app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        known = self._verified.get(key)
        if known is None:
            try:
                data, signed = self.get_signing_serializer(app).loads(value,
                                                                      return_timestamp=True)
            except BadSignature:
                return self.session_class()
            known = (data, signed.timestamp())
            if isinstance(data, dict) and all(isinstance(v, _SCALARS) for v in data.values()):
                if len(self._verified) >= self.SIZE:
                    self._verified.clear()
                self._verified[key] = known
        data, signed_at = known
        age = time.time() - signed_at
        if not 0 <= age <= app.permanent_session_lifetime.total_seconds():
            return self.session_class()  # expired (or signed in the future): no session
        return self.session_class(data)
