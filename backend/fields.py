"""marshmallow fields shared by the API schemas."""

from __future__ import annotations

from datetime import UTC

from marshmallow import ValidationError, fields

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
