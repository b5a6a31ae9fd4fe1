"""Reading score series and doses for the outcomes core, and handing its verdicts back.

The pure core (backend.outcomes) decides; this module only does the I/O around it, with one
query for the scores and one for the doses however many patients are asked for.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import String, literal_column, select, type_coerce

from ..assessments.models import ScoreValue
from ..audit.service import record
from ..extensions import db
from ..outcomes import Dose, ScorePoint, carryover, evaluate, summarize
from ..outcomes import Rule as RuleSpec
from ..patients.models import Patient
from ..treatments.models import Treatment
from .models import Rule


def rule_spec(rule: Rule) -> RuleSpec:
    return RuleSpec.from_dict({**rule.definition, "version": rule.version})


@contextmanager
def bulk():
    """Pause the cyclic garbage collector while hundreds of thousands of rows become objects.

    None of them form cycles; without this the collector rescans the growing heap many times.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _utc_parser():
    """How to turn the ``at`` column into aware datetimes as fast as the driver allows.

    PostgreSQL's driver returns aware datetimes; SQLite stores ISO text, which
    ``datetime.fromisoformat`` reads far faster than generic type processing.
    """
    if db.engine.dialect.name == "sqlite":
        # UTCDateTime stores naive UTC text; appending the offset makes the parse aware.
        text = type_coerce(ScoreValue.at, String) + literal_column("'+00:00'", String)
        return text, datetime.fromisoformat
    return ScoreValue.at, None


def load_points(clinic_id: int, instrument_id: str, score_id: str,
                patient_ids: Iterable[int] | None = None) -> dict[int, list[ScorePoint]]:
    """Score series per patient, in time order (the series index serves the ordering)."""
    at_column, parse = _utc_parser()
    query = (select(ScoreValue.patient_id, at_column, ScoreValue.value,
                    ScoreValue.assessment_id, ScoreValue.in_window)
             .where(ScoreValue.clinic_id == clinic_id, ScoreValue.instrument_id == instrument_id,
                    ScoreValue.score_id == score_id)
             .order_by(ScoreValue.patient_id, ScoreValue.at))
    if patient_ids is not None:
        query = query.where(ScoreValue.patient_id.in_(list(patient_ids)))
    series: dict[int, list[ScorePoint]] = defaultdict(list)
    with bulk():
        rows = db.session.connection().execute(query).all()
        for patient_id, at, value, assessment_id, in_window in rows:
            series[patient_id].append(
                ScorePoint(parse(at) if parse else at, value, assessment_id, in_window))
    return series


def load_doses(clinic_id: int, patient_ids: Iterable[int] | None = None) -> dict[int, list[Dose]]:
    query = (select(Treatment.patient_id, Treatment.id, Treatment.given_at, Treatment.drug,
                    Treatment.course, Treatment.session_number, Treatment.arm, Treatment.period)
             .where(Treatment.clinic_id == clinic_id))
    if patient_ids is not None:
        query = query.where(Treatment.patient_id.in_(list(patient_ids)))
    doses: dict[int, list[Dose]] = defaultdict(list)
    for patient_id, *fields in db.session.execute(query):
        tid, at, drug, course, session, arm, period = fields
        doses[patient_id].append(Dose(tid, at, drug, course, session, arm, period))
    return doses


def patient_outcomes(patient: Patient, rule: Rule) -> list:
    spec = rule_spec(rule)
    points = load_points(patient.clinic_id, rule.instrument_id, rule.score_id, [patient.id])
    doses = load_doses(patient.clinic_id, [patient.id])
    record("outcomes.patient", patient_id=patient.id, target_type="rule", target_id=rule.id)
    return evaluate(points.get(patient.id, []), doses.get(patient.id, []), spec)


def clinic_verdicts(clinic_id: int, rule: Rule) -> dict[int, list]:
    """Every patient's verdicts under one rule (patients without doses have none)."""
    spec = rule_spec(rule)
    doses = load_doses(clinic_id)
    points = load_points(clinic_id, rule.instrument_id, rule.score_id)
    with bulk():
        return {pid: evaluate(points.get(pid, []), patient_doses, spec)
                for pid, patient_doses in doses.items()}


def cohort_outcomes(clinic_id: int, rule: Rule, *, group_by: str = "none",
                    per: str = "anchor") -> dict:
    verdicts = clinic_verdicts(clinic_id, rule)
    with bulk():
        result = summarize(verdicts, group_by=group_by, per=per).to_dict()
    if group_by in ("period", "arm_period", "arm"):
        result["carryover"] = [row.to_dict() for row in carryover(verdicts)]
    record("outcomes.cohort", clinic_id=clinic_id, target_type="rule", target_id=rule.id,
           detail=f"{len(verdicts)} patients; group_by={group_by}; per={per}")
    return result


def preview_outcomes(clinic_id: int, definition: dict, *, group_by: str = "none",
                     per: str = "anchor") -> dict:
    """The cohort result for an unsaved rule definition (validated by the caller); stores
    nothing but the audit event: the rules editor's live preview."""
    spec = RuleSpec.from_dict(definition)
    doses = load_doses(clinic_id)
    points = load_points(clinic_id, spec.instrument, spec.score)
    with bulk():
        verdicts = {pid: evaluate(points.get(pid, []), patient_doses, spec)
                    for pid, patient_doses in doses.items()}
        result = summarize(verdicts, group_by=group_by, per=per).to_dict()
    record("outcomes.preview", clinic_id=clinic_id, target_type="rule",
           detail=f"{len(verdicts)} patients; instrument={spec.instrument}; group_by={group_by}")
    return result
