"""FHIR Questionnaires built from instruments parse as valid resources and carry our codes.

fhir.resources 8 defaults to FHIR R5; its R4B models (fhir.resources.R4B) are the closest it
has to R4, and the Questionnaire resource is the same in R4 and R4B, so we validate with R4B.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from backend.fhir.questionnaire import (
    LOINC,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    computable_name,
    questionnaire_resource,
)
from backend.instruments import SHIPPED_DIR, Registry, build_registry

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"


@cache
def registry() -> Registry:
    return build_registry([SHIPPED_DIR, FIXTURES])


def item(resource: dict, link_id: str) -> dict:
    return next(i for i in resource["item"] if i["linkId"] == link_id)


@pytest.mark.parametrize("instrument_id", sorted(registry().ids()))
def test_every_instrument_becomes_a_questionnaire_that_fhir_resources_accepts(instrument_id):
    resource = questionnaire_resource(registry().get(instrument_id),
                                      base_url="https://ebb.example/fhir/")
    parsed = Questionnaire.model_validate(resource)
    assert parsed.status == "active"
    assert json.loads(json.dumps(resource)) == resource
    assert resource["url"] == f"https://ebb.example/fhir/Questionnaire/{parsed.id}"


def test_the_phq9_questionnaire_carries_its_loinc_panel_item_and_answer_codes():
    resource = questionnaire_resource(registry().get("phq9"))
    assert resource["code"][0]["system"] == LOINC and resource["code"][0]["code"] == "44249-1"
    assert resource["version"] == "1.0" and resource["name"] == "Phq9"
    assert "No permission is required" in resource["copyright"]
    first = item(resource, "phq9_1")
    assert first["type"] == "choice" and first["required"] is True
    assert first["code"][0]["code"] == "44250-9"
    options = first["answerOption"]
    assert [o["valueCoding"]["code"] for o in options] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    assert [o["extension"][0] for o in options] == [
        {"url": ORDINAL_VALUE, "valueDecimal": v} for v in range(4)]
    assert item(resource, "phq9_10")["required"] is False
    assert item(resource, "stem")["type"] == "display"


def test_options_without_loinc_codes_use_their_value_as_code():
    resource = questionnaire_resource(registry().get("pgic"))
    coding = item(resource, "pgic_1")["answerOption"][0]["valueCoding"]
    assert coding == {"code": "1", "display": "Very much improved"}
    assert "Not a validated instrument." in resource["description"]


def test_a_scale_item_becomes_a_choice_of_each_point_labelled_at_the_ends():
    resource = questionnaire_resource(registry().get("peg"))
    options = item(resource, "peg_1")["answerOption"]
    assert len(options) == 11
    assert options[0]["valueCoding"]["display"] == "0 (No pain)"
    assert options[5]["valueCoding"]["display"] == "5"
    assert options[10]["extension"][0]["valueDecimal"] == 10


def test_a_slider_becomes_an_integer_or_decimal_item_with_its_bounds():
    vas = item(questionnaire_resource(registry().get("vas_fatigue")), "vas_fatigue_1")
    assert vas["type"] == "integer"
    assert {"url": MIN_VALUE, "valueInteger": 0} in vas["extension"]
    assert {"url": MAX_VALUE, "valueInteger": 100} in vas["extension"]
    half_steps = item(questionnaire_resource(registry().get("fake_severity")), "fs_extra")
    assert half_steps["type"] == "decimal"
    assert {"url": MAX_VALUE, "valueDecimal": 10} in half_steps["extension"]


def test_without_a_base_url_the_canonical_url_is_still_absolute():
    resource = questionnaire_resource(registry().get("nrs_pain"))
    assert resource["url"] == "urn:ebb:questionnaire:nrs-pain"
    assert resource["id"] == "nrs-pain" and resource["name"] == "NrsPain"


def test_computable_names_start_with_a_capital_letter():
    assert computable_name("side_effects") == "SideEffects"
    assert computable_name("phq9") == "Phq9"
