"""What the auth and user endpoints accept and return."""

from marshmallow import Schema, fields, validate

from ..fields import JsonBoolean
from .models import ROLES


class LoginSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    totp_code = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$"))


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    active = fields.Boolean(dump_only=True)
    totp_enabled = fields.Boolean(dump_only=True)
    clinic_id = fields.Integer(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)


class SessionSchema(Schema):
    """The caller as the server sees it, plus the CSRF token for cookie-authenticated writes."""

    kind = fields.String(required=True, metadata={"description": "user or patient"})
    csrf_token = fields.String(required=True)
    user = fields.Nested(UserSchema, allow_none=True)
    patient = fields.Dict(allow_none=True)
    pin_locked = fields.Boolean(load_default=False)


#: A new password as the document shows it; ``passwords.check_policy`` holds it to this (and
#: refuses common passwords) with its own messages.
NEW_PASSWORD = {"validate": validate.Length(max=256), "metadata": {
    "minLength": 8, "description": "8-256 characters, not one of the most common passwords"}}


class NewUserSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, **NEW_PASSWORD)
    role = fields.String(load_default="clinician", validate=validate.OneOf(ROLES))
    name = fields.String(load_default="", validate=validate.Length(max=200))


class UserUpdateSchema(Schema):
    active = JsonBoolean(required=True)


class TotpSetupSchema(Schema):
    secret = fields.String(required=True)
    otpauth_uri = fields.String(required=True)
    qr_svg = fields.String(required=True)


class TotpCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))


class PasswordSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, **NEW_PASSWORD)
