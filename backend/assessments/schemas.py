"""What the assessment endpoints accept and return."""

from marshmallow import Schema, fields, validate

from ..dbtypes import MAX_ID
from ..fields import AnswersField, Instant


class NewAssessmentSchema(Schema):
    client_uuid = fields.UUID(required=True, metadata={
        "description": "Generated on the device; a retry with the same UUID returns the first "
                       "result. Also accepted as the Idempotency-Key header."})
    instrument_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    answers = AnswersField(required=True)
    completed_at = Instant(required=True, metadata={
        "description": "Device capture time, ISO 8601 with zone"})
    slot_key = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=120))


class BackfillAssessmentSchema(NewAssessmentSchema):
    source = fields.String(load_default="clinician",
                           validate=validate.OneOf(["clinician", "import"]),
                           metadata={"description": "import accepts incomplete forms unscored"})
    supersedes_id = fields.Integer(load_default=None, allow_none=True,
                                   validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "Correct an earlier assessment: the new row replaces it in outcomes"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AssessmentSchema(Schema):
    id = fields.Integer()
    client_uuid = fields.String()
    patient_id = fields.Integer()
    instrument_id = fields.String()
    instrument_version = fields.String()
    scoring_version = fields.String()
    answers = fields.Dict()
    scores = fields.Dict(metadata={"description": "scores, bands, flags and completeness"})
    complete = fields.Boolean()
    completed_at = fields.DateTime()
    received_at = fields.DateTime()
    source = fields.String()
    supersedes_id = fields.Integer(allow_none=True)
    slot_key = fields.String(allow_none=True)
    in_window = fields.Boolean(allow_none=True, metadata={
        "description": "Whether completed_at fell inside the slot's window (server decides)"})
    window_opens_at = fields.DateTime(allow_none=True)
    window_closes_at = fields.DateTime(allow_none=True)
    note = fields.String()


class SubmittedSchema(AssessmentSchema):
    """The stored assessment plus what the patient must see now."""

    replayed = fields.Boolean(metadata={"description": "true when this is a retry's answer"})
    crisis_text = fields.String(allow_none=True, metadata={
        "description": "Set when a safety item was positive: show it at once"})


class AssessmentQuerySchema(Schema):
    instrument_id = fields.String(load_default=None, validate=validate.Length(max=64))
    include_superseded = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10000))
