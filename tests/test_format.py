"""The 0.3 ruleset format says each thing once: one grammar per key, and the old forms' warnings.

* a step's ``naar`` is a table row; an expression guard is ``naar_formel``;
* ``resultat`` is a list of names (the step of that name) with ``navn: formel`` only where needed;
* ``varianter`` may give ``standard`` values, so variants need no filler steps;
* a library (``type: bibliotek``) has no region, no period and no month rule unless it needs one;
* sources are declared once under ``kilder`` with a short name.

The old forms still load for one release, each with a ``validate`` warning at its file:line.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rammeaftale import Engine
from rammeaftale.cli import main
from rammeaftale.errors import RulesetErrors
from rammeaftale.tools.report import Sources, render_ruleset
from rammeaftale.tools.rulemap import rules

from .helpers import SOURCE, write_ruleset

CASE = {"udgift": "1000", "befolkning": {"A": 1, "B": 3}}


def _question(steps: str, resultat: str = "  - fordeling\n") -> str:
    return (f"spoergsmaal: objektiv_finansiering\ntitel: Fordeling\nkilde: {SOURCE}:2978 Bilag 10\n"
            f"trin:\n{steps}resultat:\n{resultat}")


GUARDED = f"""\
  - id: kun_folketal
    kilde: {SOURCE}:2978 Bilag 10
    naar: {{grundlag: folketal}}
    formel: "'folketal'"
  - id: kun_med_tilbud
    kilde: {SOURCE}:2978 Bilag 10
    naar_formel: angivet(tilbud)
    formel: "'tilbud'"
  - id: begge
    kilde: {SOURCE}:2978 Bilag 10
    naar: {{grundlag: [folketal]}}
    naar_formel: angivet(tilbud)
    ikke_reguleret: Både folketal og et navngivet tilbud er ikke reguleret her
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(udgift, befolkning)
"""


def _engine(tmp_path, text: str) -> Engine:
    write_ruleset(tmp_path, {"q.yaml": text})
    return Engine.from_path(tmp_path)


def _trace(result, rule):
    return next(s for s in result.trace if s.rule == rule)


def test_naar_is_a_table_row_and_naar_formel_a_formula(tmp_path):
    engine = _engine(tmp_path, _question(GUARDED))
    assert engine.ruleset("test-2021").format_warnings == []
    result = engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021")
    assert result.output["fordeling"] == {"A": Decimal("250.00"), "B": Decimal("750.00")}
    assert _trace(result, "kun_folketal").result == "folketal"
    skipped = _trace(result, "kun_med_tilbud")
    assert skipped.result is None and "angivet(tilbud)" in " ".join(skipped.notes)
    other = engine.evaluate("objektiv_finansiering", CASE | {"grundlag": "0-6-aarige"}, ruleset="test-2021")
    assert "grundlag er folketal" in " ".join(_trace(other, "kun_folketal").notes)
    with pytest.raises(Exception, match="Både folketal"):         # both conditions hold: the step applies
        engine.evaluate("objektiv_finansiering", CASE | {"tilbud": "Egely"}, ruleset="test-2021")


def test_a_naar_row_is_checked_like_a_table_row(tmp_path):
    text = _question(GUARDED.replace("naar: {grundlag: folketal}", "naar: {grundlag: folketall}"))
    write_ruleset(tmp_path, {"q.yaml": text})
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert any("'folketall' kan aldrig forekomme i 'grundlag'" in e.message and e.location == "test-2021/q.yaml:7"
               for e in info.value.errors), info.value


def test_the_old_naar_formula_still_loads_with_a_warning(tmp_path, capsys):
    text = _question(GUARDED.replace("naar_formel: angivet(tilbud)\n    formel: \"'tilbud'\"",
                                     "naar: angivet(tilbud)\n    formel: \"'tilbud'\""))
    engine = _engine(tmp_path, text)
    result = engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021")
    assert _trace(result, "kun_med_tilbud").result is None
    assert main(["validate", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "test-2021/q.yaml:11: en formel under naar er den gamle form; skriv 'naar_formel: angivet(tilbud)'" in err


def test_resultat_is_a_list_of_names_with_formulas_only_where_needed(tmp_path):
    steps = f"  - id: noegle\n    kilde: {SOURCE}:2978 Bilag 10\n    formel: befolkning\n"
    engine = _engine(tmp_path, _question(steps, "  - fordeling: fordel(udgift, noegle)\n"))
    assert engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021").output["fordeling"]["B"] == Decimal("750.00")
    assert engine.ruleset("test-2021").format_warnings == []


def test_the_old_resultat_mapping_still_loads_with_a_warning(tmp_path):
    engine = _engine(tmp_path, _question(GUARDED, "  fordeling: fordeling\n"))
    assert engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021").output["fordeling"]["A"] == Decimal("250.00")
    (warning,) = engine.ruleset("test-2021").format_warnings
    assert warning.startswith("test-2021/q.yaml:") and "skriv en liste" in warning and "1 af 1 er blot navnet" in warning


def test_a_result_named_twice_is_an_error(tmp_path):
    write_ruleset(tmp_path, {"q.yaml": _question(GUARDED, "  - fordeling\n  - fordeling\n")})
    with pytest.raises(RulesetErrors, match="'fordeling' står flere gange under resultat"):
        Engine.from_path(tmp_path)


VARIANTS = f"""\
  - id: model
    kilde: {SOURCE}:2978 Bilag 10
    varianter:
      input: [grundlag]
      standard: {{andel: 0, noegle: "{{}}"}}
      liste:
        - id: folketal
          titel: Efter folketal
          naar: {{grundlag: folketal}}
          kilde: {SOURCE}:2979 Bilag 10
          trin:
            - {{id: noegle, kilde: "{SOURCE}:2979 Bilag 10", formel: befolkning}}
            - {{id: andel, kilde: "{SOURCE}:2979 Bilag 10", formel: udgift}}
        - id: smaaboern
          titel: Efter 0-6-årige (ikke reguleret her, intet at fordele)
          naar: {{grundlag: 0-6-aarige}}
          kilde: {SOURCE}:2980 Bilag 10
          trin:
            - {{id: note, kilde: "{SOURCE}:2980 Bilag 10", formel: andel + 1}}
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: "fordel(andel, noegle) if noegle else {{}}"
"""


def test_variants_take_standard_values_instead_of_filler_steps(tmp_path):
    engine = _engine(tmp_path, _question(VARIANTS))
    full = engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021")
    assert full.output["fordeling"] == {"A": Decimal("250.00"), "B": Decimal("750.00")}
    empty = engine.evaluate("objektiv_finansiering", CASE | {"grundlag": "0-6-aarige"}, ruleset="test-2021")
    assert empty.output["fordeling"] == {}
    andel = _trace(empty, "andel")
    assert andel.result == 0 and andel.kilde == f"{SOURCE}:2980 Bilag 10"      # cited with the variant
    assert _trace(empty, "note").result == 1                                  # a variant's step sees the standard
    ruleset = engine.ruleset("test-2021")
    assert rules(ruleset)["objektiv_finansiering/model"].value["varianter"]["standard"] == {"andel": 0, "noegle": "{}"}
    page = render_ruleset(engine, ruleset, Sources(None, engine.rulesets()))
    assert "En variant, der ikke selv sætter det, har: <code>andel = 0, noegle = {}</code>" in page


def test_a_standard_no_variant_uses_is_an_error(tmp_path):
    text = _question(VARIANTS.replace("standard: {andel: 0, noegle: \"{}\"}",
                                      "standard: {andel: 0, noegle: \"{}\", note: 0}")
                     .replace("formel: andel + 1}", "formel: andel + 1}\n            - {id: note2, kilde: \"ra2021:2980\", formel: 1}"))
    text = text.replace("            - {id: noegle,", "            - {id: note, kilde: \"ra2021:2979\", formel: 2}\n            - {id: noegle,")
    write_ruleset(tmp_path, {"q.yaml": text})
    with pytest.raises(RulesetErrors, match="alle varianter sætter selv 'note', så standarden bruges aldrig"):
        Engine.from_path(tmp_path)


LIBRARY = f"""\
id: faelles
type: bibliotek
navn: Fælles regler
status: vedtaget
kilder:
  {SOURCE}: {{fil: syddanmark-rammeaftale-2021-2022.txt, titel: Testkilde}}
"""


def _library(tmp_path, header: str, formula: str = "fordel(udgift, befolkning)") -> Engine:
    folder = tmp_path / "faelles"
    folder.mkdir(parents=True)
    (folder / "regelsaet.yaml").write_text(header, "utf-8")
    (folder / "objektiv_finansiering.yaml").write_text(_question(
        f"  - id: fordeling\n    kilde: {SOURCE}:2978 Bilag 10\n    formel: {formula}\n"), "utf-8")
    return Engine.from_path(tmp_path)


def test_a_library_has_its_own_header_without_region_period_or_month_rule(tmp_path, capsys):
    engine = _library(tmp_path, LIBRARY)
    library = engine.ruleset("faelles")
    assert library.kind == "bibliotek" and library.format_warnings == []
    assert "bibliotek med fælles regler" in render_ruleset(engine, library, Sources(None, engine.rulesets()))
    assert main(["--rulesets", str(tmp_path), "list"]) == 0
    assert "faelles" in capsys.readouterr().out


def test_a_library_formula_counting_months_needs_a_month_rule(tmp_path):
    with pytest.raises(RulesetErrors, match="plus_maaneder regner med måneder, men biblioteket har ingen maanedsregel"):
        _library(tmp_path, LIBRARY, "plus_maaneder(ny_dato(2021, 1, 31), 1)")
    assert _library(tmp_path / "b", LIBRARY + "maanedsregel: afkort\n", "\"{'A': udgift}\"")


def test_the_old_library_header_still_loads_with_a_warning(tmp_path):
    old = LIBRARY.replace("navn:", "region: national\ngyldig_fra: 2014-07-01\ngyldig_til: 9999-12-31\n"
                                   "maanedsregel: afkort\nnavn:")
    (warning,) = _library(tmp_path, old).ruleset("faelles").format_warnings
    assert warning.startswith("faelles/regelsaet.yaml:3: et bibliotek har hverken region eller aftaleperiode")


def test_an_agreement_still_needs_region_period_and_month_rule(tmp_path):
    folder = write_ruleset(tmp_path)
    header = folder / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace("maanedsregel: afkort\n", ""), "utf-8")
    with pytest.raises(RulesetErrors, match="nøglen 'maanedsregel' mangler"):
        Engine.from_path(tmp_path)


def test_the_old_kilder_list_and_file_citations_still_load_with_warnings(tmp_path, capsys):
    folder = write_ruleset(tmp_path)
    header = folder / "regelsaet.yaml"
    text = header.read_text("utf-8").replace(
        f"  {SOURCE}:\n    fil: syddanmark-rammeaftale-2021-2022.txt\n", "  - fil: syddanmark-rammeaftale-2021-2022.txt\n")
    header.write_text(text.replace(f"kilde: {SOURCE}:1879", "kilde: syddanmark-rammeaftale-2021-2022.txt:1879"), "utf-8")
    for path in folder.glob("*.yaml"):
        path.write_text(path.read_text("utf-8").replace(f"{SOURCE}:", "syddanmark-rammeaftale-2021-2022.txt:"), "utf-8")
    warnings = Engine.from_path(tmp_path).ruleset("test-2021").format_warnings
    assert any("kilder er en liste (den gamle form)" in w for w in warnings)
    assert any("har den gamle form FIL.txt:LINJE; skriv 'KORTNAVN:1879 Bilag 5'" in w for w in warnings)
    assert main(["validate", str(tmp_path)]) == 0          # and the lines are still checked
    assert "advarsel: test-2021/regelsaet.yaml:" in capsys.readouterr().err
