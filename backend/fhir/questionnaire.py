"""Builds a FHIR R4 Questionnaire (SDC style) from an instrument, as a plain dict.

Pure: the instrument in, JSON-ready data out, so other systems can render our forms and
read our answers with the same LOINC codes and ordinal values we score by.
"""

from __future__ import annotations

from typing import Any

from backend.scoring.arith import fmt
from backend.scoring.model import Instrument, Item, Number

LOINC = "http://loinc.org"
SDC_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
#: R4 name of the extension carrying an answer's score (R5 calls it itemWeight).
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
SLIDER_STEP = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue"


def questionnaire_resource(
    instrument: Instrument, lang: str = "en", base_url: str = ""
) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire resource in language `lang`.

    `base_url` is the FHIR service base (like "https://ebb.example/fhir"); `url` is
    `{base_url}/Questionnaire/{fhir id}`, or a `urn:ebb:questionnaire:{fhir id}` URN when no
    base URL is given (a Questionnaire's url must be absolute). Choice and scale items become
    `choice` items whose answer options carry LOINC answer codes where known and their score
    as an ordinalValue extension; sliders become integer or decimal items with min/max.
    """
    base = base_url.rstrip("/")
    resource_id = fhir_id(instrument.id)
    url = f"{base}/Questionnaire/{resource_id}" if base else f"urn:ebb:questionnaire:{resource_id}"
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": resource_id,
        "meta": {"profile": [SDC_PROFILE]},
        "language": lang,
        "url": url,
        "version": instrument.version,
        "name": computable_name(instrument.id),
        "title": instrument.text(instrument.title, lang),
        "status": "active",
        "subjectType": ["Patient"],
    }
    description = _description(instrument)
    if description:
        resource["description"] = description
    if instrument.licence:
        resource["copyright"] = instrument.licence
    if instrument.loinc:
        resource["code"] = [_loinc(instrument.loinc, instrument.text(instrument.title, lang))]
    items = []
    if instrument.stem:
        stem = instrument.text(instrument.stem, lang)
        items.append({"linkId": "stem", "type": "display", "text": stem})
    items.extend(_item(instrument, item, lang) for item in instrument.items)
    resource["item"] = items
    return resource


def fhir_id(instrument_id: str) -> str:
    """The resource id for an instrument: FHIR ids allow no underscores, so nrs_pain -> nrs-pain.

    Instrument ids never contain hyphens, so `fhir_id(x).replace("-", "_")` gives the id back.
    """
    return instrument_id.replace("_", "-")


def computable_name(instrument_id: str) -> str:
    """A FHIR computable name (letters and digits, capital first): nrs_pain -> NrsPain."""
    name = "".join(part[:1].upper() + part[1:] for part in instrument_id.split("_"))
    return name if name[:1].isalpha() else f"Q{name}"


def _description(instrument: Instrument) -> str:
    parts = []
    if not instrument.validated:
        parts.append("Not a validated instrument.")
    if instrument.citation:
        parts.append(instrument.citation)
    return " ".join(parts)


def _loinc(code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": LOINC, "code": code}
    if display:
        coding["display"] = display
    return coding


def _item(instrument: Instrument, item: Item, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": item.id}
    text = instrument.text(item.text, lang)
    if item.loinc:
        out["code"] = [_loinc(item.loinc, text)]
    out["text"] = text
    if item.kind == "slider":
        integer = item.integer
        value_key = "valueInteger" if integer else "valueDecimal"
        out["type"] = "integer" if integer else "decimal"
        out["required"] = item.required
        out["extension"] = [
            _control("slider"),
            {"url": MIN_VALUE, value_key: item.min},
            {"url": MAX_VALUE, value_key: item.max},
        ]
        if integer:
            out["extension"].append({"url": SLIDER_STEP, "valueInteger": item.step})
        if item.anchors:
            out["item"] = [
                _anchor(f"{item.id}-lower", "lower", instrument.text(item.anchors.min, lang)),
                _anchor(f"{item.id}-upper", "upper", instrument.text(item.anchors.max, lang)),
            ]
        return out
    out["type"] = "choice"
    out["required"] = item.required
    out["answerOption"] = [
        _answer_option(value, label, loinc)
        for value, label, loinc in _choices(instrument, item, lang)
    ]
    return out


def _choices(
    instrument: Instrument, item: Item, lang: str
) -> list[tuple[Number, str, str | None]]:
    if item.kind == "choice":
        return [(o.value, instrument.text(o.label, lang), o.loinc_answer) for o in item.options]
    ends = {}
    if item.anchors:
        ends = {
            item.min: instrument.text(item.anchors.min, lang),
            item.max: instrument.text(item.anchors.max, lang),
        }
    return [
        (v, f"{fmt(v)} ({ends[v]})" if v in ends else fmt(v), None)
        for v in item.allowed_values() or ()
    ]


def _answer_option(value: Number, label: str, loinc_answer: str | None) -> dict[str, Any]:
    coding = _loinc(loinc_answer, label) if loinc_answer else {"code": fmt(value), "display": label}
    return {
        "valueCoding": coding,
        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": value}],
    }


def _control(code: str) -> dict[str, Any]:
    return {
        "url": ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code}]},
    }


def _anchor(link_id: str, code: str, text: str) -> dict[str, Any]:
    return {"linkId": link_id, "type": "display", "text": text, "extension": [_control(code)]}
