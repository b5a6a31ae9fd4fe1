"""Auth API (sign in and out, second factor) and clinic-admin user management."""

from flask import current_app
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import admin_required, clinician_required, current_clinician, current_principal
from ..audit.service import record
from ..extensions import limiter
from . import service, sessions
from .schemas import (
    LoginSchema,
    NewUserSchema,
    PasswordChangeSchema,
    PasswordSchema,
    SessionSchema,
    TotpCodeSchema,
    TotpSetupSchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in and accounts")


def session_payload(principal) -> dict:
    if principal.is_patient:
        return {"kind": "patient", "csrf_token": sessions.csrf_token(), "user": None,
                "patient": {"id": principal.id, "code": principal.code,
                            "language": principal.language, "timezone": principal.timezone,
                            "has_pin": bool(principal.pin_hash)},
                "pin_locked": bool(getattr(principal, "pin_locked", False))}
    return {"kind": "user", "csrf_token": sessions.csrf_token(), "user": principal,
            "patient": None, "pin_locked": False}


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/login")
class Login(MethodView):
    decorators = [limiter.limit(login_limit, methods=["POST"])]

    @blp.arguments(LoginSchema())
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, description="Wrong email, password or second-factor code")
    @blp.alt_response(429, description="Too many attempts; the account is locked for a while")
    def post(self, data):
        """Sign a clinician in (email, password and, once enabled, a TOTP code)."""
        user = service.login(data["email"], data["password"], data.get("totp_code"))
        return session_payload(user)


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """End the session on the server; the old cookie is refused afterwards."""
        if current_user.is_authenticated:
            kind = "patient" if current_user.is_patient else "user"
            record("auth.logout", actor=(kind, current_user.id),
                   patient_id=current_user.id if current_user.is_patient else None)
            sessions.end()
        return None


@blp.route("/auth/session")
class CurrentSession(MethodView):
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, description="Not signed in")
    def get(self):
        """Who is signed in, and the CSRF token to send as ``X-CSRF-Token`` on writes."""
        return session_payload(current_principal())


@blp.route("/auth/totp")
class Totp(MethodView):
    @clinician_required
    @blp.response(201, TotpSetupSchema)
    def post(self):
        """Start setting up a second factor: a new secret and its QR code."""
        return service.begin_totp(current_clinician())

    @clinician_required
    @blp.arguments(TotpCodeSchema())
    @blp.response(200, UserSchema)
    def put(self, data):
        """Turn the second factor on by proving a code from the new secret."""
        user = current_clinician()
        service.enable_totp(user, data["code"])
        return user

    @clinician_required
    @blp.arguments(PasswordSchema())
    @blp.response(200, UserSchema)
    def delete(self, data):
        """Turn the second factor off (needs the password)."""
        user = current_clinician()
        service.disable_totp(user, data["password"])
        return user


@blp.route("/auth/password")
class Password(MethodView):
    @clinician_required
    @blp.arguments(PasswordChangeSchema())
    @blp.response(204)
    def post(self, data):
        """Change one's own password."""
        service.change_password(current_clinician(), data["current_password"],
                                data["new_password"])


@blp.route("/users")
class Users(MethodView):
    @admin_required
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """The clinic's accounts (clinic admins only)."""
        return service.list_users(current_clinician().clinic_id)

    @admin_required
    @blp.arguments(NewUserSchema())
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a clinician or admin account in the admin's clinic."""
        return service.create_user(current_clinician().clinic_id, **data)


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @admin_required
    @blp.arguments(UserUpdateSchema())
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Disable (ending all their sessions) or re-enable an account; not one's own (409)."""
        admin = current_clinician()
        user = service.get_user(admin.clinic_id, user_id)
        service.set_active(user, data["active"], by=admin)
        return user
