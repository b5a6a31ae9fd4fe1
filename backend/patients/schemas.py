"""What the patient, invite, enrolment and alert endpoints accept and return."""

from marshmallow import Schema, fields, validate

from ..dbtypes import utcnow
from .models import PATIENT_STATUSES

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$",
                       error="2-40 letters, digits, '.', '_' or '-'")


class PatientSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)
    language = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    enrolled_at = fields.DateTime(dump_only=True, allow_none=True)
    has_pin = fields.Function(lambda p: bool(p.pin_hash), dump_only=True)


class PatientListItemSchema(PatientSchema):
    last_answer_at = fields.DateTime(dump_only=True, allow_none=True)
    open_alerts = fields.Integer(dump_only=True)


class PatientQuerySchema(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=40))
    status = fields.String(load_default=None, validate=validate.OneOf(PATIENT_STATUSES))


class NewPatientSchema(Schema):
    code = fields.String(load_default=None, validate=CODE,
                         metadata={"description": "Pseudonymous study code; generated if empty"})
    timezone = fields.String(load_default=None, validate=validate.Length(max=64))
    language = fields.String(load_default="en", validate=validate.OneOf(["en"]))


class PatientUpdateSchema(Schema):
    timezone = fields.String(validate=validate.Length(max=64))
    status = fields.String(validate=validate.OneOf(PATIENT_STATUSES))
    language = fields.String(validate=validate.OneOf(["en"]))


def _invite_state(invite) -> str:
    return invite["state"] if isinstance(invite, dict) else invite.state(utcnow())


class InviteSchema(Schema):
    id = fields.Integer(dump_only=True)
    url = fields.String(dump_only=True, metadata={"description": "Only shown once, at issue"})
    token = fields.String(dump_only=True)
    qr_svg = fields.String(dump_only=True)
    state = fields.Function(_invite_state, dump_only=True,
                            metadata={"description": "open, used, expired or revoked"})
    created_at = fields.DateTime(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)
    used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class NewPatientResultSchema(Schema):
    patient = fields.Nested(PatientSchema)
    invite = fields.Nested(InviteSchema)


class EnrollSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=100))
    pin = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4,8}$",
                                                                     error="4 to 8 digits"))


class PinSchema(Schema):
    pin = fields.String(required=True, validate=validate.Regexp(r"^\d{4,8}$",
                                                                 error="4 to 8 digits"))


class AlertSchema(Schema):
    id = fields.Integer(dump_only=True)
    patient_id = fields.Integer(dump_only=True)
    assessment_id = fields.Integer(dump_only=True, allow_none=True)
    kind = fields.String(dump_only=True)
    message = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    acknowledged_at = fields.DateTime(dump_only=True, allow_none=True)
    acknowledged_by_id = fields.Integer(dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True)


class AckSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
