"""What the schedule endpoints accept and return. Times are minutes of elapsed time."""

from marshmallow import RAISE, Schema, fields, validate

MINUTES = validate.Range(min=0, max=366 * 24 * 60)
INSTRUMENTS = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                          required=True, validate=validate.Length(min=1, max=20))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class DoseSlotSchema(_Strict):
    id = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{0,31}$", error="lower-case letters, digits and _"))
    offset_minutes = fields.Integer(required=True, validate=MINUTES, metadata={
        "description": "Due this long after the dose (0 = the baseline before it)"})
    before_minutes = fields.Integer(required=True, validate=MINUTES)
    after_minutes = fields.Integer(required=True, validate=MINUTES)
    instruments = INSTRUMENTS


class MonthlySchema(_Strict):
    start_days = fields.Integer(required=True, validate=validate.Range(min=1, max=366))
    every_days = fields.Integer(required=True, validate=validate.Range(min=1, max=366))
    count = fields.Integer(required=True, validate=validate.Range(min=0, max=60))
    before_minutes = fields.Integer(required=True, validate=MINUTES)
    after_minutes = fields.Integer(required=True, validate=MINUTES)
    instruments = INSTRUMENTS


class RoutineSchema(_Strict):
    every_days = fields.Integer(required=True, validate=validate.Range(min=1, max=366))
    quiet_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=366),
                                metadata={"description": "No routine slot this close to a "
                                                         "dose-relative one"})
    before_minutes = fields.Integer(load_default=0, validate=MINUTES)
    after_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=527040))
    instruments = INSTRUMENTS


class DefinitionSchema(_Strict):
    dose_slots = fields.List(fields.Nested(DoseSlotSchema), required=True,
                             validate=validate.Length(max=30))
    monthly = fields.Nested(MonthlySchema, load_default=None, allow_none=True)
    routine = fields.Nested(RoutineSchema, load_default=None, allow_none=True)


class ScheduleSchema(Schema):
    id = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    definition = fields.Nested(DefinitionSchema, required=True)


class SlotSchema(Schema):
    key = fields.String()
    kind = fields.String(metadata={"description": "dose, monthly or routine"})
    label = fields.String(metadata={"description": "the schedule's slot id, e.g. baseline"})
    due_at = fields.DateTime()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    instruments = fields.List(fields.String())
    done = fields.List(fields.String())
    pending = fields.List(fields.String())
    treatment_id = fields.Integer(allow_none=True)
    state = fields.String(metadata={"description": "due, upcoming, done or missed"})


class DueListSchema(Schema):
    now = fields.DateTime()
    timezone = fields.String()
    schedule_version = fields.Integer(allow_none=True)
    due = fields.List(fields.Nested(SlotSchema), metadata={
        "description": "open now, and recently missed ones that may still be answered late"})
    upcoming = fields.List(fields.Nested(SlotSchema))
    done = fields.List(fields.Nested(SlotSchema))
