"""The bulk reads behind outcomes: times exact to the microsecond on SQLite and PostgreSQL, and
a cohort read that leaves columns out gives what a full read gives."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")

#: Awkward instants: both sides of daylight-saving changes (also an ambiguous wall time, both
#: folds), microsecond edges (including fractions SQLite's date functions would round to the
#: next second), before 1970, a leap day, far ahead.
TIMES = [
    datetime(2026, 3, 29, 1, 59, 59, 999_999, tzinfo=BERLIN),  # the hour before clocks go on
    datetime(2026, 3, 29, 3, 0, 0, 0, tzinfo=BERLIN),
    datetime(2026, 3, 29, 3, 0, 0, 1, tzinfo=BERLIN),
    datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),  # the first 01:30 of the night...
    datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK),  # ... and the second, an hour later
    datetime(2026, 5, 4, 8, 59, 59, 999_500, tzinfo=UTC),
    datetime(2026, 5, 4, 8, 59, 59, 999_499, tzinfo=UTC),
    datetime(2026, 5, 4, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 5, 5, 0, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 5, 5, 0, 0, 0, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    datetime(2028, 2, 29, 12, 0, 0, 123_456, tzinfo=UTC),
    datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


@pytest.fixture
def clinic(app, make_clinic):
    clinic_id = make_clinic()
    with app.app_context():
        from backend.extensions import db
        from backend.patients.models import Patient

        patients = [Patient(clinic_id=clinic_id, code=f"R-{i}") for i in range(3)]
        db.session.add_all(patients)
        db.session.commit()
        return clinic_id, [p.id for p in patients]


def add_scores(clinic_id, patient_id, rows, instrument="nrs_pain", score="score"):
    """rows: (at, value, in_window); one assessment each, straight into the tables."""
    from backend.assessments.models import Assessment, ScoreValue
    from backend.extensions import db

    ids = []
    for at, value, in_window in rows:
        assessment = Assessment(
            clinic_id=clinic_id, patient_id=patient_id, instrument_id=instrument,
            instrument_version="1", scoring_version="1", answers={}, scores={},
            completed_at=at, client_uuid=str(uuid.uuid4()),
            in_window=in_window)
        db.session.add(assessment)
        db.session.flush()
        db.session.execute(insert(ScoreValue), [dict(
            assessment_id=assessment.id, clinic_id=clinic_id, patient_id=patient_id,
            instrument_id=instrument, score_id=score, value=value, at=at,
            in_window=in_window)])
        ids.append(assessment.id)
    return ids


def add_doses(clinic_id, patient_id, times, **fields):
    from backend.extensions import db
    from backend.treatments.models import Treatment

    for i, at in enumerate(times):
        db.session.add(Treatment(clinic_id=clinic_id, patient_id=patient_id, drug="ketamine",
                                 dose=0.5, dose_unit="mg/kg", given_at=at, session_number=i + 1,
                                 **fields))


def test_bulk_reads_give_every_time_exact_to_the_microsecond(app, clinic):
    from backend.assessments.models import ScoreValue
    from backend.extensions import db
    from backend.outcomes.model import from_micros, to_micros
    from backend.rules import evaluation
    from backend.treatments.models import Treatment

    clinic_id, (pid, *_) = clinic
    with app.app_context():
        add_scores(clinic_id, pid, [(at, float(i), i % 2 == 0) for i, at in enumerate(TIMES)])
        add_doses(clinic_id, pid, TIMES)
        db.session.commit()

        # (Sorted as instants: Python compares two datetimes of one zone by their wall time.)
        expected = sorted(to_micros(at) for at in TIMES)
        assert len(set(expected)) == len(TIMES)  # the two 01:30 in New York are an hour apart
        # What the ORM reads back, through the column type, is the same instant...
        orm = sorted(to_micros(at) for at in db.session.scalars(
            select(ScoreValue.at).where(ScoreValue.patient_id == pid)))
        assert orm == expected
        # ... and so is what the bulk reads make of the raw driver values.
        ats, values, in_window, ids = evaluation.load_columns(
            clinic_id, "nrs_pain", "score")[pid]
        assert list(ats) == expected
        assert [to_micros(from_micros(us)) for us in ats] == expected
        assert all(isinstance(w, bool) for w in in_window) and len(ids) == len(TIMES)
        points = evaluation.load_points(clinic_id, "nrs_pain", "score")[pid]
        assert [to_micros(p.at) for p in points] == expected
        assert all(p.at.tzinfo is UTC for p in points)
        by_value = {p.value: p.in_window for p in points}
        assert by_value == {float(i): i % 2 == 0 for i in range(len(TIMES))}

        doses = evaluation.load_doses(clinic_id)[pid]
        given = list(db.session.scalars(select(Treatment.given_at)
                                        .where(Treatment.patient_id == pid)))
        assert sorted(d.at for d in doses) == sorted(given)  # both in UTC
        assert sorted(map(to_micros, given)) == expected
        assert all(d.at.tzinfo is UTC for d in doses)


@pytest.mark.parametrize("value", [
    "2026-05-04 09:00:00",  # text without a fraction
    "2026-05-04 09:00:00.5",  # a short fraction: half a second, not 5 microseconds
    "2026-05-04 09:00:00.000001",
    "2026-05-04T11:00:00.250000+02:00",  # text with an offset
    datetime(2026, 5, 4, 9, 0, 0, 1),  # naive: taken as UTC, as the column type does
    datetime(2026, 3, 29, 3, 0, 0, 1, tzinfo=BERLIN),
])
def test_a_time_in_any_shape_the_driver_may_give_reads_as_the_column_type_reads_it(value):
    from backend.dbtypes import UTCDateTime
    from backend.outcomes.model import to_micros
    from backend.rules.evaluation import micros_column, utc_value

    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    column_type = UTCDateTime().process_result_value(parsed, None)
    assert utc_value(value) == column_type and utc_value(value).tzinfo is UTC
    assert micros_column([value]) == [to_micros(column_type)]
    # One odd value among ordinary ones takes the careful path for the whole column.
    ordinary = "2026-05-04 10:00:00.000000"
    assert micros_column([ordinary, value]) == [to_micros(utc_value(ordinary)),
                                                 to_micros(column_type)]


EDGE_RULE = {
    "name": "pain -30% within 72 h", "instrument": "nrs_pain", "score": "score",
    "direction": "lower_is_better",
    "criteria": {"all": [{"kind": "percent_improvement", "value": 30}]},
    "window": {"start_hours": 0, "end_hours": 72},
    "baseline": {"method": "last", "span_hours": 24},
}


@pytest.mark.parametrize("after, responder", [
    (timedelta(hours=72), True),  # the last microsecond of the window
    (timedelta(hours=72, microseconds=1), False),  # one microsecond too late
])
@pytest.mark.parametrize("zone", [UTC, BERLIN])
def test_window_edges_hold_to_the_microsecond_across_a_daylight_saving_change(
        app, clinic, after, responder, zone):
    from backend.extensions import db
    from backend.outcomes import Rule
    from backend.rules import evaluation

    clinic_id, (pid, *_) = clinic
    # The dose is two hours before Berlin's clocks go on: 72 real hours later is 73 on the wall.
    # (Arithmetic in UTC: Python adds to a zoned datetime on the wall clock.)
    given = datetime(2026, 3, 29, 0, 0, 0, 999_999, tzinfo=BERLIN).astimezone(UTC)
    answered = (given + after).astimezone(zone)
    wall = (answered.astimezone(BERLIN).replace(tzinfo=None)
            - given.astimezone(BERLIN).replace(tzinfo=None))
    assert wall == after + timedelta(hours=1)
    with app.app_context():
        add_scores(clinic_id, pid, [(given - timedelta(microseconds=1), 10.0, None),
                                    (answered, 5.0, None)])
        add_doses(clinic_id, pid, [given.astimezone(zone)])
        db.session.commit()
        rule = Rule.from_dict(EDGE_RULE)
        verdicts = evaluation._verdicts(clinic_id, rule, "nrs_pain", "score", followups=True)
        (verdict,) = verdicts[pid]
        assert verdict.responder is responder
        assert verdict.reason == (None if responder else "no_followup")
        assert verdict.onset_hours == (72.0 if responder else None)
        assert verdict.baseline == 10.0
        assert verdict.baseline_at == given - timedelta(microseconds=1)


def test_a_cohort_read_without_follow_up_columns_gives_what_a_full_read_gives(app, clinic):
    from backend.extensions import db
    from backend.outcomes import Rule, carryover, summarize
    from backend.rules import evaluation

    clinic_id, pids = clinic
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with app.app_context():
        for n, pid in enumerate(pids):
            rows = [(t0 + timedelta(hours=13 * k + n), float((k * 7 + n) % 11),
                     (None, True, False)[(k + n) % 3]) for k in range(40)]
            rows.append((rows[5][0], 3.0, True))  # two answers at the same time
            add_scores(clinic_id, pid, rows)
            add_doses(clinic_id, pid, [t0 + timedelta(days=2 + 5 * d, minutes=n)
                                       for d in range(3)],
                      arm=("a", "b")[n % 2], period=1 + n % 2, course=f"c{n}")
        db.session.commit()
        for require in (False, True):
            for anchor in ("each_session", "first_of_course"):
                rule = Rule.from_dict({**EDGE_RULE, "require_in_window": require,
                                       "anchor": anchor})
                lean = evaluation._verdicts(clinic_id, rule, "nrs_pain", "score",
                                            followups=False)
                full = evaluation._verdicts(clinic_id, rule, "nrs_pain", "score",
                                            followups=True)
                assert lean == full  # every verdict field but the follow-up rows
                for group_by in ("none", "arm_period"):
                    for per in ("anchor", "patient"):
                        assert json.dumps(summarize(lean, group_by=group_by, per=per).to_dict()
                                          ) == json.dumps(summarize(full, group_by=group_by,
                                                                    per=per).to_dict())
                assert carryover(lean) == carryover(full)
