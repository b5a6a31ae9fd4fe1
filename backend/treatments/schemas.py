"""What the treatment endpoints accept and return."""

from marshmallow import Schema, fields, validate

from ..fields import Instant


class TreatmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    patient_id = fields.Integer(dump_only=True)
    drug = fields.String(required=True, validate=validate.Length(min=1, max=120))
    dose = fields.Float(required=True, validate=validate.Range(min=0, max=1e6),
                        allow_nan=False)
    dose_unit = fields.String(required=True, validate=validate.Length(min=1, max=32),
                              metadata={"example": "mg/kg"})
    route = fields.String(load_default="IV", validate=validate.Length(min=1, max=32))
    given_at = Instant(required=True, metadata={"description": "ISO 8601 with zone"})
    course = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=64))
    session_number = fields.Integer(load_default=None, allow_none=True,
                                    validate=validate.Range(min=1, max=10000))
    period = fields.Integer(load_default=None, allow_none=True,
                            validate=validate.Range(min=1, max=100))
    arm = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True)


class TreatmentUpdateSchema(Schema):
    """A correction: only the fields sent change."""

    drug = fields.String(validate=validate.Length(min=1, max=120))
    dose = fields.Float(validate=validate.Range(min=0, max=1e6), allow_nan=False)
    dose_unit = fields.String(validate=validate.Length(min=1, max=32))
    route = fields.String(validate=validate.Length(min=1, max=32))
    given_at = Instant()
    course = fields.String(allow_none=True, validate=validate.Length(max=64))
    session_number = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=10000))
    period = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100))
    arm = fields.String(allow_none=True, validate=validate.Length(max=64))
    notes = fields.String(validate=validate.Length(max=5000))
