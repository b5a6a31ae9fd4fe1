"""PURE: a schedule definition + doses + the time -> the patient's slots, each with its window.

No Flask, no SQLAlchemy, no clock: callers pass ``now``. Every time is an aware datetime and
every offset is elapsed time (``timedelta``), so a daylight-saving change never moves a slot:
"+24 h" means 24 real hours after the dose, whatever the wall clock says.

Slot keys are stable, so an answer can name the slot it was given for:
``d<treatment id>.<slot id>`` for a dose slot, ``d<treatment id>.m<n>`` for the n-th monthly
follow-up and ``r.<n>`` for the n-th routine slot (counted from enrolment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

STATES = ("due", "upcoming", "done", "missed")
KEY = re.compile(r"^(?:d(?P<tid>\d+)\.(?P<slot>[a-z0-9_]+)|r\.(?P<n>\d+))$")


@dataclass(frozen=True)
class Dose:
    """What the slot computation needs of a treatment."""

    id: int
    given_at: datetime
    label: str = ""


@dataclass
class Slot:
    key: str
    kind: str  #: "dose", "monthly" or "routine"
    label: str  #: the schedule's slot id, e.g. "baseline", "h24", "monthly", "routine"
    due_at: datetime
    opens_at: datetime
    closes_at: datetime
    instruments: list[str]
    treatment_id: int | None = None
    state: str = "upcoming"
    #: Instruments of this slot already answered (filled by :func:`with_states`).
    done: list[str] = field(default_factory=list)

    def contains(self, at: datetime) -> bool:
        return self.opens_at <= at <= self.closes_at

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "label": self.label,
                "due_at": self.due_at, "opens_at": self.opens_at, "closes_at": self.closes_at,
                "instruments": list(self.instruments), "treatment_id": self.treatment_id,
                "state": self.state, "done": list(self.done),
                "pending": [i for i in self.instruments if i not in self.done]}


def _utc(doses: Sequence[Dose]) -> list[Dose]:
    """Doses in UTC: Python adds a timedelta to an aware local time on the wall clock (a day
    across a DST change would be 23 or 25 real hours), so all arithmetic happens in UTC."""
    return [Dose(d.id, d.given_at.astimezone(UTC), d.label) for d in doses]


def _minutes(value) -> timedelta:
    return timedelta(minutes=float(value))


def dose_slots(definition: Mapping, doses: Sequence[Dose]) -> list[Slot]:
    """Slots relative to each dose. A follow-up that would fall at or after the next dose is
    left out: from then on the next dose's own slots measure the patient."""
    ordered = sorted(_utc(doses), key=lambda d: (d.given_at, d.id))
    out: list[Slot] = []
    for i, dose in enumerate(ordered):
        next_at = ordered[i + 1].given_at if i + 1 < len(ordered) else None
        for spec in definition.get("dose_slots", []):
            offset = _minutes(spec["offset_minutes"])
            due = dose.given_at + offset
            if offset > timedelta(0) and next_at is not None and due >= next_at:
                continue
            out.append(Slot(key=f"d{dose.id}.{spec['id']}", kind="dose", label=spec["id"],
                            due_at=due, opens_at=due - _minutes(spec["before_minutes"]),
                            closes_at=due + _minutes(spec["after_minutes"]),
                            instruments=list(spec["instruments"]), treatment_id=dose.id))
        monthly = definition.get("monthly")
        if monthly:
            every = timedelta(days=monthly["every_days"])
            for n in range(1, int(monthly.get("count", 0)) + 1):
                due = dose.given_at + timedelta(days=monthly["start_days"]) + every * (n - 1)
                if next_at is not None and due >= next_at:
                    break
                out.append(Slot(key=f"d{dose.id}.m{n}", kind="monthly", label="monthly",
                                due_at=due, opens_at=due - _minutes(monthly["before_minutes"]),
                                closes_at=due + _minutes(monthly["after_minutes"]),
                                instruments=list(monthly["instruments"]), treatment_id=dose.id))
    return out


def routine_slots(definition: Mapping, start: datetime, until: datetime,
                  near: Iterable[datetime]) -> list[Slot]:
    """The routine (e.g. weekly) slots from ``start`` up to ``until``, skipping any within
    ``quiet_days`` of a dose-relative slot (those already measure the patient)."""
    routine = definition.get("routine")
    if not routine:
        return []
    every = timedelta(days=routine["every_days"])
    quiet = timedelta(days=routine.get("quiet_days", 0))
    start = start.astimezone(UTC)
    near = sorted(near)
    out = []
    n = 0
    while True:
        due = start + every * n
        if due > until:
            break
        if not any(abs(due - t) < quiet for t in near):
            out.append(Slot(key=f"r.{n}", kind="routine", label="routine", due_at=due,
                            opens_at=due - _minutes(routine.get("before_minutes", 0)),
                            closes_at=due + _minutes(routine["after_minutes"]),
                            instruments=list(routine["instruments"])))
        n += 1
    return out


def compute_slots(definition: Mapping, doses: Sequence[Dose], *, start: datetime,
                  now: datetime, horizon: timedelta = timedelta(days=14)) -> list[Slot]:
    """Every slot opening before ``now + horizon``, oldest first, state not yet applied."""
    slots = dose_slots(definition, doses)
    until = now + horizon
    slots += routine_slots(definition, start, until, [s.due_at for s in slots])
    slots = [s for s in slots if s.opens_at <= until]
    return sorted(slots, key=lambda s: (s.due_at, s.key))


def with_states(slots: Iterable[Slot], answered: Mapping[str, Iterable[str]],
                now: datetime) -> list[Slot]:
    """Mark each slot done, due, upcoming or missed. ``answered``: slot key -> instruments."""
    out = []
    for slot in slots:
        slot.done = [i for i in slot.instruments if i in set(answered.get(slot.key, ()))]
        if len(slot.done) == len(slot.instruments):
            slot.state = "done"
        elif now < slot.opens_at:
            slot.state = "upcoming"
        elif now <= slot.closes_at:
            slot.state = "due"
        else:
            slot.state = "missed"
        out.append(slot)
    return out


def find_slot(definition: Mapping, doses: Sequence[Dose], key: str, *,
              start: datetime) -> Slot | None:
    """The slot with this key, or None when the schedule has no such slot for these doses."""
    match = KEY.match(key or "")
    if not match:
        return None
    if match["n"] is not None:
        routine = definition.get("routine")
        if not routine:
            return None
        n = int(match["n"])
        due = start.astimezone(UTC) + timedelta(days=routine["every_days"]) * n
        slots = routine_slots(definition, due, due, [s.due_at for s in
                                                    dose_slots(definition, doses)])
        if not slots:
            return None
        slot = slots[0]
        slot.key = key
        return slot
    tid = int(match["tid"])
    return next((s for s in dose_slots(definition, [d for d in doses])
                 if s.treatment_id == tid and s.key == key), None)
