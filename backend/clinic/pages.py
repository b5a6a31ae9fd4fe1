"""What the clinician pages show, gathered with a handful of queries per page (no N+1).

Views stay thin: each page calls one function here (the patient page: ``patient``, the
cohort dashboard: ``cohort``) and renders the dict it returns. The
deciding is done by the pure cores (outcomes, schedules.slots, charts); this module reads
and arranges.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from ..assessments.models import Assessment
from ..dbtypes import utcnow
from ..extensions import db
from ..instruments.service import registry
from ..outcomes import evaluate_columns
from ..outcomes.evaluate import NO_COLUMNS
from ..patients import service as patients
from ..patients.models import Patient
from ..rules import evaluation
from ..rules import service as rules
from ..rules.models import Rule
from ..schedules import service as schedules
from ..schedules.slots import Dose as SlotDose
from ..schedules.slots import dose_slots, routine_slots, with_states
from ..treatments.models import Treatment
from .words import VERDICT_WORDS, rule_text, verdict_sentence

#: Rules shown on the patient list when the clinician has not chosen any.
DEFAULT_LIST_RULES = ("nrs-pain-pain-reduced-by-30-or-more", "phq9-phq-9-response")
#: At most this many verdict columns on the patient list (the first ones chosen are kept).
MAX_LIST_RULES = 4
#: Missed schedule slots count as overdue for this long after their window closed.
OVERDUE_SPAN = timedelta(days=7)
#: Patients per page of the list.
PAGE_SIZE = 100


def domain_label(instrument, score_def) -> str:
    """Short name for sentences: "pain", "PHQ-9", "fatigue"."""
    title = instrument.text(score_def.title, "en")
    for suffix in (" total", " score", " intensity"):
        if title.lower().endswith(suffix):
            title = title[: -len(suffix)]
    return title if any(c.isupper() for c in title[1:]) else title.lower()


def rule_names(rule_list) -> dict[str, str]:
    """Each rule's name for a choice among ``rule_list``, by key. Two instruments can give
    their rules the same name (fatigue as 0-10 and as a 0-100 slider): those names also say
    the instrument, so a clinician can tell the choices apart."""
    counts = Counter(rule.name for rule in rule_list)
    known = registry()
    out = {}
    for rule in rule_list:
        name = rule.name
        if counts[name] > 1:
            title = rule.instrument_id
            if rule.instrument_id in known:
                instrument = known.get(rule.instrument_id)
                title = instrument.text(instrument.title, "en")
            name += f" · {title}"
        out[rule.key] = name
    return out


def rule_label(rule: Rule) -> str:
    return definition_label(rule.definition)


def definition_label(definition: dict) -> str:
    """A rule definition in a few words, named by its score: "pain -30% within 7 days"."""
    known = registry()
    label = ""
    if definition.get("instrument") in known:
        instrument = known.get(definition["instrument"])
        try:
            label = domain_label(instrument, instrument.score_def(definition["score"]))
        except KeyError:
            pass
    return rule_text(definition, label)


# ---------------------------------------------------------------- schedule hook

def _recent_slots(definition: dict, doses: list[SlotDose], start: datetime,
                  now: datetime) -> list:
    """The patient's slots that can still be due, overdue or next: as ``compute_slots`` gives
    them, but without walking years of past routine slots (keys stay the same)."""
    lo = now - OVERDUE_SPAN - timedelta(days=31)
    horizon = now + timedelta(days=14)
    by_dose = dose_slots(definition, doses)
    slots = [s for s in by_dose if s.closes_at >= lo and s.opens_at <= horizon]
    routine = definition.get("routine")
    if routine:
        every = timedelta(days=routine["every_days"])
        skip = max(0, int((lo - start) / every))
        quiet = timedelta(days=routine.get("quiet_days", 0))
        near = [s.due_at for s in by_dose if lo - every - quiet <= s.due_at <= horizon + quiet]
        for slot in routine_slots(definition, start + every * skip, horizon, near):
            slot.key = f"r.{int(slot.key[2:]) + skip}"
            if slot.closes_at >= lo:
                slots.append(slot)
    return sorted(slots, key=lambda s: (s.due_at, s.key))


def schedule_status(clinic_id: int, patient_ids: list[int], now: datetime) -> dict[int, dict]:
    """Per patient: questionnaires due now and overdue (missed in the last 7 days).

    Three queries for the whole clinic, then the pure slot computation per patient.
    """
    out = {pid: {"due": 0, "overdue": 0, "next_due_at": None} for pid in patient_ids}
    schedule = schedules.current(clinic_id)
    if schedule is None or not patient_ids:
        return out
    doses: dict[int, list[SlotDose]] = defaultdict(list)
    for pid, tid, at in db.session.execute(
            select(Treatment.patient_id, Treatment.id, Treatment.given_at)
            .where(Treatment.clinic_id == clinic_id)):
        doses[pid].append(SlotDose(id=tid, given_at=at))
    since = now - OVERDUE_SPAN - timedelta(days=62)
    answered: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for pid, key, instrument_id in db.session.execute(
            select(Assessment.patient_id, Assessment.slot_key, Assessment.instrument_id)
            .where(Assessment.clinic_id == clinic_id, Assessment.slot_key.is_not(None),
                   Assessment.completed_at >= since)):
        answered[pid][key].add(instrument_id)
    starts = dict(db.session.execute(
        select(Patient.id, Patient.enrolled_at).where(Patient.clinic_id == clinic_id,
                                                      Patient.enrolled_at.is_not(None))).all())
    for pid in patient_ids:
        if pid not in starts:  # not enrolled yet: nothing can be due
            continue
        slots = with_states(_recent_slots(schedule.definition, doses.get(pid, []),
                                          starts[pid], now),
                            answered.get(pid, {}), now)
        status = out[pid]
        for slot in slots:
            if slot.state == "due":
                status["due"] += 1
            elif slot.state == "missed" and now - slot.closes_at <= OVERDUE_SPAN:
                status["overdue"] += 1
            elif slot.state == "upcoming" and status["next_due_at"] is None:
                status["next_due_at"] = slot.due_at
    return out


# ---------------------------------------------------------------- patient list

def chosen_rules(clinic_id: int, refs: list[str]) -> tuple[list[Rule], list[Rule]]:
    """(every current rule, the ones chosen by key; the defaults when none are)."""
    current = rules.list_rules(clinic_id)
    by_key = {r.key: r for r in current}
    chosen = [by_key[k] for k in refs if k in by_key][:MAX_LIST_RULES]
    if not chosen:
        chosen = [by_key[k] for k in DEFAULT_LIST_RULES if k in by_key] or current[:2]
    return current, chosen


def latest_verdicts(clinic_id: int, rule: Rule, patient_ids: list[int]) -> dict[int, dict]:
    """Each listed patient's verdict for their latest anchor under ``rule`` (two queries)."""
    if not patient_ids:
        return {}
    spec = evaluation.rule_spec(rule)
    label = rule_label(rule)
    doses = evaluation.load_doses(clinic_id, patient_ids)
    # As columns, as read: the core works on integer times (no datetime per point and back).
    series = evaluation.load_columns(clinic_id, rule.instrument_id, rule.score_id, patient_ids,
                                     in_window=spec.require_in_window, assessment_ids=False)
    out = {}
    for pid, patient_doses in doses.items():
        ats, values, in_window, _ = series.get(pid, NO_COLUMNS)
        verdicts = evaluate_columns(ats, values, patient_doses, spec, in_window=in_window)
        if verdicts:
            v = verdicts[-1].to_dict(trajectory=False)
            out[pid] = {"verdict": v["verdict"], "words": VERDICT_WORDS[v["verdict"]],
                        "sentence": verdict_sentence("", v, label).lstrip(": ").strip(),
                        "at": verdicts[-1].anchor_at}
    return out


def patient_list(clinic_id: int, *, q: str | None = None, status: str | None = None,
                 only: str | None = None, rule_refs: list[str] = (), page: int = 1) -> dict:
    """One page of the list: open alerts first, then by code; filters apply before paging."""
    now = utcnow()
    rows = patients.list_patients(clinic_id, q=q, status=status)
    due = schedule_status(clinic_id, [p.id for p in rows], now)
    kept = []
    for p in rows:
        item = {"patient": p, "last_answer_at": p.last_answer_at, "open_alerts": p.open_alerts,
                **due[p.id]}
        if only == "alerts" and not p.open_alerts:
            continue
        if only == "overdue" and not item["overdue"]:
            continue
        if only == "due" and not (item["due"] or item["overdue"]):
            continue
        kept.append(item)
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = kept[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    all_rules, chosen = chosen_rules(clinic_id, list(rule_refs))
    ids = [item["patient"].id for item in shown]
    latest = {rule.key: latest_verdicts(clinic_id, rule, ids) for rule in chosen}
    for item in shown:
        item["verdicts"] = [latest[r.key].get(item["patient"].id) for r in chosen]
    alerts = patients.open_alerts(clinic_id)
    codes = {p.id: p.code for p in rows}
    missing = {a.patient_id for a in alerts} - set(codes)
    if missing:
        codes |= dict(db.session.execute(select(Patient.id, Patient.code)
                                         .where(Patient.id.in_(missing))).all())
    return {"rows": shown, "matching": len(kept), "total": len(rows), "page": page,
            "pages": pages, "rules": all_rules, "chosen": chosen, "max_columns": MAX_LIST_RULES,
            "chosen_labels": {r.key: rule_label(r) for r in chosen},
            "alerts": [{"alert": a, "code": codes.get(a.patient_id)} for a in alerts]}
