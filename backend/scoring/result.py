"""What scoring returns and the one error it raises, as plain values ready for JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Number, Severity


@dataclass(frozen=True)
class Problem:
    """One thing wrong with submitted answers; `field` is like "answers.phq9_3"."""

    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class AnswerError(ValueError):
    """Answers that cannot be scored; lists every problem found, not just the first."""

    #: HTTP status for the app's problem+json handler.
    status_code = 422

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in self.problems))

    def to_dict(self) -> dict[str, Any]:
        return {"problems": [p.to_dict() for p in self.problems]}


@dataclass(frozen=True)
class ScoreValue:
    """One computed score; `value` is None with a `reason` when it could not be computed."""

    value: Number | None
    band: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "band": self.band, "reason": self.reason}


@dataclass(frozen=True)
class Flag:
    """A raised alert; `message` is in the instrument's first language."""

    id: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class ScoreResult:
    """All scores of one submission, the flags it raised, and whether it was complete.

    `missing` lists required items left unanswered (only possible with
    `require_complete=False`); `complete` is False when any are missing or any score is None.
    """

    scores: dict[str, ScoreValue]
    flags: tuple[Flag, ...]
    complete: bool
    missing: tuple[str, ...]

    @property
    def safety(self) -> bool:
        """Whether any safety flag was raised."""
        return any(f.severity == "safety" for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
            "flags": [f.to_dict() for f in self.flags],
            "complete": self.complete,
            "missing": list(self.missing),
        }
