"""Fidelity findings: each test is written from the agreement text (cited), not from the engine's output."""

from __future__ import annotations

import pytest

from rammeaftale import Engine
from rammeaftale.errors import InvalidCase
from rammeaftale.model.tables import Conditions, Row, ancestors, parse_cell

from .helpers import SOURCE, write_ruleset


# --- paragraph hierarchy: a table cell "this paragraph and everything under it" -------------

def test_ancestors_stop_at_the_paragraph_never_the_bare_law():
    assert ancestors("SEL-66-1-6") == ["SEL-66-1-6", "SEL-66-1", "SEL-66"]
    assert ancestors("SEL-108") == ["SEL-108"]


def test_hierarchy_cell_covers_the_named_paragraph_and_what_is_under_it():
    cell = parse_cell({"omfatter": ["SEL-66-1", "SEL-107"]})
    for covered in ("SEL-66-1", "SEL-66-1-5", "SEL-66-1-6", "SEL-107", "SEL-107-2"):
        assert cell.matches(covered), covered
    # a parent is broader than its stk.; "stk. 10" is not under "stk. 1"; another law is another law
    for not_covered in ("SEL-66", "SEL-66-10", "SEL-1070", "BL-107", "SEL-66-2", None, 66):
        assert not cell.matches(not_covered), not_covered


def test_hierarchy_cells_overlap_when_one_root_is_under_the_other():
    parent, child = parse_cell({"omfatter": "SEL-66"}), parse_cell({"omfatter": ["SEL-66-1"]})
    assert parent.overlaps(child) and child.overlaps(parent)
    assert not parse_cell({"omfatter": "SEL-66-1"}).overlaps(parse_cell({"omfatter": "SEL-66-10"}))
    assert parent.overlaps(parse_cell(["SEL-66-1-6"]))
    assert not parent.overlaps(parse_cell(["SEL-67"]))
    table = Conditions(["p"], [Row("a", (parent,)), Row("b", (child,))], "unik")
    assert len(table.overlapping_pairs()) == 1
    assert "SEL-66 (med underpunkter)" in table.known_values("p")


@pytest.mark.parametrize("raw", [{"omfatter": []}, {"omfatter": [1]}, {"omfatter": "SEL-1", "til": 3}])
def test_malformed_hierarchy_cells_are_refused(raw):
    with pytest.raises(ValueError):
        parse_cell(raw)


HIERARCHY_TABLE = """\
spoergsmaal: opsigelse
titel: Test
kilde: SRC:2246 Bilag 6
trin:
  - id: omraade
    kilde: SRC:2251 Bilag 6
    tabel:
      hitpolitik: unik
      input: [COLUMN]
      udfald: [frist]
      ingen_match: {fejl: invalid_case, felt: paragraf, besked: Ukendt paragraf}
      regler:
        - id: a
          naar: {COLUMN: {omfatter: [ROOT]}}
          saet: {frist: løbende måned}
          kilde: SRC:2251 Bilag 6
  - id: slut
    kilde: SRC:2246 Bilag 6
    formel: frist_slut(opsigelsesdato, frist)
resultat:
  sidste_betalingsdag: slut
  frist: frist
  regel: omraade_regel
""".replace("SRC", SOURCE)


def _hierarchy(column="paragraf", root="SEL-66-1"):
    return HIERARCHY_TABLE.replace("COLUMN", column).replace("ROOT", root)


def test_hierarchy_cell_in_a_ruleset_matches_a_more_specific_paragraph(tmp_path):
    write_ruleset(tmp_path, {"q.yaml": _hierarchy()})
    engine = Engine.from_path(tmp_path)
    result = engine.evaluate("opsigelse", {"paragraf": "SEL § 66 stk. 1 nr. 6", "opsigelsesdato": "2021-03-03"},
                             ruleset="test-2021")
    assert result.output["regel"] == "a"
    with pytest.raises(InvalidCase, match=r"SEL-66-1 \(med underpunkter\)"):
        engine.evaluate("opsigelse", {"paragraf": "SEL-66", "opsigelsesdato": "2021-03-03"}, ruleset="test-2021")


def test_hierarchy_roots_must_be_in_normal_form_and_only_in_paragraph_columns(tmp_path):
    from rammeaftale.errors import RulesetErrors
    with pytest.raises(RulesetErrors) as info:
        write_ruleset(tmp_path / "a", {"q.yaml": _hierarchy(root="'SEL § 66'")})
        Engine.from_path(tmp_path / "a")
    assert any("normalform: 'SEL-66'" in e.message for e in info.value.errors)
    with pytest.raises(RulesetErrors) as info:
        write_ruleset(tmp_path / "b", {"q.yaml": _hierarchy(column="situation", root="ophoer")})
        Engine.from_path(tmp_path / "b")
    assert any("kun i paragraf-kolonner" in e.message for e in info.value.errors)


# --- the shipped rulesets, from their texts ---------------------------------------------

@pytest.fixture(scope="module")
def engine():
    return Engine.default()


@pytest.mark.parametrize("paragraf", ["SEL-66-1-5", "SEL-66-1-6", "SEL-107-2", "SEL § 66 stk. 3"])
def test_syddanmark_2021_botilbud_row_covers_its_stk_and_nr(engine, paragraf):
    # 000:2253-2256 "Botilbud (SEL § 66 stk. 1, 2 og 3, § 107, § 108, ...)": løbende måned + 1 måned (2258)
    result = engine.evaluate("opsigelse", {"paragraf": paragraf, "opsigelsesdato": "2021-01-14"},
                             ruleset="syddanmark-2021")
    assert result.output["frist"] == "løbende måned + 1 måned"
    assert str(result.output["sidste_betalingsdag"]) == "2021-02-28"


@pytest.mark.parametrize("paragraf", ["SEL-999", "SEL-85", "SEL § 85 stk. 1"])
def test_sjaelland_refuses_paragraphs_outside_its_list(engine, paragraf):
    # 004:214-256 lists SEL §§ 32, 36, 66, 67, 101, 103-105, 107-110, FSL § 20 stk. 2-3, LSV § 1b
    with pytest.raises(InvalidCase) as info:
        engine.evaluate("opsigelse", {"paragraf": paragraf, "opsigelsesdato": "2021-03-01"}, ruleset="sjaelland-2021")
    assert info.value.path == "paragraf"
    for known in ("SEL-108", "SEL-67", "FSL-20-3", "LSV-1b"):
        assert known in str(info.value)


# --- efterregulering: the headline output respects Bilag 10's 5 % rules ---------------------

@pytest.mark.parametrize("ruleset", ["syddanmark-2021", "syddanmark-2025"])
def test_deficit_up_to_5_pct_never_raises_the_rate(engine, ruleset):
    # 000:2882-2884 and 001:1701-1703 (word for word): "Underskud på op til 5 pct. kan (...) ikke indregnes i taksten"
    for deficit in (1, 400000, 800000, 1000000):
        case = {"provenu": 20000000 - deficit, "afregningsgrundlag": 20000000, "ramme": 20000000}
        assert engine.evaluate("efterregulering", case, ruleset=ruleset).output["takstregulering_aar2"] == 0


@pytest.mark.parametrize("regranted", [0, 500000, 1000000, 1500000])
def test_surplus_above_5_pct_returns_at_least_the_part_above(engine, regranted):
    # 000:2868-2870: "Den del af et eventuelt overskud, der overstiger 5 pct., skal (...) indregnes i taksten"
    case = {"provenu": 21500000, "afregningsgrundlag": 20000000, "ramme": 20000000, "genbevilget": regranted}
    result = engine.evaluate("efterregulering", case, ruleset="syddanmark-2021")
    assert result.output["takstregulering_aar2"] >= 500000
    assert result.output["A7"] == 1500000 - regranted      # Bilag 14's A7 is kept as it is


def test_deficit_above_5_pct_puts_exactly_the_part_above_into_the_rate(engine):
    # 000:2882-2884 (up to 5 % cannot) and 2891-2892 (the part above 5 % skal indregnes som tillæg)
    for regranted in (0, -100000, -1000000, -1400000):
        case = {"provenu": 20000000, "afregningsgrundlag": 21400000, "ramme": 20000000, "genbevilget": regranted}
        assert engine.evaluate("efterregulering", case, ruleset="syddanmark-2021").output["takstregulering_aar2"] == -400000


# --- region names and periods ---------------------------------------------------------------

from rammeaftale.errors import NoRuleset  # noqa: E402


@pytest.mark.parametrize("region, day, expected", [
    ("Nordjylland", "2027-05-01", "nordjylland-2027"),
    ("Region Sjælland", "2021-03-01", "sjaelland-2021"),
    ("SJÆLLAND", "2022-12-31", "sjaelland-2021"),
    (" syddanmark ", "2025-01-01", "syddanmark-2025"),
])
def test_region_names_ignore_case_accents_and_the_word_region(engine, region, day, expected):
    assert engine.ruleset(region=region, dato=day).id == expected


def test_an_unknown_region_says_which_regions_exist(engine):
    with pytest.raises(NoRuleset) as info:
        engine.ruleset(region="Hovedstaden", dato="2021-03-01")
    message = str(info.value)
    assert "ukendt region 'Hovedstaden'" in message
    for region in ("nordjylland", "sjaelland", "syddanmark"):
        assert region in message


def test_a_covered_region_with_an_uncovered_date_names_the_regions_periods(engine):
    with pytest.raises(NoRuleset, match=r"syddanmark-2021 \(2021-01-01–2022-12-31\)"):
        engine.ruleset(region="Syddanmark", dato="2024-03-01")


def test_explicit_ruleset_outside_its_period_warns_and_names_the_covering_ruleset(engine):
    # syddanmark-2021 covers 2021-2022 (regelsaet.yaml); a notice given in 2025 falls under syddanmark-2025
    result = engine.evaluate("opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2025-03-03"},
                             ruleset="syddanmark-2021")
    periode = [w for w in result.warnings if w.art == "periode"]
    assert len(periode) == 1 and "syddanmark-2025" in periode[0] and "opsigelsesdato 2025-03-03" in periode[0]
    # 2024 is covered by no Syddanmark ruleset
    result = engine.evaluate("opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2024-03-01"},
                             ruleset="syddanmark-2021")
    assert any(w.art == "periode" and "intet regelsæt" in w for w in result.warnings)
    # inside the period: no such warning
    result = engine.evaluate("opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2022-03-01"},
                             ruleset="syddanmark-2021")
    assert not any(w.art == "periode" for w in result.warnings)


# --- Sjælland omfattet: recorded readings -------------------------------------------------

def test_sjaelland_contradiction_warning_only_where_5_users_are_possible(engine):
    # 004:161/448 "mindst 5 kommuner" vs 004:165/466 "mere end 5 kommuner"
    def warned(n):
        result = engine.evaluate("omfattet", {"driftsform": "kommunal", "koeberkommuner": n, "paragraf": "FSL-20-2"},
                                 ruleset="sjaelland-2021")
        return any("selvmodsigende" in w for w in result.warnings)
    assert [warned(n) for n in (3, 4, 5, 6, 8)] == [False, True, True, False, False]


def test_sjaelland_few_places_to_many_buyers_warns_but_few_buyers_do_not(engine):
    # 004:1564-1570 (enkelte pladser) against 004:1558, 1576-1578 (kategori 3, mindst 5 købere)
    for n, expected in ((4, False), (5, True), (7, True)):
        result = engine.evaluate("omfattet", {"driftsform": "kommunal", "koeberkommuner": n,
                                              "kun_enkelte_pladser": True}, ruleset="sjaelland-2021")
        assert result.output["kategori"] == "kategori 1"
        assert any("definitionen af kategori 3" in w for w in result.warnings) is expected
