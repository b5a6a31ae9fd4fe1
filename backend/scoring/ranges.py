"""The lowest and highest value each score can take, worked out from the definition.

The loader uses this to reject files whose declared range, bands or lookup table do not fit
what the items can actually produce; tests use it to check declared ranges.
"""

from __future__ import annotations

from fractions import Fraction

from .arith import exact, round_half_up
from .engine import evaluation_order
from .model import Instrument, ScoreDef

Bounds = tuple[Fraction, Fraction]


def score_ranges(instrument: Instrument) -> dict[str, Bounds]:
    """Theoretical (low, high) of every score, in exact Fractions."""
    items = {i.id: (exact(i.min), exact(i.max)) for i in instrument.items}
    found: dict[str, Bounds] = {}
    for score_def in evaluation_order(instrument):
        found[score_def.id] = _range(score_def, {**items, **found})
    return found


def raw_range(score_def: ScoreDef, bounds: dict[str, Bounds]) -> Bounds:
    """(low, high) of the raw sum a sum or lookup score works from, prorating included."""
    lows = sorted(bounds[r][0] for r in score_def.inputs)
    highs = sorted((bounds[r][1] for r in score_def.inputs), reverse=True)
    total = len(score_def.inputs)
    smallest = score_def.needed if score_def.prorate else total
    lo = min(_prorated(sum(lows[:k], Fraction(0)), total, k) for k in range(smallest, total + 1))
    hi = max(_prorated(sum(highs[:k], Fraction(0)), total, k) for k in range(smallest, total + 1))
    return lo, hi


def _prorated(partial: Fraction, total: int, answered: int) -> Fraction:
    if answered == total:
        return partial
    return Fraction(int(round_half_up(partial * total / answered, 0)))


def _range(score_def: ScoreDef, bounds: dict[str, Bounds]) -> Bounds:
    if score_def.method == "mean":
        lows = sorted(bounds[r][0] for r in score_def.inputs)
        highs = sorted((bounds[r][1] for r in score_def.inputs), reverse=True)
        counts = range(max(score_def.needed, 1), len(score_def.inputs) + 1)
        lo = min(sum(lows[:k], Fraction(0)) / k for k in counts)
        hi = max(sum(highs[:k], Fraction(0)) / k for k in counts)
    elif score_def.method == "weighted_sum":
        lo = hi = Fraction(0)
        for ref in score_def.inputs:
            weight = score_def.weights.get(ref, Fraction(1))
            ends = sorted((bounds[ref][0] * weight, bounds[ref][1] * weight))
            lo, hi = lo + ends[0], hi + ends[1]
    elif score_def.method == "lookup":
        raw_lo, raw_hi = raw_range(score_def, bounds)
        hits = [exact(v) for k, v in score_def.table.items() if raw_lo <= k <= raw_hi]
        lo, hi = (min(hits), max(hits)) if hits else (raw_lo, raw_hi)
    else:
        lo, hi = raw_range(score_def, bounds)
    if score_def.round is not None:
        lo = Fraction(round_half_up(lo, score_def.round))
        hi = Fraction(round_half_up(hi, score_def.round))
    return lo, hi
