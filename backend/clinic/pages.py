"""What the clinician pages show, gathered with a handful of queries per page (no N+1).

Views stay thin: each page calls one function here and renders the dict it returns. The
deciding is done by the pure cores (outcomes, schedules.slots, charts); this module reads
and arranges.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, select, type_coerce, union_all
from sqlalchemy.orm import aliased

from ..assessments.models import Assessment, ScoreValue
from ..audit.service import record
from ..charts import Line, Marker, Point, line_chart
from ..dbtypes import utcnow
from ..extensions import db
from ..instruments.service import registry
from ..outcomes import ScorePoint, evaluate
from ..patients import service as patients
from ..patients.models import Patient
from ..rules import evaluation
from ..rules import service as rules
from ..rules.models import Rule
from ..schedules import service as schedules
from ..schedules.slots import Dose as SlotDose
from ..schedules.slots import dose_slots, routine_slots, with_states
from ..treatments.models import Treatment
from .words import VERDICT_WORDS, rule_text, threshold_value, verdict_sentence

#: Rules shown on the patient list when the clinician has not chosen any.
DEFAULT_LIST_RULES = ("nrs-pain-pain-reduced-by-30-or-more", "phq9-phq-9-response")
#: Missed schedule slots count as overdue for this long after their window closed.
OVERDUE_SPAN = timedelta(days=7)
SIDE_EFFECTS = "side_effects"
RANGES = {"90": 90, "365": 365, "all": None}
#: Patients per page of the list.
PAGE_SIZE = 100


def domain_label(instrument, score_def) -> str:
    """Short name for sentences: "pain", "PHQ-9", "fatigue"."""
    title = instrument.text(score_def.title, "en")
    for suffix in (" total", " score", " intensity"):
        if title.lower().endswith(suffix):
            title = title[: -len(suffix)]
    return title if any(c.isupper() for c in title[1:]) else title.lower()


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
    chosen = [by_key[k] for k in refs if k in by_key][:4]
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
    points = evaluation.load_points(clinic_id, rule.instrument_id, rule.score_id, patient_ids)
    out = {}
    for pid, patient_doses in doses.items():
        verdicts = evaluate(points.get(pid, []), patient_doses, spec)
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
            "pages": pages, "rules": all_rules, "chosen": chosen,
            "chosen_labels": {r.key: rule_label(r) for r in chosen},
            "alerts": [{"alert": a, "code": codes.get(a.patient_id)} for a in alerts]}


# ---------------------------------------------------------------- patient page

def _dose_label(t: Treatment) -> str:
    parts = [f"{t.drug} {t.dose:g} {t.dose_unit} {t.route}"]
    if t.course:
        parts.append(f"course {t.course}")
    if t.session_number:
        parts.append(f"session {t.session_number}")
    if t.arm or t.period:
        parts.append(" ".join(x for x in (t.arm or "", f"period {t.period}" if t.period else "")
                              if x))
    return ", ".join(parts)


def patient_series(clinic_id: int, patient_id: int, pairs: list[tuple[str, str]]
                   ) -> dict[tuple[str, str], list[ScorePoint]]:
    """One patient's score series for several (instrument, score) pairs in one statement.

    A UNION ALL of one indexed range per pair; on SQLite the time column is read as text and
    parsed with ``fromisoformat`` (several times faster than generic type processing).
    """
    out: dict[tuple[str, str], list[ScorePoint]] = defaultdict(list)
    if not pairs:
        return out
    sqlite = db.engine.dialect.name == "sqlite"
    at = type_coerce(ScoreValue.at, String) if sqlite else ScoreValue.at
    parts = [select(ScoreValue.instrument_id, ScoreValue.score_id, at.label("at"),
                    ScoreValue.value, ScoreValue.assessment_id, ScoreValue.in_window)
             .where(ScoreValue.clinic_id == clinic_id, ScoreValue.instrument_id == inst,
                    ScoreValue.score_id == score, ScoreValue.patient_id == patient_id)
             for inst, score in pairs]
    query = union_all(*parts) if len(parts) > 1 else parts[0]
    rows = db.session.connection().execute(query).all()
    if sqlite:
        parse = datetime.fromisoformat
        for inst, score, when, value, assessment_id, in_window in rows:
            out[(inst, score)].append(ScorePoint(parse(when + "+00:00"), value, assessment_id,
                                                 in_window))
    else:
        for inst, score, when, value, assessment_id, in_window in rows:
            out[(inst, score)].append(ScorePoint(when, value, assessment_id, in_window))
    for points in out.values():
        points.sort(key=lambda p: p.at)
    return out


def _rule_for(instrument_id: str, current: list[Rule], wanted: str | None) -> Rule | None:
    options = [r for r in current if r.instrument_id == instrument_id]
    return next((r for r in options if r.key == wanted), options[0] if options else None)


def patient_page(clinic_id: int, patient_id: int, *, rule_choice: dict[str, str],
                 range_key: str = "90", all_answers: bool = False) -> dict:
    """Everything on one patient's page: trend and verdicts per domain, answers, doses."""
    patient = patients.get_patient(clinic_id, patient_id)  # audited patient.read
    tz = ZoneInfo(patient.timezone or "UTC")
    now = utcnow()
    known = registry()
    treatments = list(db.session.scalars(select(Treatment).where(
        Treatment.patient_id == patient.id).order_by(Treatment.given_at)))
    doses = evaluation.load_doses(clinic_id, [patient.id]).get(patient.id, [])
    markers = [Marker(t.given_at, _dose_label(t), f"{t.drug} {t.dose:g} {t.dose_unit}"[:24])
               for t in treatments]
    present = list(db.session.scalars(
        select(Assessment.instrument_id).where(Assessment.patient_id == patient.id)
        .group_by(Assessment.instrument_id)))
    current = rules.list_rules(clinic_id)
    days = RANGES.get(range_key, 90)
    x_range = (now - timedelta(days=days), now) if days else None
    domains, wanted = [], []
    for instrument in known.all():
        if instrument.id not in present or instrument.id == SIDE_EFFECTS:
            continue
        rule = _rule_for(instrument.id, current, rule_choice.get(instrument.id))
        score_def = instrument.score_def(rule.score_id) if rule else instrument.primary_score
        wanted.append((instrument, rule, score_def))
    series = patient_series(clinic_id, patient.id, [(i.id, sd.id) for i, _r, sd in wanted])
    for instrument, rule, score_def in wanted:
        points = series.get((instrument.id, score_def.id), [])
        label = domain_label(instrument, score_def)
        verdicts, baseline, threshold = [], None, None
        if rule is not None:
            spec = evaluation.rule_spec(rule)
            words = rule_label(rule)
            for v in evaluate(points, doses, spec):
                d = v.to_dict(trajectory=False)
                d["sentence"] = verdict_sentence(label, d, words)
                d["words"] = VERDICT_WORDS[d["verdict"]]
                verdicts.append(d)
                if v.baseline is not None:
                    baseline = v.baseline
            threshold = threshold_value(rule.definition, baseline)
        shown = [p for p in points if x_range is None or p.at >= x_range[0]]
        unit = "" if score_def.unit == "{score}" else score_def.unit
        svg = line_chart(
            [Point(p.at, p.value, p.in_window) for p in shown], doses=markers,
            y_range=tuple(score_def.range), direction=score_def.direction,
            baseline=Line(baseline, "Baseline") if baseline is not None else None,
            threshold=Line(threshold, "Threshold") if threshold is not None else None,
            title=f"{instrument.text(score_def.title, 'en')} over time", unit=unit, tz=tz,
            x_range=x_range if shown or markers else None, width=720, height=240,
            chart_id=f"chart-{instrument.id}")
        domains.append({
            "instrument": instrument, "score": score_def, "label": label, "rule": rule,
            "rule_label": rule_label(rule) if rule else None,
            "rules": [r for r in current if r.instrument_id == instrument.id],
            "svg": svg, "count": len(points), "shown": len(shown),
            "out_of_window": sum(1 for p in shown if p.in_window is False),
            "latest": points[-1] if points else None, "verdicts": verdicts,
            "by_dose": {v["anchor_dose_id"]: v for v in verdicts}})
    limit = None if all_answers else 30
    answers = _answers(patient, limit)
    side = _side_effects(patient, treatments, known)
    alerts = patients.list_alerts(patient)
    invites = patients.list_invites(patient)
    record("clinic.patient_page", patient_id=patient.id, target_type="patient",
           target_id=patient.id, detail=f"range={range_key}")
    return {"patient": patient, "tz": tz, "treatments": treatments, "domains": domains,
            "answers": answers, "answers_limited": limit is not None and len(answers) >= limit,
            "side_effects": side, "alerts": alerts,
            "open_alerts": [a for a in alerts if a.acknowledged_at is None],
            "invites": invites, "now": now, "range_key": range_key,
            "dose_labels": {t.id: _dose_label(t) for t in treatments},
            "dose_times": {t.id: t.given_at for t in treatments}}


def _answer_cells(instrument, answers: dict) -> list[dict]:
    cells = []
    for item_id, value in answers.items():
        text, shown = item_id, str(value)
        try:
            item = instrument.item(item_id)
            text = instrument.text(item.text, "en")
            option = next((o for o in item.options if o.value == value), None)
            if option is not None:
                shown = f"{value} ({instrument.text(option.label, 'en')})"
        except KeyError:
            pass
        short = item_id.rsplit("_", 1)[-1] if "_" in item_id else item_id
        cells.append({"id": item_id, "short": short, "text": text, "value": value,
                      "shown": shown})
    return cells


def _answers(patient: Patient, limit: int | None) -> list[dict]:
    """The patient's current (not superseded) answers, newest first, columns only."""
    later = aliased(Assessment)
    query = (select(Assessment.id, Assessment.instrument_id, Assessment.answers,
                    Assessment.scores, Assessment.completed_at, Assessment.in_window,
                    Assessment.supersedes_id)
             .where(Assessment.patient_id == patient.id,
                    ~select(later.id).where(later.supersedes_id == Assessment.id).exists())
             .order_by(Assessment.completed_at.desc(), Assessment.id.desc()))
    if limit:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    record("assessment.list", clinic_id=patient.clinic_id, patient_id=patient.id,
           target_type="patient", target_id=patient.id, detail=f"{len(rows)} rows")
    known = registry()
    out = []
    for a in rows:
        instrument = known.get(a.instrument_id) if a.instrument_id in known else None
        scores = a.scores.get("scores", {}) if isinstance(a.scores, dict) else {}
        out.append({
            "a": a, "title": instrument.text(instrument.title, "en") if instrument
            else a.instrument_id,
            "scores": [(sid, s.get("value"), s.get("band")) for sid, s in scores.items()],
            "cells": _answer_cells(instrument, a.answers) if instrument else
            [{"short": k, "text": k, "value": v, "shown": str(v)} for k, v in a.answers.items()],
        })
    return out


def _side_effects(patient: Patient, treatments: list[Treatment], known) -> dict[int, list]:
    """Side-effect answers after each dose (before the next one), non-zero items in words."""
    if SIDE_EFFECTS not in known or not treatments:
        return {}
    instrument = known.get(SIDE_EFFECTS)
    rows = db.session.execute(select(Assessment.completed_at, Assessment.answers)
                              .where(Assessment.patient_id == patient.id,
                                     Assessment.instrument_id == SIDE_EFFECTS)
                              .order_by(Assessment.completed_at)).all()
    out: dict[int, list] = defaultdict(list)
    times = [t.given_at for t in treatments]
    for at, answers in rows:
        owner = None
        for i, given in enumerate(times):
            if given <= at and (i + 1 == len(times) or at < times[i + 1]):
                owner = treatments[i]
        if owner is None:
            continue
        cells = [c for c in _answer_cells(instrument, answers) if c["value"]]
        out[owner.id].append({"at": at, "hours": (at - owner.given_at).total_seconds() / 3600,
                              "effects": [(c["text"].split(" (")[0], c["shown"].split("(")[-1]
                                           .rstrip(")").lower()) for c in cells]})
    return out
