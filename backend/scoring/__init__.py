"""Pure scoring core: instrument definitions in, scores and flags out; no Flask, no database."""

from .engine import ScoreCycleError, evaluation_order, score
from .model import (
    Anchors,
    Band,
    Condition,
    FlagDef,
    Instrument,
    Item,
    Option,
    Recall,
    ScoreDef,
)
from .ranges import score_ranges
from .result import AnswerError, Flag, Problem, ScoreResult, ScoreValue

__all__ = [
    "AnswerError",
    "Anchors",
    "Band",
    "Condition",
    "Flag",
    "FlagDef",
    "Instrument",
    "Item",
    "Option",
    "Problem",
    "Recall",
    "ScoreCycleError",
    "ScoreDef",
    "ScoreResult",
    "ScoreValue",
    "evaluation_order",
    "score",
    "score_ranges",
]
