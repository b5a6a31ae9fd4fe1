"""Marshmallow schemas for instrument files (format_version 1): shapes and types only.

Every schema rejects unknown keys, so a misspelt key fails loudly instead of being ignored.
Cross-references, ranges and language coverage are checked afterwards in `checks.py`.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from backend.scoring.model import DIRECTIONS, ITEM_KINDS, METHODS, OPS, SEVERITIES

FORMAT_VERSION = 1

ID = r"^[a-z][a-z0-9_]*$"
LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LOINC = r"^\d{1,7}-\d$"
LOINC_ANSWER = r"^LA\d{1,7}-\d$"

CRITERION_KINDS = ("percent_improvement", "absolute_improvement", "cutoff")
EVALUATIONS = ("any", "all", "nearest", "sustained")
BASELINE_METHODS = ("last", "mean")
ANCHORS = ("each_session", "first_of_course", "last_of_course")


def loinc_check_digit(code: str) -> int:
    """The LOINC mod-10 check digit for the part of a code before the hyphen."""
    digits = code[::-1]
    doubled = str(int(digits[0::2][::-1]) * 2)
    kept = digits[1::2][::-1]
    return (10 - sum(int(c) for c in kept + doubled) % 10) % 10


def _valid_loinc(code: str) -> None:
    if not re.match(LOINC, code):
        raise ValidationError("not a LOINC code (like 44261-6)")
    number, check = code.split("-")
    if loinc_check_digit(number) != int(check):
        raise ValidationError(f"LOINC check digit should be {loinc_check_digit(number)}")


class StrictInt(fields.Field):
    """A whole number written as one: not a bool, float or string."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be a whole number")
        return value


class Num(fields.Field):
    """A finite int or float: not a bool or string."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("must be a finite number")
        return value


class StrictBool(fields.Field):
    """true or false, written as such: not 1, "yes" or "true"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class Weight(fields.Field):
    """A number or an exact fraction written as text ("1/3"), loaded as a Fraction."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Fraction:
        if isinstance(value, bool):
            raise ValidationError("must be a number or a fraction like 1/3")
        try:
            if isinstance(value, float):
                weight = Fraction(repr(value))
            elif isinstance(value, int | str):
                weight = Fraction(value)
            else:
                raise TypeError
        except (TypeError, ValueError, ZeroDivisionError):
            raise ValidationError("must be a number or a fraction like 1/3") from None
        if weight == 0:
            raise ValidationError("must not be zero")
        return weight


def Id(**kwargs: Any) -> fields.String:  # noqa: N802 - reads as a field type
    return fields.String(validate=validate.Regexp(ID, error="must be lower_snake_case"), **kwargs)


def TextMap(**kwargs: Any) -> fields.Dict:  # noqa: N802 - reads as a field type
    return fields.Dict(
        keys=fields.String(validate=validate.Regexp(LANG, error="not a language code")),
        values=fields.String(validate=validate.Length(min=1)),
        **kwargs,
    )


def Loinc(**kwargs: Any) -> fields.String:  # noqa: N802 - reads as a field type
    return fields.String(validate=_valid_loinc, **kwargs)


def Pair(inner: fields.Field, **kwargs: Any) -> fields.List:  # noqa: N802
    return fields.List(inner, validate=validate.Length(equal=2), **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class OptionSchema(Strict):
    value = Num(required=True)
    label = TextMap()
    loinc_answer = fields.String(
        validate=validate.Regexp(LOINC_ANSWER, error="not a LOINC answer code (like LA6568-5)")
    )


class AnchorsSchema(Strict):
    min = TextMap(required=True)
    max = TextMap(required=True)


class ItemSchema(Strict):
    id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ITEM_KINDS))
    text = TextMap()
    options = fields.List(fields.Nested(OptionSchema))
    min = Num()
    max = Num()
    step = Num(validate=validate.Range(min=0, min_inclusive=False))
    required = StrictBool(load_default=True)
    scored = StrictBool(load_default=True)
    loinc = Loinc()
    anchors = fields.Nested(AnchorsSchema)


class BandSchema(Strict):
    min = Num(required=True)
    max = Num(required=True)
    label = fields.String(required=True, validate=validate.Length(min=1))


class ScoreSchema(Strict):
    id = Id(required=True)
    title = TextMap(required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    inputs = fields.List(Id(), required=True, validate=validate.Length(min=1))
    reverse = fields.List(Id(), load_default=list)
    weights = fields.Dict(keys=Id(), values=Weight())
    table = fields.Dict(keys=StrictInt(), values=Num())
    round = StrictInt(validate=validate.Range(min=0, max=6))
    min_answered = StrictInt(validate=validate.Range(min=1))
    prorate = StrictBool(load_default=False)
    range = Pair(Num(), required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    bands = fields.List(fields.Nested(BandSchema), load_default=list)
    loinc = Loinc()
    unit = fields.String(load_default="{score}")
    sd = Num(validate=validate.Range(min=0, min_inclusive=False))
    reliability = Num(validate=validate.Range(min=0, max=1, max_inclusive=False))
    primary = StrictBool(load_default=False)


class ConditionSchema(Strict):
    item = Id()
    items = fields.List(Id(), validate=validate.Length(min=1))
    score = Id()
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    value = Num(required=True)
    match = fields.String(load_default="any", validate=validate.OneOf(("any", "all")))

    @validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [k for k in ("item", "items", "score") if k in data]
        if len(given) != 1:
            raise ValidationError("give exactly one of item, items or score")


class FlagSchema(Strict):
    id = Id(required=True)
    when = fields.Nested(ConditionSchema, required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    message = TextMap(required=True)


class RecallSchema(Strict):
    text = TextMap(required=True)
    hours = StrictInt(validate=validate.Range(min=1))


class CriterionSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(CRITERION_KINDS))
    value = Num(required=True)
    inclusive = StrictBool()

    @validates_schema
    def _coherent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("kind") != "cutoff" and "inclusive" in data:
            raise ValidationError("only a cutoff takes inclusive", "inclusive")
        if data.get("kind") != "cutoff" and data.get("value", 1) <= 0:
            raise ValidationError("an improvement must be greater than 0", "value")


class CriteriaSchema(Strict):
    all = fields.List(fields.Nested(CriterionSchema), validate=validate.Length(min=1))
    any = fields.List(fields.Nested(CriterionSchema), validate=validate.Length(min=1))

    @validates_schema
    def _one_list(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("all" in data) == ("any" in data):
            raise ValidationError("give exactly one of all or any")


class BaselineSchema(Strict):
    method = fields.String(required=True, validate=validate.OneOf(BASELINE_METHODS))
    span_hours = Num(validate=validate.Range(min=0, min_inclusive=False))


class RuleSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1))
    score = Id(required=True)
    criteria = fields.Nested(CriteriaSchema, required=True)
    window_hours = Pair(Num(validate=validate.Range(min=0)), required=True)
    evaluation = fields.String(load_default="any", validate=validate.OneOf(EVALUATIONS))
    nominal_hours = Num(validate=validate.Range(min=0))
    tolerance_hours = Num(validate=validate.Range(min=0))
    sustained_hours = Num(validate=validate.Range(min=0, min_inclusive=False))
    baseline = fields.Nested(BaselineSchema)
    anchor = fields.String(load_default="each_session", validate=validate.OneOf(ANCHORS))

    @validates_schema
    def _coherent(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("window_hours") or (0, math.inf)
        if start > end:
            raise ValidationError("start must not be after end", "window_hours")
        evaluation = data.get("evaluation", "any")
        for key, needs in (
            ("nominal_hours", "nearest"),
            ("tolerance_hours", "nearest"),
            ("sustained_hours", "sustained"),
        ):
            if key in data and evaluation != needs:
                raise ValidationError(f"only evaluation {needs} takes {key}", key)
        if evaluation == "nearest":
            if "nominal_hours" not in data:
                raise ValidationError("evaluation nearest needs nominal_hours", "nominal_hours")
            if not start <= data["nominal_hours"] <= end:
                raise ValidationError("must lie inside window_hours", "nominal_hours")
        if evaluation == "sustained":
            if "sustained_hours" not in data:
                raise ValidationError(
                    "evaluation sustained needs sustained_hours", "sustained_hours"
                )
            if data["sustained_hours"] > end - start:
                raise ValidationError("longer than the window, so never met", "sustained_hours")


class InstrumentSchema(Strict):
    format_version = StrictInt(required=True, validate=validate.Equal(FORMAT_VERSION))
    id = Id(required=True)
    version = fields.String(required=True, validate=validate.Length(min=1))
    title = TextMap(required=True)
    languages = fields.List(
        fields.String(validate=validate.Regexp(LANG, error="not a language code")),
        required=True,
        validate=validate.Length(min=1),
    )
    domains = fields.List(fields.String(), load_default=list)
    recall = fields.Nested(RecallSchema)
    stem = TextMap()
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1))
    scores = fields.List(
        fields.Nested(ScoreSchema), required=True, validate=validate.Length(min=1)
    )
    flags = fields.List(fields.Nested(FlagSchema), load_default=list)
    licence = fields.String(required=True, validate=validate.Length(min=1))
    citation = fields.String(load_default="")
    notes = fields.String(load_default="")
    text_may_ship = StrictBool(required=True)
    validated = StrictBool(required=True)
    loinc = Loinc()
    default_rules = fields.List(fields.Nested(RuleSchema), load_default=list)
