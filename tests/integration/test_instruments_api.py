"""The instrument catalog through the API: scoring equals the published rules, FHIR parses,
bad answers are named, and a clinic's licensed file works with no code change."""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.instruments import InstrumentFileError

FIXTURES = Path(__file__).resolve().parent.parent / "unit" / "fixtures" / "instruments"
LENIENT = settings(max_examples=300, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])

PHQ9_BANDS = [(4, "minimal"), (9, "mild"), (14, "moderate"), (19, "moderately severe"),
              (27, "severe")]
GAD7_BANDS = [(4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")]


def band(value, bands):
    return next(label for top, label in bands if value <= top)


def post_score(client, instrument_id, answers):
    response = client.post(f"/api/v1/instruments/{instrument_id}/score",
                           json={"answers": answers})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["scores"]


@pytest.mark.parametrize("instrument_id, answers, expected", [
    ("phq9", [2, 3, 1, 2, 0, 1, 0, 1, 0], {"total": (10, "moderate"), "phq2": (5, None)}),
    ("gad7", [1, 2, 2, 1, 0, 1, 1], {"total": (8, "mild"), "gad2": (3, None)}),
])
def test_the_worked_examples_score_as_published(client, instrument_id, answers, expected):
    scores = post_score(client, instrument_id,
                        {f"{instrument_id}_{i + 1}": v for i, v in enumerate(answers)})
    for score_id, (value, label) in expected.items():
        assert scores[score_id]["value"] == value
        if label:
            assert scores[score_id]["band"] == label


def test_peg_worked_example_is_the_mean_to_one_decimal(client):
    assert post_score(client, "peg", {"peg_1": 7, "peg_2": 6, "peg_3": 5})["total"][
        "value"] == 6.0


@LENIENT
@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_through_the_api_equals_the_published_rule(client, items):
    scores = post_score(client, "phq9", {f"phq9_{i + 1}": v for i, v in enumerate(items)})
    assert scores["total"]["value"] == sum(items)
    assert scores["total"]["band"] == band(sum(items), PHQ9_BANDS)
    assert scores["phq2"]["value"] == items[0] + items[1]


@LENIENT
@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_gad7_through_the_api_equals_the_published_rule(client, items):
    scores = post_score(client, "gad7", {f"gad7_{i + 1}": v for i, v in enumerate(items)})
    assert scores["total"]["value"] == sum(items)
    assert scores["total"]["band"] == band(sum(items), GAD7_BANDS)
    assert scores["gad2"]["value"] == items[0] + items[1]


@LENIENT
@given(st.lists(st.integers(0, 10), min_size=3, max_size=3))
def test_peg_through_the_api_equals_the_published_rule(client, items):
    scores = post_score(client, "peg", {f"peg_{i + 1}": v for i, v in enumerate(items)})
    expected = float((Decimal(sum(items)) / 3).quantize(Decimal("0.1"), ROUND_HALF_UP))
    assert scores["total"]["value"] == expected


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10))
def test_single_item_rating_scales_score_their_answer(client, value):
    for instrument_id in ("nrs_pain", "nrs_fatigue", "nrs_sleep", "nrs_brainfog"):
        assert post_score(client, instrument_id,
                          {f"{instrument_id}_1": value})["score"]["value"] == value


@pytest.mark.parametrize("answers, field, reason_part", [
    ({"phq9_1": 4}, "answers.phq9_1", ""),
    ({"phq9_1": "2"}, "answers.phq9_1", ""),
    ({"phq9_1": True}, "answers.phq9_1", ""),
    ({"phq9_1": 1.5}, "answers.phq9_1", ""),
    ({"phq9_99": 1}, "answers.phq9_99", ""),
    ({"phq9_1": 1}, "answers.phq9_2", ""),
])
def test_every_class_of_bad_answer_names_the_field(client, answers, field, reason_part):
    response = client.post("/api/v1/instruments/phq9/score", json={"answers": answers})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_the_catalog_lists_every_shipped_instrument_and_labels_our_own(client):
    listed = {i["id"]: i for i in client.get("/api/v1/instruments").get_json()}
    assert {"phq9", "phq2", "gad7", "gad2", "peg", "nrs_pain", "nrs_fatigue", "vas_fatigue",
            "nrs_sleep", "nrs_brainfog", "pgic", "side_effects"} <= set(listed)
    assert listed["phq9"]["validated"] is True and listed["nrs_pain"]["validated"] is False
    detail = client.get("/api/v1/instruments/nrs_pain?lang=en").get_json()
    assert "not a validated instrument" in (detail["notes"] + detail["licence"]).lower()


def test_every_instrument_is_a_valid_fhir_r4_questionnaire(client):
    for listed in client.get("/api/v1/instruments").get_json():
        response = client.get(f"/fhir/Questionnaire/{listed['id']}")
        assert response.status_code == 200 and response.mimetype == "application/fhir+json"
        q = Questionnaire.model_validate(response.get_json())
        assert q.copyright
    phq9 = client.get("/fhir/Questionnaire/phq9").get_json()
    assert phq9["code"][0]["code"] == "44249-1"
    first_question = next(i for i in phq9["item"] if i["linkId"] == "phq9_1")
    assert first_question["code"][0]["code"] == "44250-9"


@pytest.fixture
def local_app(app_config, tmp_path):
    from backend import create_app

    local = tmp_path / "licensed"
    local.mkdir()
    shutil.copy(FIXTURES / "fake_energy.yaml", local / "fake_energy.yaml")
    # PROMIS-style forms let a patient skip items; the score needs 4 of 6 and prorates.
    tscore = (FIXTURES / "fake_tscore.yaml").read_text()
    (local / "fake_tscore.yaml").write_text(
        tscore.replace("kind: choice, options:", "kind: choice, required: false, options:"))
    return create_app({**app_config, "INSTRUMENTS_LOCAL_DIR": str(local)})


def test_a_licensed_file_in_the_local_folder_scores_with_no_code_change(local_app):
    client = local_app.test_client()
    energy = client.post("/api/v1/instruments/fake_energy/score", json={"answers": {
        "fe_1": 0, "fe_2": 1, "fe_3": 4, "fe_4": 2, "fe_5": 3, "fe_6": 4}}).get_json()
    assert energy["scores"]["total"]["value"] == (4 + 3 + 0 + 2) + 3 + 4
    tscore = client.post("/api/v1/instruments/fake_tscore/score", json={"answers": {
        "ft_1": 2, "ft_2": 3, "ft_3": 2, "ft_4": 3}}).get_json()
    assert tscore["scores"]["raw"]["value"] == 15  # 10 of 4 items, prorated to 6 items
    assert tscore["scores"]["tscore"]["value"] == 48.8
    assert client.get("/fhir/Questionnaire/fake-tscore").status_code == 200


def test_a_malformed_local_file_stops_start_up_naming_file_and_field(app_config, tmp_path):
    from backend import create_app

    local = tmp_path / "licensed"
    local.mkdir()
    (local / "broken.yaml").write_text(
        (FIXTURES / "fake_energy.yaml").read_text().replace("method: sum", "method: median"))
    with pytest.raises(InstrumentFileError) as error:
        create_app({**app_config, "INSTRUMENTS_LOCAL_DIR": str(local)})
    assert "broken.yaml" in str(error.value) and "method" in str(error.value)
