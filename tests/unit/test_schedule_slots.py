"""Slot computation is pure: doses + schedule + now -> slots with windows, in elapsed time."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.schedules.service import DEFAULT_DEFINITION
from backend.schedules.slots import Dose, compute_slots, find_slot, with_states

D = copy.deepcopy(DEFAULT_DEFINITION)
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def course(days: int = 5, first: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)):
    return [Dose(id=i + 1, given_at=first + timedelta(days=i)) for i in range(days)]


def test_a_five_day_course_measures_before_and_after_each_dose_and_follows_up_the_last():
    slots = compute_slots(D, course(), start=START, now=datetime(2026, 11, 2, 8, tzinfo=UTC),
                          horizon=timedelta(days=400))
    keys = [s.key for s in slots if s.kind != "routine"]
    for dose in range(1, 6):
        assert f"d{dose}.baseline" in keys and f"d{dose}.min40" in keys
    for dose in range(1, 5):  # the next dose's own baseline takes over
        assert not [k for k in keys if k.startswith(f"d{dose}.") and
                    k.split(".")[1] not in ("baseline", "min40")]
    assert [k.split(".")[1] for k in keys if k.startswith("d5.")] == [
        "baseline", "min40", "h24", "h72", "d7", "d14", "m1", "m2", "m3", "m4", "m5", "m6"]
    assert len(keys) == len(set(keys))
    baseline2 = next(s for s in slots if s.key == "d2.baseline")
    assert baseline2.opens_at == datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
    assert baseline2.closes_at == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    m1 = next(s for s in slots if s.key == "d5.m1")
    assert m1.due_at - datetime(2026, 11, 6, 9, 0, tzinfo=UTC) == timedelta(days=44)


def test_elapsed_hours_do_not_move_across_a_daylight_saving_change():
    london = ZoneInfo("Europe/London")
    # Clocks go forward on 29 March 2026: a dose at 09:00 GMT on the 28th ...
    given = datetime(2026, 3, 28, 9, 0, tzinfo=london)
    slots = compute_slots(D, [Dose(1, given)], start=START, now=given,
                          horizon=timedelta(days=30))
    h24 = next(s for s in slots if s.key == "d1.h24")
    assert h24.due_at - given == timedelta(hours=24)
    # ... is due 24 real hours later, which the wall clock calls 10:00 BST.
    assert h24.due_at.astimezone(london).hour == 10
    h72 = next(s for s in slots if s.key == "d1.h72")
    assert (h72.due_at - given).total_seconds() == 72 * 3600


def test_states_follow_the_window_and_the_answers_given():
    doses = [Dose(7, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))]
    now = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)  # 27 h after the dose
    slots = with_states(compute_slots(D, doses, start=START, now=now), {
        "d7.baseline": set(DEFAULT_DEFINITION["dose_slots"][0]["instruments"]),
        "d7.h24": {"nrs_pain"}}, now)
    state = {s.key: s.state for s in slots}
    assert state["d7.baseline"] == "done"
    assert state["d7.min40"] == "missed"
    assert state["d7.h24"] == "due"  # window 20:00 .. 17:00 next day; one of four answered
    assert state["d7.h72"] == "upcoming"
    h24 = next(s for s in slots if s.key == "d7.h24")
    assert h24.to_dict()["pending"] == ["nrs_fatigue", "nrs_sleep", "peg"]


def test_the_weekly_routine_steps_aside_when_a_dose_is_near():
    dose = Dose(1, START + timedelta(days=14, hours=1))
    slots = compute_slots(D, [dose], start=START, now=START + timedelta(days=60),
                          horizon=timedelta(0))
    routine = [s.key for s in slots if s.kind == "routine"]
    assert "r.0" in routine and "r.1" in routine
    assert "r.2" not in routine  # day 14: the dose's own baseline measures the patient
    assert "r.3" not in routine  # day 21: the +7 d slot


def test_a_slot_is_found_again_by_its_key():
    doses = course()
    now = datetime(2026, 11, 30, tzinfo=UTC)
    for slot in compute_slots(D, doses, start=START, now=now):
        again = find_slot(D, doses, slot.key, start=START)
        assert again is not None and (again.opens_at, again.closes_at) == (slot.opens_at,
                                                                           slot.closes_at)
    assert find_slot(D, doses, "d1.h72", start=START) is None  # superseded by dose 2
    assert find_slot(D, doses, "nonsense", start=START) is None
    assert find_slot(D, doses, "d99.baseline", start=START) is None
