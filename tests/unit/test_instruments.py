"""Instrument files: the shipped ones load, and each kind of broken file is named precisely."""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import backend.instruments.registry as registry_module
from backend.instruments import (
    SHIPPED_DIR,
    InstrumentFileError,
    Registry,
    UnknownInstrument,
    build_registry,
    load_instrument,
    preset_rules,
    validate_paths,
)
from backend.instruments.schemas import loinc_check_digit

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"
SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
SHIPPED_IDS = {
    "phq9", "phq2", "gad7", "gad2", "peg", "nrs_pain", "nrs_fatigue", "vas_fatigue",
    "nrs_sleep", "nrs_brainfog", "pgic", "side_effects",
}

TINY: dict[str, Any] = {
    "format_version": 1,
    "id": "tiny",
    "version": "1.0",
    "title": {"en": "Tiny"},
    "languages": ["en"],
    "licence": "Test only.",
    "text_may_ship": True,
    "validated": False,
    "items": [
        {"id": "a", "kind": "choice", "text": {"en": "A?"},
         "options": [{"value": 0, "label": {"en": "No"}}, {"value": 1, "label": {"en": "Yes"}}]},
        {"id": "b", "kind": "scale", "min": 0, "max": 10, "text": {"en": "B?"}},
    ],
    "scores": [
        {"id": "total", "title": {"en": "Total"}, "method": "sum", "inputs": ["a", "b"],
         "range": [0, 11], "direction": "lower_is_better",
         "bands": [{"min": 0, "max": 5, "label": "low"}, {"min": 6, "max": 11, "label": "high"}]},
    ],
}

Writer = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Write TINY, changed by `change(data)`, as instruments/<name>.yaml under tmp_path."""

    def make(change: Callable[[dict], Any] | None = None, name: str = "tiny",
             folder: str = "instruments") -> Path:
        data = copy.deepcopy(TINY)
        if change:
            change(data)
        path = tmp_path / folder / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        return path

    return make


def problems_in(path: Path) -> list[tuple[str, str]]:
    return [(e.field, e.reason) for e in validate_paths([path])]


# --- the shipped files ------------------------------------------------------------------------


def test_every_shipped_instrument_file_validates():
    assert [str(e) for e in validate_paths([SHIPPED_DIR])] == []


def test_the_shipped_folder_holds_exactly_the_documented_instruments():
    assert {load_instrument(p).id for p in SHIPPED} == SHIPPED_IDS


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_shipped_file_is_named_after_its_instrument_and_says_if_it_is_validated(path):
    instrument = load_instrument(path)
    assert instrument.id == path.stem
    assert instrument.licence and instrument.version and instrument.languages == ("en",)
    assert instrument.text_may_ship
    if not instrument.validated:
        assert "not a validated instrument" in instrument.notes.lower()


def test_shipped_instruments_carry_the_documented_loinc_codes():
    phq9 = load_instrument(SHIPPED_DIR / "phq9.yaml")
    assert phq9.loinc == "44249-1"
    assert phq9.score_def("total").loinc == "44261-6"
    assert phq9.score_def("phq2").loinc == "55758-7"
    assert [i.loinc for i in phq9.items] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
        "44253-3", "44260-8", "69722-7"]
    assert [o.loinc_answer for o in phq9.items[0].options] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    gad7 = load_instrument(SHIPPED_DIR / "gad7.yaml")
    assert (gad7.loinc, gad7.score_def("total").loinc) == ("69737-5", "70274-6")
    assert [i.loinc for i in gad7.items] == [
        "69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
    assert gad7.items[0].options[0].label == {"en": "Not at all"}
    peg = load_instrument(SHIPPED_DIR / "peg.yaml")
    assert (peg.loinc, peg.score_def("total").loinc) == ("91148-7", "91147-9")
    assert "Krebs" in peg.citation and "Brief Pain Inventory" in peg.licence
    assert load_instrument(SHIPPED_DIR / "nrs_pain.yaml").primary_score.loinc == "72514-3"


def test_the_phq9_difficulty_item_is_unscored_and_optional():
    item = load_instrument(SHIPPED_DIR / "phq9.yaml").item("phq9_10")
    assert not item.scored and not item.required


def test_the_documented_default_rules_are_shipped():
    def criteria(instrument_id: str) -> list:
        rules = load_instrument(SHIPPED_DIR / f"{instrument_id}.yaml").default_rules
        return [c for rule in rules for mode in rule["criteria"].values() for c in mode]

    assert {"kind": "percent_improvement", "value": 50} in criteria("phq9")
    assert {"kind": "cutoff", "value": 5, "inclusive": False} in criteria("phq9")
    assert {"kind": "absolute_improvement", "value": 4} in criteria("gad7")
    assert {"kind": "absolute_improvement", "value": 1} in criteria("peg")
    assert {"kind": "percent_improvement", "value": 30} in criteria("nrs_pain")
    assert {"kind": "percent_improvement", "value": 50} in criteria("nrs_pain")
    fatigue = load_instrument(SHIPPED_DIR / "vas_fatigue.yaml").default_rules[0]
    assert fatigue["criteria"] == {"all": [{"kind": "percent_improvement", "value": 20}]}
    assert fatigue["window_hours"][1] == 72


def test_every_default_rule_is_accepted_by_the_outcomes_core():
    # The outcomes core is written concurrently; skip rather than fail while it cannot import.
    rule_dict = pytest.importorskip("backend.outcomes.rule_dict", exc_type=ImportError)
    registry = build_registry([SHIPPED_DIR, FIXTURES])
    names = [rule_dict.rule_from_dict(d).name for i in registry for d in preset_rules(i)]
    assert "PHQ-9 response" in names


def test_the_loinc_codes_documented_for_the_instruments_have_valid_check_digits():
    codes = ["44249-1", "44261-6", "55757-9", "55758-7", "69737-5", "70274-6", "91148-7",
             "91147-9", "72514-3", "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
             "44258-2", "44252-5", "44253-3", "44260-8", "69722-7", "69725-0", "68509-9",
             "69733-4", "69734-2", "69735-9", "69689-8", "69736-7", "77864-7", "77865-4",
             "77860-5", "77862-1", "77861-3"]
    for code in codes:
        number, check = code.split("-")
        assert loinc_check_digit(number) == int(check), code


# --- the registry ---------------------------------------------------------------------------------


def test_nothing_is_loaded_when_the_package_is_imported():
    assert not any(isinstance(v, Registry) for v in vars(registry_module).values())


def test_a_registry_from_shipped_and_local_folders_knows_both():
    registry = build_registry([SHIPPED_DIR, FIXTURES])
    assert SHIPPED_IDS <= set(registry.ids())
    assert {"fake_energy", "fake_impact", "fake_tscore", "fake_severity"} <= set(registry.ids())
    assert registry.get("phq9").id == "phq9"
    assert len(registry.all()) == len(registry) == len(registry.ids())
    assert registry.source("fake_energy") == FIXTURES / "fake_energy.yaml"
    assert "phq9" in registry


def test_asking_for_an_unknown_instrument_raises_a_key_error_naming_it():
    registry = build_registry([SHIPPED_DIR])
    with pytest.raises(UnknownInstrument) as error:
        registry.get("promis_fatigue")
    assert isinstance(error.value, KeyError)
    assert str(error.value) == "unknown instrument 'promis_fatigue'"


def test_a_missing_local_folder_is_skipped(tmp_path):
    assert build_registry([SHIPPED_DIR, tmp_path / "absent"]).ids() == build_registry(
        [SHIPPED_DIR]).ids()
    with pytest.raises(InstrumentFileError):
        build_registry([tmp_path / "absent"], missing_ok=False)


def test_the_same_id_in_two_folders_stops_the_registry(write, tmp_path):
    write(name="tiny", folder="one")
    second = write(name="tiny_again", folder="two")
    with pytest.raises(InstrumentFileError) as error:
        build_registry([tmp_path / "one", tmp_path / "two"])
    assert error.value.path == second and error.value.field == "id"
    assert "already defined" in error.value.reason


def test_a_local_file_cannot_redefine_a_shipped_instrument(write, tmp_path):
    write(lambda d: d.update(id="phq9"), name="my_phq9", folder="local")
    with pytest.raises(InstrumentFileError, match="instrument 'phq9' is already defined"):
        build_registry([SHIPPED_DIR, tmp_path / "local"])
    assert len(validate_paths([SHIPPED_DIR, tmp_path / "local"])) == 1


def test_a_bad_file_stops_the_registry_with_its_name_and_reason(write, tmp_path):
    write(lambda d: d.pop("licence"))
    with pytest.raises(InstrumentFileError) as error:
        build_registry([tmp_path / "instruments"])
    assert str(error.value).endswith("tiny.yaml: licence: missing")


# --- broken files ---------------------------------------------------------------------------------


def test_the_error_message_names_the_file_as_typed_then_the_field(write, tmp_path, monkeypatch):
    path = write(lambda d: d["items"][0]["options"].append({"value": 1, "label": {"en": "x"}}))
    monkeypatch.chdir(tmp_path)
    (error,) = validate_paths([path])
    assert str(error) == "instruments/tiny.yaml: items[0].options: duplicate option value 1"
    assert pickle.loads(pickle.dumps(error)).field == "items[0].options"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda d: d.update(colour="blue"), "colour", "unknown key"),
        (lambda d: d["items"][1].update(optoins=[]), "items[1].optoins", "unknown key"),
        (lambda d: d["scores"][0]["bands"][0].update(colour="red"), "scores[0].bands[0].colour",
         "unknown key"),
        (lambda d: d.pop("format_version"), "format_version", "missing"),
        (lambda d: d.update(format_version=2), "format_version", "unsupported format_version 2"),
        (lambda d: d.update(format_version="1"), "format_version", "unsupported format_version"),
        (lambda d: d["scores"][0]["inputs"].append("c"), "scores[0].inputs[2]",
         "no item or score called 'c'"),
        (lambda d: d["items"][0]["options"][1].update(value=0), "items[0].options",
         "duplicate option value 0"),
        (lambda d: d["scores"][0]["bands"][1].update(max=12), "scores[0].bands[1]",
         "not inside the score range"),
        (lambda d: d["scores"][0].update(range=[0, 10]), "scores[0].range",
         "the inputs give 0 to 11"),
        (lambda d: d["items"][0].update(text={"fr": "A ?"}), "items[0].text", "no text in 'en'"),
        (lambda d: d["items"][0].pop("text"), "items[0].text", "missing"),
        (lambda d: d.update(title={"en": "T", "de": "T"}), "title", "'de' is not one of"),
        (lambda d: d["items"][0].update(loinc="44250-8"), "items[0].loinc", "check digit"),
        (lambda d: d["items"][0].update(required="yes"), "items[0].required", "true or false"),
        (lambda d: d["items"][1].update(max=10.5), "items[1]", "whole-number"),
        (lambda d: d["items"][1].update(options=[{"value": 1}]), "items[1].options",
         "not options"),
        (lambda d: d["items"][0].update(min=0), "items[0].min", "from its options"),
        (lambda d: d["items"][1].update(id="a"), "items[1].id", "duplicate item id"),
        (lambda d: d["items"][1].update(kind="dropdown"), "items[1].kind", "Must be one of"),
        (lambda d: d["scores"][0].update(reverse=["zz"]), "scores[0].reverse[0]",
         "not an item among the inputs"),
        (lambda d: d["items"][1].update(scored=False), "scores[0].inputs[1]", "scored: false"),
        (lambda d: d["scores"][0].update(weights={"a": 2}), "scores[0].weights",
         "only a weighted_sum"),
        (lambda d: d["scores"][0].update(min_answered=1), "scores[0].min_answered",
         "needs prorate: true"),
        (lambda d: d["scores"][0].update(prorate=True), "scores[0].prorate",
         "needs min_answered"),
        (lambda d: d["scores"][0].update(method="lookup"), "scores[0].table",
         "a lookup needs a table"),
        (lambda d: d.update(flags=[{"id": "x", "severity": "safety", "message": {"en": "m"},
                                    "when": {"item": "zz", "op": ">", "value": 0}}]),
         "flags[0].when", "no item called 'zz'"),
        (lambda d: d.update(default_rules=[{"name": "r", "score": "nope", "window_hours": [0, 1],
                                            "criteria": {"all": [{"kind": "cutoff",
                                                                  "value": 1}]}}]),
         "default_rules[0].score", "no score called 'nope'"),
        (lambda d: d.update(default_rules=[{"name": "r", "score": "total",
                                            "window_hours": [0, 72], "evaluation": "nearest",
                                            "criteria": {"all": [{"kind": "cutoff",
                                                                  "value": 1}]}}]),
         "default_rules[0].nominal_hours", "needs nominal_hours"),
    ],
)
def test_each_kind_of_broken_file_is_named_by_file_and_field(write, change, field, reason):
    path = write(change)
    errors = validate_paths([path])
    assert errors, "the broken file was accepted"
    assert all(e.path == path for e in errors)
    found = [(e.field, e.reason) for e in errors]
    assert any(f == field and reason in r for f, r in found), found
    with pytest.raises(InstrumentFileError):
        load_instrument(path)


def test_scores_that_feed_each_other_in_a_circle_are_rejected(write):
    def cycle(d: dict) -> None:
        d["scores"] = [
            {**d["scores"][0], "id": "x", "inputs": ["a", "y"], "bands": [], "range": [0, 99]},
            {**d["scores"][0], "id": "y", "inputs": ["b", "x"], "bands": [], "range": [0, 99]},
        ]

    assert ("scores[0].inputs", "cycle: x -> y -> x") in problems_in(write(cycle))


def test_a_lookup_table_must_cover_every_reachable_raw_score(write):
    def lookup(d: dict) -> None:
        d["scores"][0].update(method="lookup", table={n: 50 for n in range(0, 10)},
                              range=[20, 80], bands=[])

    assert ("scores[0].table", "no value for raw scores 10, 11") in problems_in(write(lookup))


def test_text_that_may_not_ship_can_be_left_out_and_gets_placeholders(write):
    def licensed(d: dict) -> None:
        d["text_may_ship"] = False
        for item in d["items"]:
            item.pop("text")
        for option in d["items"][0]["options"]:
            option.pop("label")

    instrument = load_instrument(write(licensed))
    assert instrument.items[1].text == {"en": "Item 2"}
    assert instrument.items[0].options[1].label == {"en": "1"}


def test_files_that_are_not_yaml_mappings_are_rejected(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("items: [unclosed\n")
    listed = tmp_path / "listed.yml"
    listed.write_text("- 1\n- 2\n")
    errors = validate_paths([tmp_path])
    assert [e.path.name for e in errors] == ["broken.yaml", "listed.yml"]
    assert "not valid YAML" in errors[0].reason
    assert "mapping" in errors[1].reason


def test_validate_paths_reports_every_problem_in_every_file(write, tmp_path):
    write(lambda d: d.update(colour="blue", shape="round"), name="one")
    write(lambda d: d["scores"][0]["inputs"].append("c"), name="two")
    errors = validate_paths([tmp_path / "instruments", tmp_path / "nowhere"])
    assert [(e.path.name, e.field) for e in errors] == [
        ("one.yaml", "colour"), ("one.yaml", "shape"), ("two.yaml", "scores[0].inputs[2]"),
        ("nowhere", "")]


# --- no file crashes the loader ------------------------------------------------------------------

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.text(max_size=5), st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["en", "value", "id", "min"]), st.integers(0, 3),
                    max_size=2),
)


def _places(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _places(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _places(value, (*prefix, index))
    return found


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_mangled_file_gives_instrument_file_errors_and_never_crashes(tmp_path_factory, data):
    source = data.draw(st.sampled_from([*SHIPPED, *sorted(FIXTURES.glob("*.yaml"))]))
    doc = yaml.safe_load(source.read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(_places(doc)))
        parent = doc
        for key in place[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[place[-1]]
        else:
            parent[place[-1]] = data.draw(JUNK)
    path = tmp_path_factory.mktemp("mangled") / "mangled.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    for error in validate_paths([path]):
        assert isinstance(error, InstrumentFileError) and error.reason


def test_the_example_in_the_format_documentation_is_a_valid_file(tmp_path):
    doc = (SHIPPED_DIR.parent / "README.md").read_text()
    example = re.search(r"### A small example\n\n```yaml\n(.*?)```", doc, re.S)
    assert example, "the documentation lost its example"
    path = tmp_path / "tiny_mood.yaml"
    path.write_text(example.group(1))
    assert [str(e) for e in validate_paths([path])] == []
