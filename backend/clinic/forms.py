"""HTML form fields -> the dicts the services take, with per-field messages for the page.

New patients and treatments go through the API's own marshmallow schemas, so a form and a
JSON client are held to the same rules.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

from ..patients.schemas import NewPatientSchema
from ..treatments.schemas import TreatmentSchema, TreatmentUpdateSchema

TREATMENT_FIELDS = ("drug", "dose", "dose_unit", "route", "given_at", "course",
                    "session_number", "period", "arm", "notes")


class FormError(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _loaded(schema, raw: dict) -> dict:
    try:
        return schema.load(raw)
    except ValidationError as exc:
        raise FormError({k: " ".join(v) if isinstance(v, list) else str(v)
                         for k, v in exc.messages.items()}) from None


def new_patient_data(form) -> dict:
    """A new patient's study code and time zone from the form (empty: the defaults)."""
    raw = {name: (form.get(name) or "").strip() or None for name in ("code", "timezone")}
    return _loaded(NewPatientSchema(), raw)


def _local_to_iso(text: str, tz: ZoneInfo) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return "not-a-time"
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    return at.isoformat()


def treatment_data(form, tz: ZoneInfo, *, partial: bool = False) -> dict:
    """A dose from the form (given_at in the patient's local time); FormError on bad fields."""
    raw = {}
    for name in TREATMENT_FIELDS:
        value = (form.get(name) or "").strip()
        if name == "given_at":
            value = _local_to_iso(value, tz)
        if value in ("", None):
            if name in ("course", "session_number", "period", "arm"):
                raw[name] = None
            elif not partial and name == "notes":
                raw[name] = ""
            continue
        raw[name] = value
    return _loaded(TreatmentUpdateSchema() if partial else TreatmentSchema(), raw)


def _float(form, name: str, errors: dict, *, required: bool = True) -> float | None:
    text = (form.get(name) or "").strip()
    if not text:
        if required:
            errors[name] = "is required"
        return None
    try:
        return float(text)
    except ValueError:
        errors[name] = "must be a number"
        return None


def rule_definition(form) -> tuple[dict, str | None]:
    """(definition, key) from the rules editor; the rules service checks the rest."""
    errors: dict[str, str] = {}
    instrument, _, score = (form.get("target") or "").partition(":")
    criteria = []
    for n in (1, 2):
        kind = form.get(f"kind{n}") or ""
        if not kind:
            continue
        value = _float(form, f"value{n}", errors)
        item = {"kind": kind, "value": value}
        if kind == "cutoff":
            item["inclusive"] = form.get(f"inclusive{n}") == "on"
        criteria.append(item)
    window = {"start_hours": _float(form, "start_hours", errors),
              "end_hours": _float(form, "end_hours", errors),
              "evaluation": form.get("evaluation") or "any"}
    if window["evaluation"] == "nearest":
        window["nominal_hours"] = _float(form, "nominal_hours", errors)
        tolerance = _float(form, "tolerance_hours", errors, required=False)
        if tolerance is not None:
            window["tolerance_hours"] = tolerance
    if window["evaluation"] == "sustained":
        window["sustained_hours"] = _float(form, "sustained_hours", errors)
    if errors:
        raise FormError(errors)
    definition = {
        "name": (form.get("name") or "").strip(),
        "instrument": instrument, "score": score,
        "criteria": {form.get("mode") or "all": criteria},
        "window": window,
        "baseline": {"method": form.get("baseline_method") or "last",
                     "span_hours": _float(form, "span_hours", errors) or 168},
        "anchor": form.get("anchor") or "each_session",
        "require_in_window": form.get("require_in_window") == "on",
    }
    return definition, (form.get("key") or "").strip() or None


def definition_form(definition: dict) -> dict:
    """The editor's field values for an existing definition."""
    (mode, items), = definition["criteria"].items()
    window = definition["window"]
    values = {"name": definition["name"], "target": f"{definition['instrument']}:"
              f"{definition['score']}", "mode": mode,
              "start_hours": window["start_hours"], "end_hours": window["end_hours"],
              "evaluation": window.get("evaluation", "any"),
              "nominal_hours": window.get("nominal_hours", ""),
              "tolerance_hours": window.get("tolerance_hours", ""),
              "sustained_hours": window.get("sustained_hours", ""),
              "baseline_method": definition.get("baseline", {}).get("method", "last"),
              "span_hours": definition.get("baseline", {}).get("span_hours", 168),
              "anchor": definition.get("anchor", "each_session"),
              "require_in_window": definition.get("require_in_window", False)}
    for n, item in enumerate(items[:2], start=1):
        values[f"kind{n}"] = item["kind"]
        values[f"value{n}"] = item["value"]
        values[f"inclusive{n}"] = item.get("inclusive", False)
    return values
