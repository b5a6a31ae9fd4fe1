"""Clinician sign-in (password, lock-out, optional TOTP) and account management."""

from __future__ import annotations

import math
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from ..audit.service import record
from ..dbtypes import utcnow
from ..errors import Conflict, NotFound, Problem, TooManyRequests, Unauthorized, ValidationProblem
from ..extensions import db
from . import sessions
from .models import User
from .passwords import (
    PasswordPolicyError,
    check_policy,
    dummy_verify,
    hash_password,
    verify_password,
)


class TotpRequired(Problem):
    status = 401
    title = "Second factor required"
    slug = "totp-required"


def _locked(user: User, now) -> TooManyRequests:
    seconds = max(1, math.ceil((user.locked_until - now).total_seconds()))
    return TooManyRequests(
        f"Too many failed sign-ins. This account is locked for {math.ceil(seconds / 60)} more "
        "minutes.", headers={"Retry-After": str(seconds)},
    )


def _fail(user: User | None, email: str, reason: str) -> Unauthorized:
    """Count a failure, lock after too many, record it, and commit that much regardless."""
    now = utcnow()
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= int(current_app.config["LOGIN_MAX_FAILURES"]):
            minutes = int(current_app.config["LOGIN_LOCK_MINUTES"])
            user.locked_until = now + timedelta(minutes=minutes)
    record("auth.login_failed", clinic_id=user.clinic_id if user else None,
           target_type="user", target_id=user.id if user else None,
           detail=f"{reason}; email={email}", actor=("anonymous", None))
    db.session.commit()  # the failure count and its audit must survive the 401
    return Unauthorized("Email or password is wrong.")


def login(email: str, password: str, totp_code: str | None) -> User:
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        record("auth.login_refused_locked", clinic_id=user.clinic_id, target_type="user",
               target_id=user.id, actor=("anonymous", None))
        db.session.commit()
        raise _locked(user, now)
    if user is None:
        dummy_verify(password)
        raise _fail(None, email, "unknown email")
    if not verify_password(user.password_hash, password):
        raise _fail(user, email, "wrong password")
    if not user.active:
        raise _fail(user, email, "account disabled")
    if user.totp_enabled:
        if not totp_code:
            raise TotpRequired("Enter the 6-digit code from your authenticator app.")
        if not verify_totp(user, totp_code):
            raise _fail(user, email, "wrong second-factor code")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    sessions.start(user)
    record("auth.login", clinic_id=user.clinic_id, target_type="user", target_id=user.id,
           actor=("user", user.id))
    return user


def verify_totp(user: User, code: str) -> bool:
    """Accept the current code (or one step either side) once; a replayed code is refused."""
    if not user.totp_secret:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    step_now = totp.timecode(now)
    for step in (step_now, step_now - 1, step_now + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code.strip()):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def begin_totp(user: User) -> dict:
    """Create a fresh secret (not yet enforced) and return the otpauth URI and its QR code."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    user.totp_last_step = None
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name="Ebb")
    record("auth.totp_setup", target_type="user", target_id=user.id)
    return {"secret": user.totp_secret, "otpauth_uri": uri, "qr_svg": qr_svg(uri)}


def enable_totp(user: User, code: str) -> None:
    if not user.totp_secret or not verify_totp(user, code):
        raise ValidationProblem("That code does not match.",
                                errors=[{"field": "code", "reason": "does not match"}])
    user.totp_enabled = True
    record("auth.totp_enabled", target_type="user", target_id=user.id)


def disable_totp(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        raise ValidationProblem("Password is wrong.",
                                errors=[{"field": "password", "reason": "is wrong"}])
    user.totp_enabled = False
    user.totp_secret = None
    record("auth.totp_disabled", target_type="user", target_id=user.id)


def qr_svg(data: str) -> str:
    return segno.make(data, error="m").svg_inline(scale=4, dark="#111", light="#fff")


def create_user(clinic_id: int, email: str, password: str, role: str = "clinician",
                name: str = "") -> User:
    email = email.strip().lower()
    try:
        check_policy(password)
    except PasswordPolicyError as exc:
        raise ValidationProblem(f"Password {exc}.",
                                errors=[{"field": "password", "reason": str(exc)}]) from None
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email exists.",
                       errors=[{"field": "email", "reason": "already in use"}])
    user = User(clinic_id=clinic_id, email=email, password_hash=hash_password(password),
                role=role, name=name, active=True, failed_logins=0)
    db.session.add(user)
    db.session.flush()
    record("user.create", clinic_id=clinic_id, target_type="user", target_id=user.id,
           new={"email": email, "role": role})
    return user


def get_user(clinic_id: int, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.clinic_id != clinic_id:
        raise NotFound("No such user in this clinic.")
    return user


def list_users(clinic_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.clinic_id == clinic_id)
                                   .order_by(User.email)))


def set_active(user: User, active: bool, *, by: User) -> None:
    """Disable (ending every session) or re-enable an account, as admin ``by``. Nobody
    disables their own account: a clinic would otherwise lose its last admin (only an admin
    disables, so there is always one left)."""
    if not active and user.id == by.id:
        raise Conflict("You cannot disable your own account; another admin can.",
                       errors=[{"field": "active", "reason": "cannot disable your own account"}])
    old = user.active
    user.active = active
    if not active:
        sessions.revoke_all(user_id=user.id)
    record("user.update", target_type="user", target_id=user.id, old={"active": old},
           new={"active": active})


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise ValidationProblem("Current password is wrong.",
                                errors=[{"field": "current_password", "reason": "is wrong"}])
    try:
        check_policy(new)
    except PasswordPolicyError as exc:
        raise ValidationProblem(f"Password {exc}.",
                                errors=[{"field": "new_password", "reason": str(exc)}]) from None
    user.password_hash = hash_password(new)
    record("user.password_changed", target_type="user", target_id=user.id)
