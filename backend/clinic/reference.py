"""Reads for the patient page's comparisons: the cohort band and the items that changed most.

The pure parts (quantiles, weeks, item changes, words) are in ``trends``; the page and the
API (``backend.clinic.api``) both call these functions, so they show the same numbers.

The cohort band is one aggregate statement, kept cheap by two bounds: at most
``BAND_PATIENTS`` other patients (the most recently added ones with a dose, less those who
cannot have reached the charted weeks yet), and only the weeks the chart shows. SQLite
reads each of those patients' scores through the series index (``CROSS JOIN`` keeps it
from scanning the clinic's whole instrument first) and returns one mean per patient and
week; quartiles are taken in Python (SQLite has no percentile). The cohort is computed once
(``MATERIALIZED``), not once per score.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Integer, String, bindparam, literal, select, text, union_all
from sqlalchemy.orm import aliased

from ..assessments.models import Assessment
from ..dbtypes import UTCDateTime, utcnow
from ..extensions import db
from . import trends

#: Other patients in the band at most: the most recently added ones with a dose.
BAND_PATIENTS = 50
#: Stands in for the first dose of a patient without one (nothing is before it).
NO_DOSE = datetime(1900, 1, 1, tzinfo=UTC)

_COHORT = """
cohort AS MATERIALIZED (
  SELECT t.patient_id AS pid, min(t.given_at) AS first_at
  FROM treatments t
  WHERE t.patient_id IN (
    SELECT p.id FROM patients p
    WHERE p.clinic_id = :clinic AND p.id <> :patient
      AND EXISTS (SELECT 1 FROM treatments x WHERE x.patient_id = p.id)
    ORDER BY p.id DESC LIMIT :cap)
  GROUP BY t.patient_id
  HAVING min(t.given_at) <= :latest_first)"""

# SQLite: times are text; julianday() gives days (exact to the millisecond), weeks are
# floored with integer division after an offset (no floor() without the math extension).
_SQLITE_PART = """
SELECT {n} AS n, week, mean FROM (
  SELECT (CAST(round((julianday(sv.at) - b.jf) * 86400000) AS INTEGER)
          + 604800000 * 100000) / 604800000 - 100000 AS week,
         avg(sv.value) AS mean
  FROM bounds b CROSS JOIN score_values sv
  WHERE sv.clinic_id = :clinic AND sv.instrument_id = :inst_{n} AND sv.score_id = :score_{n}
    AND sv.patient_id = b.pid AND sv.at >= b.lo_at AND sv.at < b.hi_at
  GROUP BY sv.patient_id, week)
WHERE week BETWEEN :lo_week AND :hi_week"""
_SQLITE = """WITH {cohort},
bounds AS MATERIALIZED (
  SELECT pid, julianday(first_at) AS jf, datetime(first_at, :lo_days) AS lo_at,
         datetime(first_at, :hi_days) AS hi_at
  FROM cohort)
{parts}"""

_PG_PART = """
SELECT {n} AS n, week, mean FROM (
  SELECT floor(extract(epoch FROM (sv.at - c.first_at)) / 604800)::int AS week,
         avg(sv.value) AS mean
  FROM cohort c JOIN score_values sv
    ON sv.clinic_id = :clinic AND sv.instrument_id = :inst_{n} AND sv.score_id = :score_{n}
   AND sv.patient_id = c.pid
   AND sv.at >= c.first_at + make_interval(days => :lo_day)
   AND sv.at < c.first_at + make_interval(days => :hi_day)
  GROUP BY sv.patient_id, week) w
WHERE week BETWEEN :lo_week AND :hi_week"""
_PG = "WITH {cohort}\n{parts}"


@lru_cache(maxsize=32)
def _band_statement(pairs: int, sqlite: bool):
    part, whole = (_SQLITE_PART, _SQLITE) if sqlite else (_PG_PART, _PG)
    sql = whole.format(cohort=_COHORT.strip(),
                       parts="\nUNION ALL".join(part.format(n=n) for n in range(pairs)))
    return text(sql).bindparams(bindparam("latest_first", type_=UTCDateTime))


def cohort_bands(clinic_id: int, patient_id: int, pairs: list[tuple[str, str]],
                 first_dose: datetime, start: datetime, end: datetime,
                 cap: int | None = None) -> dict[tuple[str, str], list[trends.BandWeek]]:
    """Per (instrument, score): the other patients' median and quartiles per week since
    their first dose, for the weeks (since this patient's ``first_dose``) that overlap
    [start, end]. Weeks with too few patients are left out."""
    out: dict[tuple[str, str], list[trends.BandWeek]] = {pair: [] for pair in pairs}
    if not pairs or end < start:
        return out
    lo_week, hi_week = trends.weeks_between(start, end, first_dose)
    # A day of slack each side: the exact week test is on the computed week.
    lo_day, hi_day = 7 * lo_week - 1, 7 * (hi_week + 1) + 1
    sqlite = db.engine.dialect.name == "sqlite"
    # Only patients who could have answered that long after their first dose (answers are
    # never in the future) can count: the others are left out before any score is read.
    latest_first = utcnow() + timedelta(days=1) - lo_week * trends.WEEK
    values = {"clinic": clinic_id, "patient": patient_id, "cap": cap or BAND_PATIENTS,
              "lo_week": lo_week, "hi_week": hi_week, "latest_first": latest_first}
    if sqlite:
        values |= {"lo_days": f"{lo_day:+d} days", "hi_days": f"{hi_day:+d} days"}
    else:
        values |= {"lo_day": lo_day, "hi_day": hi_day}
    for n, (inst, score) in enumerate(pairs):
        values[f"inst_{n}"], values[f"score_{n}"] = inst, score
    rows: list[list[tuple[int, float]]] = [[] for _ in pairs]
    for n, week, mean in db.session.connection().execute(_band_statement(len(pairs), sqlite),
                                                         values):
        rows[n].append((week, mean))
    for n, pair in enumerate(pairs):
        out[pair] = trends.band_weeks(rows[n])
    return out


# ---------------------------------------------------------------- items that changed most

@lru_cache(maxsize=16)
def _item_rows_statement(instruments: int):
    """Per instrument three current answers, each found by one index seek: the latest, the
    last before the first dose, and the first. Tagged (position, role)."""
    later = aliased(Assessment)
    current = ~select(later.id).where(later.supersedes_id == Assessment.id).exists()
    cols = (Assessment.id, Assessment.answers, Assessment.completed_at)
    parts = []
    for n in range(instruments):
        own = (Assessment.patient_id == bindparam("patient"),
               Assessment.instrument_id == bindparam(f"inst_{n}"), current)
        newest = (Assessment.completed_at.desc(), Assessment.id.desc())
        for role, where, order in (
                ("latest", own, newest),
                ("before", (*own, Assessment.completed_at < bindparam(
                    "first_dose", type_=UTCDateTime)), newest),
                ("first", own, (Assessment.completed_at, Assessment.id))):
            parts.append(select(literal(n, Integer).label("n"), literal(role, String)
                                .label("role"), *cols).where(*where).order_by(*order)
                         .limit(1).subquery())
    return union_all(*(select(p) for p in parts))


def item_change_rows(patient_id: int, instruments: list[str], first_dose: datetime | None
                     ) -> dict[str, tuple]:
    """Per instrument: (baseline row, latest row), rows with id, answers and completed_at.

    The baseline is the last answer before the first dose, or the first answer when there
    is none (no dose yet, or nothing answered before it). Instruments answered once are left
    out (nothing to compare).
    """
    if not instruments:
        return {}
    values = {"patient": patient_id, "first_dose": first_dose or NO_DOSE}
    values |= {f"inst_{n}": inst for n, inst in enumerate(instruments)}
    found: dict[int, dict[str, tuple]] = {}
    for n, role, aid, answers, at in db.session.connection().execute(
            _item_rows_statement(len(instruments)), values):
        found.setdefault(n, {})[role] = (aid, answers, at)
    out = {}
    for n, inst in enumerate(instruments):
        rows = found.get(n, {})
        latest = rows.get("latest")
        base = rows.get("before") if first_dose is not None else None
        base = base or rows.get("first")
        if latest is None or base is None or base[0] == latest[0]:
            continue
        out[inst] = (base, latest)
    return out


def item_changes(patient_id: int, instruments: list, first_dose: datetime | None
                 ) -> dict[str, dict]:
    """Per instrument with more than one item: baseline, latest and the item changes."""
    rows = item_change_rows(patient_id, [i.id for i in instruments], first_dose)
    out = {}
    for instrument in instruments:
        if instrument.id not in rows:
            continue
        (base_id, base_answers, base_at), (last_id, last_answers, last_at) = rows[instrument.id]
        out[instrument.id] = {
            "instrument_id": instrument.id,
            "baseline": {"assessment_id": base_id, "completed_at": base_at,
                         "before_first_dose": first_dose is not None and base_at < first_dose},
            "latest": {"assessment_id": last_id, "completed_at": last_at},
            "items": trends.item_changes(instrument, base_answers, last_answers)}
    return out
