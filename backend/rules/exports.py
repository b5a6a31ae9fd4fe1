"""Tidy CSV exports: derived endpoints (patient x anchor x rule) and raw answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import select

from ..assessments.models import Assessment
from ..audit.service import record
from ..extensions import db
from ..outcomes import DEFAULT_TIMEPOINTS
from ..patients.models import Patient
from .evaluation import clinic_verdicts
from .models import Rule


def _cell(value) -> object:
    """Neutralise spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


def _csv(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _codes(clinic_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(Patient.id, Patient.code)
                                   .where(Patient.clinic_id == clinic_id)).all())


ENDPOINT_HEADER = [
    "patient_code", "rule_key", "rule_version", "rule_name", "instrument", "score",
    "anchor_dose_id", "anchor_at", "course", "session", "arm", "period", "drug",
    "baseline", "baseline_at",
    *[f"change_pct_{tp.label.replace(' ', '_')}" for tp in DEFAULT_TIMEPOINTS],
    "verdict", "reason", "onset_hours", "loss_hours", "duration_hours", "censored",
]


def endpoints_csv(clinic_id: int, rule: Rule) -> Iterator[str]:
    """A row per patient x anchor for one rule (version pinned in every row)."""
    verdicts = clinic_verdicts(clinic_id, rule)
    codes = _codes(clinic_id)
    record("export.endpoints", clinic_id=clinic_id, target_type="rule", target_id=rule.id,
           detail=f"{len(verdicts)} patients")

    # Plain values now: the request commits (expiring ORM objects) before the body streams.
    about = [rule.key, rule.version, rule.name, rule.instrument_id, rule.score_id]

    def rows():
        for patient_id in sorted(verdicts, key=lambda pid: codes.get(pid, "")):
            for v in verdicts[patient_id]:
                yield [codes.get(patient_id), *about, v.anchor_dose_id, v.anchor_at,
                       v.course, v.session, v.arm, v.period, v.drug, v.baseline, v.baseline_at,
                       *[v.change_pct_near(tp.hours, tp.tolerance_hours)
                         for tp in DEFAULT_TIMEPOINTS],
                       v.verdict, v.reason, v.onset_hours, v.loss_hours, v.duration_hours,
                       v.censored]

    return _csv(ENDPOINT_HEADER, rows())


ANSWER_HEADER = [
    "patient_code", "assessment_id", "instrument", "instrument_version", "completed_at",
    "received_at", "source", "superseded_by", "item", "answer", "scores", "complete",
]


def answers_csv(clinic_id: int) -> Iterator[str]:
    """A row per answered item, with the assessment's scores beside it."""
    codes = _codes(clinic_id)
    record("export.answers", clinic_id=clinic_id, detail=f"{len(codes)} patients")
    query = (select(Assessment).where(Assessment.clinic_id == clinic_id)
             .order_by(Assessment.patient_id, Assessment.completed_at, Assessment.id))
    superseded = dict(db.session.execute(
        select(Assessment.supersedes_id, Assessment.id)
        .where(Assessment.clinic_id == clinic_id, Assessment.supersedes_id.is_not(None))).all())

    def rows():
        for a in db.session.scalars(query).yield_per(1000):
            scores = "; ".join(
                f"{sid}={s['value']}" + (f" ({s['band']})" if s.get("band") else "")
                for sid, s in a.scores.get("scores", {}).items())
            for item, value in a.answers.items():
                yield [codes.get(a.patient_id), a.id, a.instrument_id, a.instrument_version,
                       a.completed_at, a.received_at, a.source, superseded.get(a.id), item,
                       value, scores, a.complete]

    return _csv(ANSWER_HEADER, rows())
