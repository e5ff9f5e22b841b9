"""The library contract: resolve, evaluate, typed results, error kinds."""

import datetime as dt
from decimal import Decimal

from pathlib import Path

import pytest

from rammeaftale import Engine, EngineError, InvalidCase, NoRuleset, NotRegulated

ENGINE = Engine.default()
CLOSURE = {
    "driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
    "beslutningsdato": "2021-05-01", "budget": "20000000", "aarsresultat": "-4000000",
    "overfoert_resultat": "-1000000",
    "omsaetning": {"Vejle": {"2019": "330000"}, "Odense": {"2020": "670000"}},
}


def test_results_are_typed_and_exact():
    res = ENGINE.evaluate("lukning", CLOSURE, ruleset="syddanmark-2021")
    assert res.output["fordeling"] == {"Odense": Decimal("2680000.00"), "Vejle": Decimal("1320000.00")}
    assert res.output["frister"]["foreloebigt_lukkeregnskab"] == dt.date(2021, 8, 1)
    assert res.ruleset == "syddanmark-2021" and res.status == "udkast"


def test_to_dict_uses_the_json_conventions():
    data = ENGINE.evaluate("lukning", CLOSURE, ruleset="syddanmark-2021").to_dict()
    assert set(data) == {"question", "ruleset", "status", "output", "trace", "warnings", "ruleset_digest",
                         "engine_version", "catalogue_version"}
    assert data["output"]["selvrisiko"] == "1000000.00"
    assert all(set(w) == {"tekst", "kilde", "art"} for w in data["warnings"]) and data["warnings"]
    assert data["output"]["frister"] == {"foreloebigt_lukkeregnskab": "2021-08-01"}
    assert all({"rule", "kind", "values", "result"} <= set(step) for step in data["trace"])
    assert all("kilde" in step for step in data["trace"])


def test_region_and_case_date_choose_the_ruleset():
    res = ENGINE.evaluate("lukning", CLOSURE, region="syddanmark")
    assert res.ruleset == "syddanmark-2021"


NOTICE = {"paragraf": "SEL § 108", "opsigelsesdato": "2030-01-14"}


@pytest.mark.parametrize("region", ["sjaelland", "Region Sjælland", "nordjylland", "atlantis"])
def test_a_ruleset_and_a_region_that_disagree_are_refused(region):
    """Red team: ruleset=syddanmark-2021 with region=sjaelland answered from Syddanmark, silently."""
    with pytest.raises(InvalidCase) as info:
        ENGINE.evaluate("opsigelse", NOTICE, ruleset="syddanmark-2021", region=region, dato="2030-01-01")
    assert info.value.path == "region" and "syddanmark-2021" in str(info.value)


@pytest.mark.parametrize("region", ["syddanmark", "Region Syddanmark", " SYDDANMARK "])
def test_a_ruleset_with_its_own_region_spelled_any_way_is_answered(region):
    res = ENGINE.evaluate("opsigelse", NOTICE, ruleset="syddanmark-2021", region=region, dato="2021-05-01")
    assert res.ruleset == "syddanmark-2021"


def test_the_explicit_dato_is_the_date_the_period_warning_checks():
    inside = ENGINE.evaluate("opsigelse", NOTICE, ruleset="syddanmark-2021", dato="2021-05-01")
    assert not any(w.art == "periode" for w in inside.warnings)        # the case's 2030 date is not used
    outside = ENGINE.evaluate("opsigelse", NOTICE | {"opsigelsesdato": "2021-01-14"}, ruleset="syddanmark-2021",
                              dato="2030-01-01")
    assert any(w.art == "periode" and "2030-01-01" in w for w in outside.warnings)


@pytest.mark.parametrize("dato", [dt.datetime(2021, 5, 1, 23, 0), dt.datetime(2021, 5, 1), "20210501",
                                  "2021-05-01T00:00", ["2021-05-01"]])
@pytest.mark.parametrize("how", [{"region": "syddanmark"}, {"ruleset": "syddanmark-2021"},
                                 {"ruleset": "nationale-regler"}])
def test_a_dato_that_is_not_a_plain_date_is_invalid_case(dato, how):
    """Red team: a datetime raised a raw TypeError; like a case's date fields, it is refused."""
    with pytest.raises(InvalidCase) as info:
        ENGINE.evaluate("opsigelse", NOTICE, dato=dato, **how)
    assert info.value.path == "dato"


def test_no_ruleset_lists_what_exists():
    with pytest.raises(NoRuleset) as info:
        ENGINE.evaluate("lukning", CLOSURE, region="syddanmark", dato="1999-01-01")
    assert "syddanmark-2021" in str(info.value)
    with pytest.raises(NoRuleset):
        ENGINE.evaluate("lukning", CLOSURE, ruleset="findes-ikke")


def test_question_the_text_does_not_regulate():
    with pytest.raises(NotRegulated) as info:
        ENGINE.evaluate("takstloft", {"tilbudstype": "herberg", "takst": 100}, ruleset="syddanmark-2021")
    assert info.value.kind == "not_regulated"


def test_invalid_case_names_the_field_path():
    bad = dict(CLOSURE, omsaetning={"Vejle": {"2019": "mange"}})
    with pytest.raises(InvalidCase) as info:
        ENGINE.evaluate("lukning", bad, ruleset="syddanmark-2021")
    assert info.value.path == "omsaetning.Vejle.2019"


def test_trace_can_be_switched_off_without_changing_the_answer():
    with_trace = ENGINE.evaluate("lukning", CLOSURE, ruleset="syddanmark-2021")
    without = ENGINE.evaluate("lukning", CLOSURE, ruleset="syddanmark-2021", trace=False)
    assert without.trace == [] and without.output == with_trace.output


def test_draft_status_and_interpretations_warn():
    res = ENGINE.evaluate("opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2021-01-14",
                                        "ophoersdato": "2021-01-14"}, ruleset="syddanmark-2021")
    assert any("udkast" in w for w in res.warnings)
    assert any(w.startswith("Fortolkning (vilkaarlig_dag)") for w in res.warnings)


def test_float_input_is_read_by_its_decimal_text():
    case = dict(CLOSURE, budget=0.1 + 0.2)  # 0.30000000000000004
    res = ENGINE.evaluate("lukning", case, ruleset="syddanmark-2021")
    assert res.output["selvrisiko"] == Decimal("0.02")


def test_only_compiles_the_named_rulesets_and_the_libraries_they_reuse():
    from rammeaftale.run.api import embedded_rulesets
    eng = Engine.from_path(embedded_rulesets(), only={"sjaelland-2021"})
    assert {r.id for r in eng.rulesets()} == {"sjaelland-2021"}          # it reuses no library
    case = {"paragraf": "SEL-107", "situation": "ophoer", "opsigelsesdato": "2021-03-01"}
    assert eng.evaluate("opsigelse", case, ruleset="sjaelland-2021").output == \
        ENGINE.evaluate("opsigelse", case, ruleset="sjaelland-2021").output
    reusing = Engine.from_path(embedded_rulesets(), only={"nordjylland-2027"})
    assert {r.id for r in reusing.rulesets()} == {"nordjylland-2027", "nationale-regler"}
    assert reusing.ruleset("nordjylland-2027").digest == ENGINE.ruleset("nordjylland-2027").digest
    # an id that is not there: everything is loaded, so the error can list what exists
    everything = Engine.from_path(embedded_rulesets(), only={"findes-ikke"})
    assert {r.id for r in everything.rulesets()} == {r.id for r in ENGINE.rulesets()}


def test_an_answer_names_the_exact_rules_it_came_from(tmp_path):
    """Issue 13's contract: engine version, catalogue version and a digest of the ruleset's files."""
    import shutil

    import rammeaftale
    data = ENGINE.evaluate("lukning", CLOSURE, ruleset="syddanmark-2021").to_dict()
    assert data["engine_version"] == rammeaftale.__version__ and data["catalogue_version"] >= 1
    assert data["ruleset_digest"].startswith("sha256:") and len(data["ruleset_digest"]) == 71
    root = Path(__file__).resolve().parents[1] / "rulesets"
    copy = tmp_path / "rs"
    shutil.copytree(root, copy)
    same = Engine.from_path(copy).evaluate("lukning", CLOSURE, ruleset="syddanmark-2021").to_dict()
    assert same["ruleset_digest"] == data["ruleset_digest"]                 # the bytes, not the path
    lukning = copy / "syddanmark-2021" / "lukning.yaml"
    lukning.write_text(lukning.read_text("utf-8") + "# en kommentar\n", "utf-8")
    edited = Engine.from_path(copy).evaluate("lukning", CLOSURE, ruleset="syddanmark-2021").to_dict()
    assert edited["ruleset_digest"] != data["ruleset_digest"] and edited["output"] == data["output"]


def test_warnings_are_structured_and_still_text():
    res = ENGINE.evaluate("lukning", CLOSURE, ruleset="syddanmark-2021")
    draft = next(w for w in res.warnings if w.art == "status")
    assert "udkast" in draft and draft.kilde is None and draft.to_dict()["tekst"] == str(draft)


def test_not_regulated_carries_its_reason_and_citation_as_fields():
    with pytest.raises(NotRegulated) as caught:
        ENGINE.evaluate("takstloft", {"tilbudstype": "herberg", "takst": "2500"}, ruleset="sjaelland-2021")
    data = caught.value.to_dict()
    assert data["kind"] == "not_regulated" and data["begrundelse"] and "kilde" in data


def test_every_shipped_example_answer_validates_against_its_published_output_schema():
    """The output schemas are a contract: every answer the engine gives must fit them."""
    import jsonschema

    from rammeaftale.model.catalogue import catalogue
    from rammeaftale.tools import examples
    checked = 0
    for example in examples.discover(ENGINE):
        try:
            data = ENGINE.evaluate(example.question, example.data["sag"], ruleset=example.ruleset).to_dict()
        except EngineError:
            continue
        jsonschema.validate(data, catalogue()[example.question].result_json_schema())
        checked += 1
    assert checked > 150


def test_only_compiles_every_library_when_a_header_cannot_say_which_it_reuses(tmp_path):
    """A chosen ruleset whose genbrug is not a list of entries: all libraries load, and the error is the
    schema's, as in a full load."""
    import shutil

    from rammeaftale import RulesetErrors
    from rammeaftale.run.api import embedded_rulesets

    from .helpers import write_ruleset
    shutil.copytree(embedded_rulesets() / "nationale-regler", tmp_path / "nationale-regler")
    folder = write_ruleset(tmp_path, extra_header="genbrug: nationale-regler\n")
    with pytest.raises(RulesetErrors) as only:
        Engine.from_path(tmp_path, only={folder.name})
    with pytest.raises(RulesetErrors) as full:
        Engine.from_path(tmp_path)
    assert [e.to_dict() for e in only.value.errors] == [e.to_dict() for e in full.value.errors]
