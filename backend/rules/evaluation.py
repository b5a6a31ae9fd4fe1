"""Reading score series and doses for the outcomes core, and handing its verdicts back.

The pure core (backend.outcomes) decides; this module only does the I/O around it, with one
query for the scores and one for the doses however many patients are asked for.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import groupby, repeat
from operator import floordiv, itemgetter, methodcaller, sub

from sqlalchemy import select

from ..assessments.models import ScoreValue
from ..audit.service import record
from ..database import bind_values, run_on_cursor
from ..extensions import db
from ..outcomes import (
    Dose,
    Judged,
    ScorePoint,
    carryover,
    evaluate_cohort,
    evaluate_columns,
    judge_columns,
    summarize_judged,
)
from ..outcomes import Rule as RuleSpec
from ..outcomes.evaluate import NO_COLUMNS
from ..outcomes.model import EPOCH, MICROSECOND, from_micros, to_micros
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


_NAIVE_EPOCH = datetime(1970, 1, 1)


def utc_value(value: datetime | str) -> datetime:
    """A UTCDateTime column's value as the driver hands it over, read as the column reads it:
    SQLite text through ``datetime.fromisoformat`` (SQLAlchemy's own parser for SQLite), then
    naive taken as UTC, aware turned into UTC."""
    if isinstance(value, str):
        if len(value) == 26 and value[19] == ".":  # "2026-01-05 09:30:00.250000", as written
            return datetime.fromisoformat(value + "+00:00")  # 5x faster than .replace(tzinfo)
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def micros_column(values: Sequence[datetime | str]) -> list[int]:
    """A UTCDateTime column as the driver hands it over, as microseconds since the epoch.

    Exact, and without a Python-level step per value: SQLite's naive UTC text is parsed and
    subtracted from the naive epoch by mapped C functions, PostgreSQL's aware datetimes are
    subtracted from the aware one. Anything else (text with an offset, a naive datetime)
    goes through `utc_value` one by one.
    """
    if values and isinstance(values[0], str):
        times, epoch = map(datetime.fromisoformat, values), _NAIVE_EPOCH
    else:
        times, epoch = values, EPOCH
    try:
        return list(map(floordiv, map(sub, times, repeat(epoch)), repeat(MICROSECOND)))
    except TypeError:  # naive and aware mixed up
        return [to_micros(utc_value(value)) for value in values]


_FIRST = itemgetter(0)


def driver_rows(query) -> list[tuple]:
    """Every row of a Core select, as the database driver's plain tuples.

    For the bulk reads, on the session's connection (so inside its transaction). Skipping
    SQLAlchemy's Row objects and result processing saves a tenth of a 500,000-row read; the
    caller converts what needs it: UTCDateTime columns (`micros_column`, `utc_value`) and
    booleans, which SQLite hands back as 0 and 1 (`_booleans`).
    """
    dialect = db.session.connection().dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if dialect.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    return run_on_cursor("execute", compiled.string, params, _FETCHALL)


_FETCHALL = methodcaller("fetchall")


def driver_execute(statement, values: dict) -> list:
    """Every row of a Core select with bind parameters, as plain rows: no result processing.

    For a statement built once and run with new ``values`` each time: it is compiled once
    per dialect, the values go through their types' bind processing (a UTCDateTime becomes
    SQLite's text, for example; see `database.bind_values`), and the columns come back as the
    driver hands them over (see `driver_rows`). Runs through the connection, so engine events
    (statement counts, logging) see it.
    """
    connection = db.session.connection()
    sql, params = bind_values(statement, connection.dialect, values)
    return connection.exec_driver_sql(sql, params).fetchall()


def _booleans(column: tuple) -> tuple:
    """A boolean column as Python booleans (SQLite hands back 0 and 1), None kept."""
    return tuple(None if value is None else bool(value) for value in column)


#: One patient's points as columns: times (microseconds), values, in_window, assessment ids.
Columns = tuple[tuple[int, ...], tuple[float, ...], tuple | None, tuple | None]


def load_columns(clinic_id: int, instrument_id: str, score_id: str,
                 patient_ids: Iterable[int] | None = None, *, in_window: bool = True,
                 assessment_ids: bool = True) -> dict[int, Columns]:
    """Score series per patient as columns in time order, for `evaluate_columns`.

    One query; rows stay plain tuples and are split per patient without a Python loop over
    them. Leave out `in_window` (when the rule does not require in-window answers) and
    `assessment_ids` (when no follow-up rows will be shown) to read less: those columns are
    then None.
    """
    wanted = [ScoreValue.patient_id, ScoreValue.at, ScoreValue.value]
    if in_window:
        wanted.append(ScoreValue.in_window)
    if assessment_ids:
        wanted.append(ScoreValue.assessment_id)
    query = (select(*wanted)
             .where(ScoreValue.clinic_id == clinic_id, ScoreValue.instrument_id == instrument_id,
                    ScoreValue.score_id == score_id)
             .order_by(ScoreValue.patient_id, ScoreValue.at))
    if patient_ids is not None:
        query = query.where(ScoreValue.patient_id.in_(list(patient_ids)))
    as_booleans = in_window and db.engine.dialect.name == "sqlite"
    with bulk():
        rows = driver_rows(query)
        series = {}
        for patient_id, group in groupby(rows, _FIRST):
            _, ats, values, *rest = zip(*group, strict=True)
            windows = rest.pop(0) if in_window else None
            series[patient_id] = (micros_column(ats), values,
                                  _booleans(windows) if as_booleans else windows,
                                  rest.pop(0) if assessment_ids else None)
        del rows  # freed before the collector runs again, so it never walks them
    return series


def load_points(clinic_id: int, instrument_id: str, score_id: str,
                patient_ids: Iterable[int] | None = None) -> dict[int, list[ScorePoint]]:
    """Score series per patient as ScorePoints, in time order."""
    return {patient_id: [ScorePoint(from_micros(at), value, assessment_id, window)
                         for at, value, window, assessment_id in zip(*columns, strict=True)]
            for patient_id, columns in load_columns(clinic_id, instrument_id, score_id,
                                                    patient_ids).items()}


def load_doses(clinic_id: int, patient_ids: Iterable[int] | None = None) -> dict[int, list[Dose]]:
    query = (select(Treatment.patient_id, Treatment.id, Treatment.given_at,
                    Treatment.drug, Treatment.course, Treatment.session_number, Treatment.arm,
                    Treatment.period)
             .where(Treatment.clinic_id == clinic_id))
    if patient_ids is not None:
        query = query.where(Treatment.patient_id.in_(list(patient_ids)))
    doses: dict[int, list[Dose]] = defaultdict(list)
    with bulk():
        for patient_id, tid, at, drug, course, session, arm, period in driver_rows(query):
            doses[patient_id].append(Dose(tid, utc_value(at), drug, course, session, arm,
                                          period))
    return doses


def _verdicts(clinic_id: int, spec: RuleSpec, instrument_id: str, score_id: str, *,
              followups: bool) -> dict[int, list]:
    """Every patient's verdicts (patients without doses have none).

    followups=False reads only what verdicts, rates and time-point changes need: the verdicts
    then carry no in_window (unless the rule requires it) nor assessment ids in follow-ups.
    """
    doses = load_doses(clinic_id)
    series = load_columns(clinic_id, instrument_id, score_id,
                          in_window=followups or spec.require_in_window,
                          assessment_ids=followups)
    with bulk():
        return evaluate_cohort(series, doses, spec)


def _judged(clinic_id: int, spec: RuleSpec, instrument_id: str, score_id: str
            ) -> dict[int, list[Judged]]:
    """What cohort statistics read of every patient's verdicts (`judge_columns`), from the
    lean read of `_verdicts(..., followups=False)`."""
    doses = load_doses(clinic_id)
    series = load_columns(clinic_id, instrument_id, score_id,
                          in_window=spec.require_in_window, assessment_ids=False)
    with bulk():
        return judge_columns(series, doses, spec)


def patient_outcomes(patient: Patient, rule: Rule) -> list:
    spec = rule_spec(rule)
    series = load_columns(patient.clinic_id, rule.instrument_id, rule.score_id, [patient.id])
    doses = load_doses(patient.clinic_id, [patient.id])
    record("outcomes.patient", patient_id=patient.id, target_type="rule", target_id=rule.id)
    ats, values, in_window, ids = series.get(patient.id, NO_COLUMNS)
    return evaluate_columns(ats, values, doses.get(patient.id, []), spec, in_window=in_window,
                            assessment_ids=ids)


def clinic_verdicts(clinic_id: int, rule: Rule, *, followups: bool = True) -> dict[int, list]:
    """Every patient's verdicts under one rule (patients without doses have none).

    followups=False when only verdicts, rates and changes are read (see `_verdicts`).
    """
    return _verdicts(clinic_id, rule_spec(rule), rule.instrument_id, rule.score_id,
                     followups=followups)


def cohort_outcomes(clinic_id: int, rule: Rule, *, group_by: str = "none",
                    per: str = "anchor") -> dict:
    # One pause of the collector for the whole computation, and the records freed inside it:
    # re-enabled in between, it would walk every row, point and record still alive.
    with bulk():
        judged = _judged(clinic_id, rule_spec(rule), rule.instrument_id, rule.score_id)
        patients = len(judged)
        result = summarize_judged(judged, group_by=group_by, per=per).to_dict()
        if group_by in ("period", "arm_period", "arm"):
            result["carryover"] = [row.to_dict() for row in carryover(judged)]
        del judged
    record("outcomes.cohort", clinic_id=clinic_id, target_type="rule", target_id=rule.id,
           detail=f"{patients} patients; group_by={group_by}; per={per}")
    return result


def preview_outcomes(clinic_id: int, definition: dict, *, group_by: str = "none",
                     per: str = "anchor") -> dict:
    """The cohort result for an unsaved rule definition (validated by the caller); stores
    nothing but the audit event: the rules editor's live preview."""
    spec = RuleSpec.from_dict(definition)
    with bulk():  # as in cohort_outcomes
        judged = _judged(clinic_id, spec, spec.instrument, spec.score)
        patients = len(judged)
        result = summarize_judged(judged, group_by=group_by, per=per).to_dict()
        del judged
    record("outcomes.preview", clinic_id=clinic_id, target_type="rule",
           detail=f"{patients} patients; instrument={spec.instrument}; group_by={group_by}")
    return result
