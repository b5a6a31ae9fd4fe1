"""Builds a FHIR R4 Bundle of everything Ebb holds about one patient, as a plain dict.

Pure: values in (the patient, their assessments and doses, the instruments, a base URL and a
timestamp), JSON-ready data out; nothing is read from the database or the clock here.

- Patient: only the pseudonymous study code, as an identifier (Ebb holds no names).
- QuestionnaireResponse per assessment, answers coded as the Questionnaire offers them
  (LOINC answer codes where they exist, else the option's own code; sliders as numbers).
- Observation per derived score: category ``survey``, unit ``{score}`` (UCUM), LOINC code
  where the instrument's score has one, ``derivedFrom`` the QuestionnaireResponse.
- MedicationAdministration per dose: drug as text, dose and route, course, session, arm and
  period in a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from backend.scoring.arith import fmt
from backend.scoring.model import Instrument

from .questionnaire import LOINC, _choices, fhir_id

UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EBB_SCORE = "urn:ebb:score"
EBB_CODE = "urn:ebb:patient-code"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource}


def patient_resource(patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [{"use": "secondary", "system": f"{EBB_CODE}:clinic-{patient.clinic_id}",
                        "value": patient.code}],
        "active": patient.status != "withdrawn",
    }


def _answer(instrument: Instrument | None, item_id: str, value) -> dict[str, Any]:
    if instrument is not None:
        try:
            item = instrument.item(item_id)
        except KeyError:
            item = None
        if item is not None and item.kind != "slider":
            for option_value, label, loinc in _choices(instrument, item, "en"):
                if option_value == value:
                    coding = ({"system": LOINC, "code": loinc, "display": label} if loinc
                              else {"code": fmt(value), "display": label})
                    return {"valueCoding": coding}
    if isinstance(value, bool) or not isinstance(value, int | float):
        return {"valueString": str(value)}
    if isinstance(value, int) or float(value).is_integer():
        return {"valueInteger": int(value)}
    return {"valueDecimal": value}


def response_resource(a, instrument: Instrument | None, base: str) -> dict[str, Any]:
    items = []
    for item_id, value in a.answers.items():
        row: dict[str, Any] = {"linkId": item_id}
        if instrument is not None:
            try:
                row["text"] = instrument.text(instrument.item(item_id).text, "en")
            except KeyError:
                pass
        row["answer"] = [_answer(instrument, item_id, value)]
        items.append(row)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{a.id}",
        "identifier": {"system": "urn:ebb:client-uuid", "value": a.client_uuid},
        "questionnaire": f"{base}/Questionnaire/{fhir_id(a.instrument_id)}"
                         f"|{a.instrument_version}",
        "status": "amended" if a.supersedes_id else "completed",
        "subject": {"reference": f"Patient/{a.patient_id}"},
        "authored": _iso(a.completed_at),
        "item": items,
    }
    if a.source == "patient":
        resource["source"] = {"reference": f"Patient/{a.patient_id}"}
    return resource


def score_observations(a, instrument: Instrument | None) -> list[dict[str, Any]]:
    scores = (a.scores or {}).get("scores", {}) if isinstance(a.scores, Mapping) else {}
    out = []
    for score_id, score in scores.items():
        value = score.get("value") if isinstance(score, Mapping) else None
        if value is None:
            continue
        title, loinc = f"{a.instrument_id} {score_id}", None
        if instrument is not None:
            try:
                score_def = instrument.score_def(score_id)
                title = instrument.text(score_def.title, "en")
                loinc = score_def.loinc
            except KeyError:
                pass
        coding = [{"system": LOINC, "code": loinc, "display": title}] if loinc else \
            [{"system": EBB_SCORE, "code": f"{a.instrument_id}.{score_id}", "display": title}]
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"obs-{a.id}-{score_id.replace('_', '-')}",
            "status": "amended" if a.supersedes_id else "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "survey",
                                      "display": "Survey"}]}],
            "code": {"coding": coding, "text": title},
            "subject": {"reference": f"Patient/{a.patient_id}"},
            "effectiveDateTime": _iso(a.completed_at),
            "valueQuantity": {"value": value, "unit": "{score}", "system": UCUM,
                              "code": "{score}"},
            "derivedFrom": [{"reference": f"QuestionnaireResponse/qr-{a.id}"}],
        }
        if score.get("band"):
            obs["interpretation"] = [{"text": score["band"]}]
        out.append(obs)
    return out


def administration_resource(t) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": f"ma-{t.id}",
        "status": "completed",
        "medicationCodeableConcept": {"text": t.drug},
        "subject": {"reference": f"Patient/{t.patient_id}"},
        "effectiveDateTime": _iso(t.given_at),
        "dosage": {"route": {"text": t.route},
                   "dose": {"value": t.dose, "unit": t.dose_unit}},
    }
    context = [f"{name} {value}" for name, value in (
        ("course", t.course), ("session", t.session_number), ("arm", t.arm),
        ("period", t.period)) if value not in (None, "")]
    notes = [", ".join(context)] if context else []
    if t.notes:
        notes.append(t.notes)
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


def patient_bundle(patient, assessments: Iterable, treatments: Iterable,
                   instruments: Mapping[str, Instrument], *, base_url: str,
                   timestamp: datetime) -> dict[str, Any]:
    """A ``collection`` Bundle: the Patient, then doses, then each response and its scores."""
    base = base_url.rstrip("/")
    entries = [_entry(base, patient_resource(patient))]
    entries += [_entry(base, administration_resource(t)) for t in treatments]
    for a in assessments:
        instrument = instruments.get(a.instrument_id)
        entries.append(_entry(base, response_resource(a, instrument, base)))
        entries += [_entry(base, obs) for obs in score_observations(a, instrument)]
    return {"resourceType": "Bundle", "id": f"patient-{patient.id}-everything",
            "type": "collection", "timestamp": _iso(timestamp), "entry": entries}
