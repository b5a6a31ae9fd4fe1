"""Instrument definitions as frozen values, so scoring can be a pure function of them.

The loader (`backend.instruments`) builds these from YAML files and checks them; the scoring
engine and the FHIR builder only read them. Text fields are dicts from language code to text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Literal

Text = dict[str, str]
Number = int | float

ItemKind = Literal["choice", "scale", "slider"]
Method = Literal["sum", "mean", "weighted_sum", "lookup"]
Direction = Literal["lower_is_better", "higher_is_better"]
Severity = Literal["safety", "info"]
Op = Literal[">", ">=", "<", "<=", "==", "!="]

ITEM_KINDS: tuple[str, ...] = ("choice", "scale", "slider")
METHODS: tuple[str, ...] = ("sum", "mean", "weighted_sum", "lookup")
DIRECTIONS: tuple[str, ...] = ("lower_is_better", "higher_is_better")
SEVERITIES: tuple[str, ...] = ("safety", "info")
OPS: tuple[str, ...] = (">", ">=", "<", "<=", "==", "!=")


@dataclass(frozen=True)
class Option:
    """One answer of a choice item: the number it scores as and its label."""

    value: Number
    label: Text
    loinc_answer: str | None = None


@dataclass(frozen=True)
class Anchors:
    """Labels for the two ends of a scale or slider ("No pain" ... "Worst pain")."""

    min: Text
    max: Text


@dataclass(frozen=True)
class Item:
    """One question.

    `choice` items take one of `options`; `scale` items take a whole number from `min` to `max`
    in `step`s (a 0-10 rating row); `slider` items take any number from `min` to `max` on the
    `step` grid. For choice items `min` and `max` are the lowest and highest option values,
    which is what reverse scoring (`min + max - x`) uses.
    """

    id: str
    kind: ItemKind
    text: Text
    options: tuple[Option, ...] = ()
    min: Number = 0
    max: Number = 0
    step: Number = 1
    required: bool = True
    scored: bool = True
    loinc: str | None = None
    anchors: Anchors | None = None

    @cached_property  # items are immutable and checked for every answer
    def integer(self) -> bool:
        """Whether answers must be whole numbers (ints, never floats or bools)."""
        if self.kind == "choice":
            return all(isinstance(o.value, int) for o in self.options)
        return all(isinstance(v, int) for v in (self.min, self.max, self.step))

    def allowed_values(self) -> tuple[Number, ...] | None:
        """Every acceptable answer for choice and scale items; None for sliders."""
        return self._allowed_values

    @cached_property
    def _allowed_values(self) -> tuple[Number, ...] | None:
        if self.kind == "choice":
            return tuple(o.value for o in self.options)
        if self.kind == "scale":
            return tuple(range(int(self.min), int(self.max) + 1, int(self.step)))
        return None

    def option(self, value: Number) -> Option | None:
        """The option scoring as `value`, if any."""
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True)
class Band:
    """A labelled interval of a score; the first band with min <= value <= max applies."""

    min: Number
    max: Number
    label: str


@dataclass(frozen=True)
class ScoreDef:
    """How one score is computed from items and/or other scores.

    `inputs` name items or other scores. `reverse` lists input items scored as
    `item.min + item.max - x`. `weights` (weighted_sum only) map an input to an exact
    Fraction, 1 when absent. `table` (lookup only) maps an integer raw score to the value.
    `min_answered` defaults to every input; below it the score is None. With `prorate`
    (sum and lookup over items) a sum of fewer answered items is scaled up to all items
    and rounded half up to a whole number. `round` is a number of decimals, half up.
    """

    id: str
    title: Text
    method: Method
    inputs: tuple[str, ...]
    range: tuple[Number, Number]
    direction: Direction = "lower_is_better"
    reverse: tuple[str, ...] = ()
    weights: dict[str, Fraction] = field(default_factory=dict)
    table: dict[int, Number] = field(default_factory=dict)
    round: int | None = None
    min_answered: int | None = None
    prorate: bool = False
    bands: tuple[Band, ...] = ()
    loinc: str | None = None
    unit: str = "{score}"
    sd: float | None = None
    reliability: float | None = None
    primary: bool = False

    @property
    def needed(self) -> int:
        """How many inputs must have a value for the score to be computed."""
        return self.min_answered if self.min_answered is not None else len(self.inputs)

    def band_for(self, value: Number | None) -> str | None:
        """The label of the first band containing `value`, or None."""
        if value is None:
            return None
        for band in self.bands:
            if band.min <= value <= band.max:
                return band.label
        return None


@dataclass(frozen=True)
class Condition:
    """A test on answered items or computed scores: `<ref> <op> <value>`.

    With several refs, `match` says whether any or all of them must pass; refs without a
    value (unanswered items, scores that could not be computed) never pass.
    """

    source: Literal["item", "score"]
    refs: tuple[str, ...]
    op: Op
    value: Number
    match: Literal["any", "all"] = "any"


@dataclass(frozen=True)
class FlagDef:
    """An alert raised when its condition holds; `safety` flags need a clinician."""

    id: str
    when: Condition
    severity: Severity
    message: Text


@dataclass(frozen=True)
class Recall:
    """The period a questionnaire asks about; `hours` is None when it is not a fixed span."""

    text: Text
    hours: int | None = None


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: its items, how it scores, what may be shown, and its default rules.

    `default_rules` are plain dicts (checked by the loader) for the outcomes core to read.
    Instruments hash by (id, version) so they can key caches.
    """

    id: str
    version: str
    title: Text
    languages: tuple[str, ...]
    items: tuple[Item, ...]
    scores: tuple[ScoreDef, ...]
    domains: tuple[str, ...] = ()
    recall: Recall | None = None
    stem: Text | None = None
    flags: tuple[FlagDef, ...] = ()
    licence: str = ""
    citation: str = ""
    notes: str = ""
    text_may_ship: bool = True
    validated: bool = True
    loinc: str | None = None
    default_rules: tuple[dict[str, Any], ...] = ()

    def __hash__(self) -> int:
        return hash((self.id, self.version))

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError if none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def score_def(self, score_id: str) -> ScoreDef:
        """The score definition with this id (KeyError if none)."""
        for score_def in self.scores:
            if score_def.id == score_id:
                return score_def
        raise KeyError(score_id)

    @property
    def primary_score(self) -> ScoreDef:
        """The score marked primary, else the first one."""
        for score_def in self.scores:
            if score_def.primary:
                return score_def
        return self.scores[0]

    def text(self, texts: Text | None, lang: str) -> str:
        """`texts` in `lang`, falling back to the instrument's first language."""
        if not texts:
            return ""
        return texts.get(lang) or texts.get(self.languages[0]) or next(iter(texts.values()))
