"""Ruleset mistakes are caught at load, all at once, each with file:line."""

import re

import pytest

from rammeaftale import Engine
from rammeaftale.errors import RulesetErrors

from .helpers import QUESTION, SOURCE, write_ruleset


def load_errors(tmp_path, files=None, **kw):
    write_ruleset(tmp_path, files, **kw)
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    return info.value.errors


def test_minimal_ruleset_loads_and_answers(tmp_path):
    write_ruleset(tmp_path)
    engine = Engine.from_path(tmp_path)
    result = engine.evaluate("objektiv_finansiering", {"udgift": "100", "befolkning": {"A": 1, "B": 2}},
                             ruleset="test-2021")
    assert sum(result.output["fordeling"].values()) == 100


def test_unknown_key_is_named_with_its_line(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION.replace("    formel:", "    formul: x\n    formel:")})
    assert any("'formul'" in e.message and e.location == "test-2021/q.yaml:7" for e in errors), errors


def test_unknown_name_in_formula_suggests_the_right_one(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION.replace("fordel(udgift, befolkning)", "fordel(udgifter, befolkning)")})
    assert any("ukendt navn 'udgifter'" in e.message and "mente du 'udgift'" in e.message for e in errors)
    assert errors[0].location == "test-2021/q.yaml:7"


def test_formula_syntax_error_is_located(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION.replace("fordel(udgift, befolkning)", "fordel(udgift,")})
    assert "syntaksfejl" in errors[0].message and errors[0].location.endswith("q.yaml:7")


def test_missing_kilde_is_an_error(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION.replace(f"    kilde: {SOURCE}:2978 Bilag 10\n", "", 1)})
    assert any("'kilde' mangler" in e.message for e in errors)


def test_kilde_must_name_a_declared_source_file(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION.replace(f"kilde: {SOURCE}:2978", "kilde: 999_ukendt.txt:1", 1)})
    assert any("999_ukendt.txt" in e.message for e in errors)


def test_unknown_question_is_an_error(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION.replace("spoergsmaal: objektiv_finansiering",
                                                               "spoergsmaal: objektiv_finanisering")})
    assert any("ukendt spørgsmål 'objektiv_finanisering'" in e.message for e in errors)


def test_output_must_be_in_the_catalogue(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": QUESTION + "  - andet: fordeling\n"})
    assert any("'andet' er ikke et output" in e.message for e in errors)


TABLE = f"""\
spoergsmaal: opsigelse
titel: t
kilde: {SOURCE}:2246 Bilag 6
trin:
  - id: varsel
    kilde: {SOURCE}:2246 Bilag 6
    tabel:
      hitpolitik: unik
      input: [situation]
      udfald: [frist]
      regler:
        - id: a
          naar: {{situation: [ophoer, doedsfald]}}
          saet: {{frist: løbende måned}}
          kilde: {SOURCE}:2250 Bilag 6
        - id: b
          naar: {{situation: {{B}}}}
          saet: {{frist: {{F}}}}
          kilde: {SOURCE}:2251 Bilag 6
  - id: slut
    kilde: {SOURCE}:2246 Bilag 6
    formel: frist_slut(opsigelsesdato, frist)
resultat:
  sidste_betalingsdag: slut
  frist: frist
  regel: varsel_regel
"""


def table(b="lukning_af_tilbud", f="løbende måned plus to måneder"):
    return TABLE.replace("{B}", b).replace("{F}", f)


def test_table_loads_when_rows_exclude_each_other(tmp_path):
    write_ruleset(tmp_path, {"q.yaml": table()})
    result = Engine.from_path(tmp_path).evaluate(
        "opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2021-11-05", "situation": "lukning_af_tilbud"},
        ruleset="test-2021")
    assert result.output["regel"] == "b"


def test_overlapping_rows_under_unik_are_an_error(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": table(b="doedsfald")})
    assert any("'a' og 'b' kan begge gælde" in e.message for e in errors)
    assert any(re.search(r"q\.yaml:16$", e.location) for e in errors)


def test_value_a_choice_can_never_take_is_an_error(tmp_path):
    errors = load_errors(tmp_path, {"q.yaml": table(b="lukning_af_tilbuddet")})
    assert any("'lukning_af_tilbuddet' kan aldrig forekomme" in e.message for e in errors)


def test_unreadable_notice_period_passed_to_frist_slut_is_an_error(tmp_path):
    text = table(f="løbende måned plus to mdr").replace(
        "saet: {frist: løbende måned plus to mdr}",
        "saet: {frist: 'løbende måned plus to uger'}\n          beregn: {}")
    text = text.replace("      udfald: [frist]", "      udfald: [frist, slutdag]")
    text = text.replace("saet: {frist: løbende måned}", "saet: {frist: løbende måned}\n          beregn: {slutdag: 'frist_slut(opsigelsesdato, frist)'}")
    text = text.replace("beregn: {}", "beregn: {slutdag: 'frist_slut(opsigelsesdato, frist)'}")
    errors = load_errors(tmp_path, {"q.yaml": text})
    assert any("ukendt enhed 'uger'" in e.message for e in errors)


def test_every_catalogue_question_must_be_accounted_for(tmp_path):
    folder = write_ruleset(tmp_path)
    meta = folder / "regelsaet.yaml"
    meta.write_text(meta.read_text("utf-8").replace("  takstloft:\n    begrundelse: Ikke med i denne testaftale.\n", ""), "utf-8")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert "mangler: takstloft" in str(info.value)


def test_overlapping_periods_of_one_region_are_an_error(tmp_path):
    write_ruleset(tmp_path, id="test-2021")
    write_ruleset(tmp_path, id="test-2022", fra="2022-06-01", til="2023-12-31")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert "overlapper" in str(info.value)


def test_all_errors_are_reported_together(tmp_path):
    broken = QUESTION.replace("fordel(udgift, befolkning)", "fordel(x, y)") + "  - andet: fordeling\n"
    errors = load_errors(tmp_path, {"q.yaml": broken})
    assert len(errors) >= 2


def test_folder_and_id_must_agree(tmp_path):
    folder = write_ruleset(tmp_path)
    folder.rename(tmp_path / "andet-navn")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert "mappens navn" in str(info.value)


def test_a_rule_inherits_the_warnings_of_the_parameters_it_uses(tmp_path):
    extra = (f"  forslag_sats:\n    vaerdi: 2\n    kilde: {SOURCE}:1879 Bilag 5\n    status: forslag\n"
             "    fortolkning: Satsen er et forslag i kilden.\n")
    folder = write_ruleset(tmp_path, {"q.yaml": QUESTION.replace("fordel(udgift, befolkning)",
                                                                "fordel(udgift * forslag_sats, befolkning)")})
    meta = folder / "regelsaet.yaml"
    meta.write_text(meta.read_text("utf-8").replace("ikke_reguleret:\n", extra + "ikke_reguleret:\n", 1), "utf-8")
    result = Engine.from_path(tmp_path).evaluate(
        "objektiv_finansiering", {"udgift": "10", "befolkning": {"A": 1}}, ruleset="test-2021")
    assert result.output["fordeling"] == {"A": 20}
    assert any("Fortolkning (forslag_sats): Satsen er et forslag" in w for w in result.warnings)
    assert any("status 'forslag'" in w for w in result.warnings)


# --- red team: a ruleset parameter is checked at load, never blamed on the case ---------------------

@pytest.mark.parametrize("value, fragment", [
    ("'0.05'", "fjern anførselstegnene"), ('"12"', "fjern anførselstegnene"),
    ("1.0e+999999999", "uden for"), ("1.0e-200", "uden for"), ("1" * 3000, "30 cifre"),
    ("1" * 5000, "30 cifre"), ("'" + "9" * 5000 + "'", "30 cifre"),
    ("1" * 31, "30 cifre"), ("{a: [1, '0.5']}", "fjern anførselstegnene"), ("1e5", "decimalpunktum: 1.0e5")])
def test_a_parameter_that_cannot_be_computed_with_is_invalid_ruleset_at_its_line(tmp_path, value, fragment):
    """Red team: '0.05', 1.0e+999999999 or a 3000-digit number passed `validate`; then every case failed
    as invalid_case blaming the kommune's `budget` (a 5000-digit one printed all its digits)."""
    folder = write_ruleset(tmp_path)
    header = folder / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace("vaerdi: 0.05", f"vaerdi: {value}"), "utf-8")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    errors = info.value.errors
    line = next(i for i, text in enumerate(header.read_text("utf-8").splitlines(), 1) if "vaerdi:" in text)
    assert len(errors) == 1 and errors[0].location.endswith(f"regelsaet.yaml:{line}"), errors
    assert fragment in errors[0].message and "sats" in errors[0].message
    assert "1111111111111111111111111111111111111111" not in str(errors[0])      # never thousands of digits


@pytest.mark.parametrize("value", ["0.05", "3", "-1.5", "1.0e+5", "123456789012345678901234567890", "0.000001",
                                   "'løbende måned plus 30 dage'", "[1, 2.5]"])
def test_parameters_the_engine_can_compute_with_still_load(tmp_path, value):
    folder = write_ruleset(tmp_path)
    header = folder / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace("vaerdi: 0.05", f"vaerdi: {value}"), "utf-8")
    Engine.from_path(tmp_path)


def test_a_runtime_failure_that_also_reads_a_parameter_does_not_blame_the_case_field(tmp_path):
    from rammeaftale import InvalidCase
    """Red team: a bad parameter made every case fail with ``path`` on the case field next to it."""
    question = QUESTION.replace("  - id: fordeling\n", f"  - id: pr_sats\n    kilde: {SOURCE}:2978 Bilag 10\n"
                                "    formel: udgift / (sats - sats)\n  - id: fordeling\n"
                                ).replace("fordel(udgift, befolkning)", "fordel(pr_sats, befolkning)")
    assert "pr_sats" in question
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": question})
    with pytest.raises(InvalidCase) as info:
        Engine.from_path(tmp_path).evaluate("objektiv_finansiering", {"udgift": 100, "befolkning": {"A": 1}},
                                            ruleset="test-2021")
    assert info.value.path is None and info.value.details["felter"] == ["udgift"]
