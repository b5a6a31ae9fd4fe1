"""Turns checked instrument-file data into the frozen scoring model.

Where a licensed file leaves item text or option labels out (`text_may_ship: false`),
neutral placeholders ("Item 3", "2") stand in so screens and exports still work.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backend.scoring.arith import fmt
from backend.scoring.model import (
    Anchors,
    Band,
    Condition,
    FlagDef,
    Instrument,
    Item,
    Option,
    Recall,
    ScoreDef,
    Text,
)


def build_instrument(data: dict[str, Any]) -> Instrument:
    """The Instrument described by schema-loaded, checked data."""
    langs = tuple(data["languages"])
    scores = [_score(s) for s in data["scores"]]
    if len(scores) == 1 and not scores[0].primary:
        scores[0] = _replace_primary(scores[0])
    recall = data.get("recall")
    return Instrument(
        id=data["id"],
        version=data["version"],
        title=dict(data["title"]),
        languages=langs,
        items=tuple(_item(n, item, langs) for n, item in enumerate(data["items"], start=1)),
        scores=tuple(scores),
        domains=tuple(data["domains"]),
        recall=Recall(dict(recall["text"]), recall.get("hours")) if recall else None,
        stem=dict(data["stem"]) if data.get("stem") else None,
        flags=tuple(_flag(f) for f in data["flags"]),
        licence=data["licence"].strip(),
        citation=data["citation"].strip(),
        notes=data["notes"].strip(),
        text_may_ship=data["text_may_ship"],
        validated=data["validated"],
        loinc=data.get("loinc"),
        default_rules=tuple(_plain(r) for r in data["default_rules"]),
    )


def _placeholder(text: str, langs: tuple[str, ...]) -> Text:
    return {lang: text for lang in langs}


def _item(number: int, data: dict[str, Any], langs: tuple[str, ...]) -> Item:
    options = tuple(
        Option(
            value=o["value"],
            label=dict(o["label"]) if "label" in o else _placeholder(fmt(o["value"]), langs),
            loinc_answer=o.get("loinc_answer"),
        )
        for o in data.get("options", [])
    )
    if data["kind"] == "choice":
        values = [o.value for o in options]
        low, high, step = min(values), max(values), 1
    else:
        low, high, step = data["min"], data["max"], data.get("step", 1)
    anchors = data.get("anchors")
    return Item(
        id=data["id"],
        kind=data["kind"],
        text=dict(data["text"]) if "text" in data else _placeholder(f"Item {number}", langs),
        options=options,
        min=low,
        max=high,
        step=step,
        required=data["required"],
        scored=data["scored"],
        loinc=data.get("loinc"),
        anchors=Anchors(dict(anchors["min"]), dict(anchors["max"])) if anchors else None,
    )


def _score(data: dict[str, Any]) -> ScoreDef:
    return ScoreDef(
        id=data["id"],
        title=dict(data["title"]),
        method=data["method"],
        inputs=tuple(data["inputs"]),
        range=(data["range"][0], data["range"][1]),
        direction=data["direction"],
        reverse=tuple(data["reverse"]),
        weights=dict(data.get("weights", {})),
        table=dict(data.get("table", {})),
        round=data.get("round"),
        min_answered=data.get("min_answered"),
        prorate=data["prorate"],
        bands=tuple(Band(b["min"], b["max"], b["label"]) for b in data["bands"]),
        loinc=data.get("loinc"),
        unit=data["unit"],
        sd=data.get("sd"),
        reliability=data.get("reliability"),
        primary=data["primary"],
    )


def _replace_primary(score_def: ScoreDef) -> ScoreDef:
    return replace(score_def, primary=True)


def _flag(data: dict[str, Any]) -> FlagDef:
    when = data["when"]
    if "score" in when:
        source, refs = "score", (when["score"],)
    else:
        source, refs = "item", (when["item"],) if "item" in when else tuple(when["items"])
    return FlagDef(
        id=data["id"],
        when=Condition(source, refs, when["op"], when["value"], when["match"]),
        severity=data["severity"],
        message=dict(data["message"]),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
