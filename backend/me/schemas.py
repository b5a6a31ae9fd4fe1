"""What the patient's own endpoints return."""

from marshmallow import Schema, fields


class ClinicTextsSchema(Schema):
    name = fields.String()
    consent_text = fields.String()
    crisis_text = fields.String()


class MeSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    language = fields.String()
    timezone = fields.String()
    has_pin = fields.Function(lambda p: bool(p.pin_hash))
    clinic = fields.Nested(ClinicTextsSchema)


class ProgressSchema(Schema):
    instrument_id = fields.String()
    title = fields.String()
    score_title = fields.String()
    direction = fields.String()
    range = fields.List(fields.Float())
    count = fields.Integer()
    latest = fields.Float()
    latest_at = fields.DateTime()
    svg = fields.String(metadata={"description": "the chart, an <svg> element (no styles)"})
