"""Response rules per clinic: presets from the instrument files, edits as new versions."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update

from ..audit.service import record
from ..errors import NotFound, ValidationProblem
from ..extensions import db
from ..instruments.service import registry
from ..outcomes import Rule as RuleSpec
from ..outcomes import RuleError
from .models import Rule


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "rule"


def preset_definition(instrument, preset: dict) -> dict:
    """An instrument file's default rule in the outcomes core's rule shape."""
    score_def = instrument.score_def(preset["score"])
    start, end = preset["window_hours"]
    window = {"start_hours": start, "end_hours": end, "evaluation": preset.get("evaluation", "any")}
    for key in ("nominal_hours", "tolerance_hours", "sustained_hours"):
        if preset.get(key) is not None:
            window[key] = preset[key]
    return {"name": preset["name"], "instrument": instrument.id, "score": score_def.id,
            "direction": score_def.direction, "criteria": preset["criteria"], "window": window,
            "baseline": preset.get("baseline", {"method": "last", "span_hours": 168}),
            "anchor": preset.get("anchor", "each_session"),
            "require_in_window": bool(preset.get("require_in_window", False)),
            "sd": score_def.sd, "reliability": score_def.reliability}


def validate_definition(definition: dict) -> dict:
    """Check a rule against the outcomes core and the instrument catalog; return it normalised."""
    problems = []
    instrument_id = definition.get("instrument")
    instruments = registry()
    if isinstance(instrument_id, str) and instrument_id in instruments:
        instrument = instruments.get(instrument_id)
        score_ids = [s.id for s in instrument.scores]
        if definition.get("score") not in score_ids:
            problems.append({"field": "score", "reason": f"must be one of {score_ids}"})
        else:
            score_def = instrument.score_def(definition["score"])
            # Direction always comes from the instrument; SD and reliability may too.
            definition = {**definition, "direction": score_def.direction}
            definition.setdefault("sd", score_def.sd)
            definition.setdefault("reliability", score_def.reliability)
    else:
        problems.append({"field": "instrument", "reason": "unknown instrument"})
    try:
        rule = RuleSpec.from_dict({"direction": "lower_is_better", **definition})
    except RuleError as exc:
        problems.extend({"field": f, "reason": r} for f, r in exc.problems)
        rule = None
    if problems:
        raise ValidationProblem("The rule is not valid.", errors=problems)
    return rule.to_dict()


def install_presets(clinic) -> list[Rule]:
    rules = []
    for instrument in registry().all():
        for preset in instrument.default_rules:
            definition = validate_definition(preset_definition(instrument, preset))
            rule = Rule(clinic_id=clinic.id, key=slugify(f"{instrument.id} {preset['name']}"),
                        version=1,
                        name=preset["name"], instrument_id=instrument.id,
                        score_id=definition["score"], definition=definition, current=True,
                        preset=True)
            rules.append(rule)
    db.session.add_all(rules)
    return rules


def list_rules(clinic_id: int, *, include_old: bool = False) -> list[Rule]:
    query = select(Rule).where(Rule.clinic_id == clinic_id)
    if not include_old:
        query = query.where(Rule.current.is_(True))
    return list(db.session.scalars(query.order_by(Rule.name, Rule.version)))


#: An id or version number: ASCII digits that fit a 64-bit column ("²".isdigit() is true too).
_ID = re.compile(r"[0-9]{1,18}")


def get_rule(clinic_id: int, ref: str | int) -> Rule:
    """A rule by id, or by key (its current version), or ``key@version``."""
    query = select(Rule).where(Rule.clinic_id == clinic_id)
    text = str(ref)
    if _ID.fullmatch(text):
        query = query.where(Rule.id == int(text))
    elif "@" in text:
        key, _, version = text.partition("@")
        if not _ID.fullmatch(version):
            raise NotFound(f"No rule {text!r}.", errors=[{"field": "rule", "reason": "unknown"}])
        query = query.where(Rule.key == key, Rule.version == int(version))
    else:
        query = query.where(Rule.key == text, Rule.current.is_(True))
    rule = db.session.scalar(query)
    if rule is None:
        raise NotFound(f"No rule {text!r} in this clinic.",
                       errors=[{"field": "rule", "reason": "unknown rule"}])
    return rule


def save_rule(clinic_id: int, user, definition: dict, key: str | None = None) -> Rule:
    """Create a rule, or a new version of ``key``; old versions stay for reproducibility."""
    definition = validate_definition(definition)
    key = key or slugify(definition["name"])
    latest = db.session.scalar(select(func.max(Rule.version))
                               .where(Rule.clinic_id == clinic_id, Rule.key == key))
    version = (latest or 0) + 1
    definition["version"] = version
    db.session.execute(update(Rule).where(Rule.clinic_id == clinic_id, Rule.key == key)
                       .values(current=False))
    rule = Rule(clinic_id=clinic_id, key=key, version=version, name=definition["name"],
                instrument_id=definition["instrument"], score_id=definition["score"],
                definition=definition, current=True, preset=False, created_by_id=user.id)
    db.session.add(rule)
    db.session.flush()
    record("rule.save", clinic_id=clinic_id, target_type="rule", target_id=rule.id,
           new={"key": key, "version": version})
    return rule
