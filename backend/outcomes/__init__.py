"""Outcomes core: score series + doses + a response rule -> verdicts and cohort statistics.

PURE: imports neither Flask nor SQLAlchemy and never reads the clock; it takes plain values
and returns frozen dataclasses whose `to_dict()` gives JSON-ready data (ISO 8601 UTC
datetimes, unrounded floats). How rules are applied is written down in `evaluate`'s module
docstring; cohort conventions in `cohort`'s.
"""

from backend.outcomes.cohort import (
    DEFAULT_TIMEPOINTS,
    CohortResult,
    GroupSummary,
    Timepoint,
    TimepointStat,
    judge_columns,
    mean_change_verdict,
    summarize,
    summarize_judged,
)
from backend.outcomes.crossover import CarryoverRow, carryover
from backend.outcomes.evaluate import (
    TRAJECTORY_HOURS,
    count_anchors,
    decided_from,
    evaluate,
    evaluate_cohort,
    evaluate_columns,
)
from backend.outcomes.model import (
    Baseline,
    Criteria,
    Criterion,
    Dose,
    Rule,
    RuleError,
    ScorePoint,
    Window,
)
from backend.outcomes.stats import (
    KMResult,
    KMStep,
    kaplan_meier,
    reliable_change,
    wilson_interval,
)
from backend.outcomes.verdict import REASONS, AnchorVerdict, FollowUp, Judged

__all__ = [
    "DEFAULT_TIMEPOINTS",
    "REASONS",
    "TRAJECTORY_HOURS",
    "AnchorVerdict",
    "Baseline",
    "CarryoverRow",
    "CohortResult",
    "Criteria",
    "Criterion",
    "Dose",
    "FollowUp",
    "GroupSummary",
    "Judged",
    "KMResult",
    "KMStep",
    "Rule",
    "RuleError",
    "ScorePoint",
    "Timepoint",
    "TimepointStat",
    "Window",
    "carryover",
    "count_anchors",
    "decided_from",
    "evaluate",
    "evaluate_cohort",
    "evaluate_columns",
    "judge_columns",
    "kaplan_meier",
    "mean_change_verdict",
    "reliable_change",
    "summarize",
    "summarize_judged",
    "wilson_interval",
]
