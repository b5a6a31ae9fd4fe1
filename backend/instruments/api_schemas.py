"""The instrument catalog as the API shows it: one language, plain JSON."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..fields import AnswersField
from ..scoring import Instrument


class InstrumentQuerySchema(Schema):
    lang = fields.String(load_default="en", validate=validate.Length(min=2, max=8))


class ScoreRequestSchema(Schema):
    answers = AnswersField(required=True)


class InstrumentSummarySchema(Schema):
    id = fields.String()
    version = fields.String()
    title = fields.String()
    domains = fields.List(fields.String())
    validated = fields.Boolean()
    text_may_ship = fields.Boolean()
    items = fields.Integer(metadata={"description": "number of items"})
    primary_score = fields.String()
    direction = fields.String()


class InstrumentSchema(Schema):
    """Full definition in one language (item text, options, scores, bands, licence)."""

    id = fields.String()
    version = fields.String()
    title = fields.String()
    lang = fields.String()
    domains = fields.List(fields.String())
    recall = fields.String(allow_none=True)
    stem = fields.String(allow_none=True)
    validated = fields.Boolean()
    text_may_ship = fields.Boolean()
    licence = fields.String()
    citation = fields.String()
    notes = fields.String()
    loinc = fields.String(allow_none=True)
    items = fields.List(fields.Dict())
    scores = fields.List(fields.Dict())
    default_rules = fields.List(fields.Dict())


class ScoreResultSchema(Schema):
    scores = fields.Dict()
    flags = fields.List(fields.Dict())
    complete = fields.Boolean()
    missing = fields.List(fields.String())


def summary(instrument: Instrument, lang: str = "en") -> dict:
    primary = instrument.primary_score
    return {"id": instrument.id, "version": instrument.version,
            "title": instrument.text(instrument.title, lang), "domains": list(instrument.domains),
            "validated": instrument.validated, "text_may_ship": instrument.text_may_ship,
            "items": len(instrument.items), "primary_score": primary.id,
            "direction": primary.direction}


def detail(instrument: Instrument, lang: str = "en") -> dict:
    t = instrument.text
    items = []
    for item in instrument.items:
        entry = {"id": item.id, "kind": item.kind, "text": t(item.text, lang),
                 "required": item.required, "scored": item.scored, "min": item.min,
                 "max": item.max, "step": item.step, "loinc": item.loinc,
                 "options": [{"value": o.value, "label": t(o.label, lang)} for o in item.options]}
        if item.anchors:
            entry["anchors"] = {"min": t(item.anchors.min, lang), "max": t(item.anchors.max, lang)}
        items.append(entry)
    scores = [{"id": s.id, "title": t(s.title, lang), "method": s.method,
               "range": list(s.range), "direction": s.direction, "loinc": s.loinc,
               "unit": s.unit, "primary": s is instrument.primary_score,
               "bands": [{"min": b.min, "max": b.max, "label": b.label} for b in s.bands]}
              for s in instrument.scores]
    return {"id": instrument.id, "version": instrument.version, "lang": lang,
            "title": t(instrument.title, lang), "domains": list(instrument.domains),
            "recall": t(instrument.recall.text, lang) if instrument.recall else None,
            "stem": t(instrument.stem, lang) if instrument.stem else None,
            "validated": instrument.validated, "text_may_ship": instrument.text_may_ship,
            "licence": instrument.licence, "citation": instrument.citation,
            "notes": instrument.notes, "loinc": instrument.loinc, "items": items,
            "scores": scores, "default_rules": [dict(r) for r in instrument.default_rules]}
