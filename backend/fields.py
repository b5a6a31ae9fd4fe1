"""marshmallow fields shared by the API schemas."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from marshmallow import ValidationError, fields, validate

#: The years an instant may fall in (UTC). Outside them it is a typing or clock error, and
#: near the ends of Python's range (years 1 and 9999) it cannot even be turned into UTC.
YEARS = (1900, 2200)


class Instant(fields.AwareDateTime):
    """An ISO 8601 time with its zone, loaded as an aware datetime in UTC, within `YEARS`."""

    def _deserialize(self, value, attr, data, **kwargs):
        at = super()._deserialize(value, attr, data, **kwargs)
        try:
            at = at.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is in year 0 in UTC
            at = None
        if at is None or not YEARS[0] <= at.year <= YEARS[1]:
            raise ValidationError(f"must be between the years {YEARS[0]} and {YEARS[1]}")
        return at


class JsonBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` and nothing else, for request bodies.

    marshmallow's Boolean also takes 0, 1, "yes", "on", "true"... (it was made for form and
    query values): ``{"active": 0}`` would disable an account although the API documents a
    boolean. A query string can only send text, so query schemas keep ``fields.Boolean``.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class AnswersField(fields.Dict):
    """{item_id: number}; the instrument decides which items and values are valid.

    Documented as an object of at most `MAX` numbers keyed by item id, and checked in one
    pass: a field object per key and per value would cost more than scoring the answers, on
    the busiest endpoint there is. The scoring core judges each value (text, booleans,
    non-finite numbers and values off the item's scale are refused there, naming the item).
    """

    MAX = 200

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})["maxProperties"] = self.MAX
        super().__init__(keys=fields.String(validate=validate.Length(min=1, max=64)),
                         values=fields.Float(allow_nan=False), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        if len(value) > self.MAX:
            raise ValidationError(f"At most {self.MAX} answers.")
        errors: dict = {}
        for key, answer in value.items():
            if not isinstance(key, str) or not 1 <= len(key) <= 64:
                errors.setdefault(key, {})["key"] = ["Length must be between 1 and 64."]
            if answer is None:
                errors.setdefault(key, {})["value"] = ["Field may not be null."]
        if errors:
            raise ValidationError(errors)
        return dict(value)
