"""What the rule and outcome endpoints accept and return."""

from marshmallow import Schema, fields, validate

from ..fields import JsonBoolean
from ..outcomes.cohort import GROUP_FIELDS


class RuleInSchema(Schema):
    """A rule definition; the outcomes core checks it in full (every problem, by field)."""

    key = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9-]{1,80}$"),
                        metadata={"description": "Give an existing key to save a new version"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    instrument = fields.String(required=True, validate=validate.Length(min=1, max=64))
    score = fields.String(required=True, validate=validate.Length(min=1, max=64))
    criteria = fields.Dict(required=True, metadata={
        "example": {"all": [{"kind": "percent_improvement", "value": 20}]}})
    window = fields.Dict(required=True, metadata={
        "example": {"start_hours": 0, "end_hours": 72, "evaluation": "any"}})
    baseline = fields.Dict(load_default=None, metadata={
        "example": {"method": "last", "span_hours": 168}})
    anchor = fields.String(load_default="each_session", validate=validate.OneOf(
        ["each_session", "first_of_course", "last_of_course"]))
    require_in_window = JsonBoolean(load_default=False)


class RuleSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    instrument_id = fields.String()
    score_id = fields.String()
    definition = fields.Dict()
    current = fields.Boolean()
    preset = fields.Boolean()
    created_at = fields.DateTime()


class RuleQuerySchema(Schema):
    include_old = fields.Boolean(load_default=False)


class OutcomeQuerySchema(Schema):
    rule = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "rule id, key (its current version) or key@version"})


class CohortQuerySchema(OutcomeQuerySchema):
    group_by = fields.String(load_default="none", validate=validate.OneOf(list(GROUP_FIELDS)))
    per = fields.String(load_default="anchor", validate=validate.OneOf(["anchor", "patient"]))


class PatientOutcomesSchema(Schema):
    patient_id = fields.Integer()
    rule = fields.Nested(RuleSchema)
    verdicts = fields.List(fields.Dict())


class CohortOutcomesSchema(Schema):
    rule = fields.Nested(RuleSchema)
    group_by = fields.String()
    per = fields.String()
    groups = fields.List(fields.Dict())
    carryover = fields.List(fields.Dict())
