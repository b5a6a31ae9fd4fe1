"""Exact arithmetic for scores: Fractions while computing, half-up rounding at the end.

Floats would make a mean of [7, 6, 5] or a third of a subscale depend on binary noise, and
Python's round() rounds half to even; clinicians expect 2.25 -> 2.3.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal
from fractions import Fraction

from .model import Number

_CONTEXT = Context(prec=60)


def exact(value: Number | Fraction) -> Fraction:
    """`value` as a Fraction; floats are read as the decimal they print as (0.3 -> 3/10)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def round_half_up(value: Fraction, digits: int) -> Decimal:
    """`value` rounded to `digits` decimals, halves away from zero, as a Decimal."""
    scaled = abs(value) * 10**digits
    units = math.floor(scaled + Fraction(1, 2))  # exact: no precision limit on huge values
    return Decimal(-units if value < 0 else units).scaleb(-digits)


def to_number(value: Fraction, *, digits: int | None, keep_int: bool) -> Number:
    """The plain number to report: an int for whole sums of ints or 0 digits, else a float."""
    if digits is not None:
        rounded = round_half_up(value, digits)
        return int(rounded) if digits == 0 else float(rounded)
    if keep_int and value.denominator == 1:
        return int(value)
    return float(value)


def is_finite_number(value: object) -> bool:
    """True for ints and finite floats, never for bools or strings."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def on_grid(value: Number, start: Number, step: Number) -> bool:
    """Whether `value` is `start` plus a whole number of `step`s, computed exactly."""
    return ((exact(value) - exact(start)) / exact(step)).denominator == 1


def fmt(value: Number) -> str:
    """A number as people write it: 5 not 5.0, 0.5 not 0.50."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
