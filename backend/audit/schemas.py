"""What the audit endpoint accepts and returns."""

from marshmallow import Schema, fields, validate

from ..dbtypes import MAX_ID
from ..fields import Instant


class AuditEventSchema(Schema):
    id = fields.Integer(dump_only=True)
    at = fields.DateTime(dump_only=True)
    actor_kind = fields.String(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    action = fields.String(dump_only=True)
    patient_id = fields.Integer(dump_only=True, allow_none=True)
    target_type = fields.String(dump_only=True, allow_none=True)
    target_id = fields.String(dump_only=True, allow_none=True)
    old = fields.Dict(dump_only=True, allow_none=True)
    new = fields.Dict(dump_only=True, allow_none=True)
    ip = fields.String(dump_only=True, allow_none=True)
    detail = fields.String(dump_only=True, allow_none=True)


class AuditQuerySchema(Schema):
    patient_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    action = fields.String(load_default=None, validate=validate.Length(max=64),
                           metadata={"description": "prefix, e.g. 'patient.' or 'auth.login'"})
    actor_kind = fields.String(load_default=None,
                               validate=validate.OneOf(["user", "patient", "system",
                                                        "anonymous"]))
    since = Instant(load_default=None)
    until = Instant(load_default=None)
    before_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "page backwards"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
