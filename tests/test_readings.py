"""Alternative readings (``laesninger``): declaration, evaluation, choice, compare, report (issue 11)."""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, strategies as st

from rammeaftale import Engine
from rammeaftale.errors import EngineError, InvalidCase, RulesetErrors
from rammeaftale.model.catalogue import catalogue
from rammeaftale.run.api import embedded_rulesets
from rammeaftale.tools.compare import render_text
from rammeaftale.tools.report import render_ruleset, Sources

from .helpers import SOURCE, write_ruleset
from .test_properties import PROPERTY, shipped

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ("syddanmark-2021", "syddanmark-2025")


# --- the notice rule and the 30 June rule, from the text ------------------------------------

@pytest.mark.parametrize("ruleset, year", [("syddanmark-2021", 2021), ("syddanmark-2025", 2025)])
def test_notice_on_the_10th_without_ophoersdato_is_decided_by_the_reading(ruleset, year):
    """Bilag 6 (000:2258-2266; 001:1030-1061): "Løbende måned + 1 måned. 2 måneder ved opsigelse en
    vilkårlig dag i måneden."  From 10 January: løbende måned + 1 måned ends 28 February, 2 måneder
    ends 10 March."""
    case = {"paragraf": "SEL-108", "opsigelsesdato": f"{year}-01-10"}
    result = shipped().evaluate("opsigelse", case, ruleset=ruleset)
    assert result.output["sidste_betalingsdag"] == _dt.date(year, 2, 28)
    [alternative] = result.alternatives
    assert (alternative.point, alternative.reading) == ("botilbud_to_frister", "opsigelsesdagen_afgoer")
    assert alternative.output["sidste_betalingsdag"] == _dt.date(year, 3, 10)
    assert any(w.art == "fortolkning_alternativ" and w.kilde == alternative.kilde for w in result.warnings)
    chosen = shipped().evaluate("opsigelse", case, ruleset=ruleset,
                                fortolkninger={"botilbud_to_frister": "opsigelsesdagen_afgoer"})
    assert chosen.output["sidste_betalingsdag"] == _dt.date(year, 3, 10)
    assert [(a.reading, a.followed) for a in chosen.alternatives] == [("ophoersdatoen_afgoer", True)]
    assert any(w.art == "fortolkning_valgt" for w in chosen.warnings)
    assert chosen.to_dict()["fortolkninger"] == {"botilbud_to_frister": "opsigelsesdagen_afgoer"}


def test_the_followed_reading_pays_a_later_month_end_ophoer_less_than_an_earlier_mid_month_one():
    """The anomaly the issue names: notice 10 Jan, ophør 20 Jan -> 2 måneder (10 Mar); ophør 31 Jan
    (month end) -> løbende måned + 1 måned (28 Feb).  The other reading gives 10 Mar for both."""
    case = {"paragraf": "SEL-107", "opsigelsesdato": "2021-01-10"}
    early = shipped().evaluate("opsigelse", {**case, "ophoersdato": "2021-01-20"}, ruleset="syddanmark-2021")
    late = shipped().evaluate("opsigelse", {**case, "ophoersdato": "2021-01-31"}, ruleset="syddanmark-2021")
    assert early.output["sidste_betalingsdag"] == _dt.date(2021, 3, 10) and early.alternatives == []
    assert late.output["sidste_betalingsdag"] == _dt.date(2021, 2, 28)
    assert late.alternatives[0].output["sidste_betalingsdag"] == _dt.date(2021, 3, 10)


def test_2021_special_education_cannot_end_payment_on_30_june():
    """Bilag 13 (000:3128-3130): "Der kan ikke opsiges til ophør af betaling den 30. juni, da ophør ved
    skoleårets afslutning betyder afregning til 31. juli."  A day offer (Bilag 6, dagtilbud: løbende
    måned) noticed 10 June would end 30 June; it is paid to 31 July.  A pupil living at the school
    has July free (000:3132-3135): that reading is the alternative."""
    result = shipped().evaluate("opsigelse", {"paragraf": "FSL-20-2", "opsigelsesdato": "2021-06-10"},
                                ruleset="syddanmark-2021")
    assert result.output["sidste_betalingsdag"] == _dt.date(2021, 7, 31)
    assert [(a.reading, a.output) for a in result.alternatives] == [
        ("elev_bor_paa_skolen", {"sidste_betalingsdag": _dt.date(2021, 6, 30)})]
    other = shipped().evaluate("opsigelse", {"paragraf": "SEL-104", "opsigelsesdato": "2021-06-10"},
                               ruleset="syddanmark-2021")
    assert other.output["sidste_betalingsdag"] == _dt.date(2021, 6, 30) and other.alternatives == []


def test_2025_ties_the_31_july_rule_to_the_365_day_method():
    """Bilag 13 (001:2123-2131): 334 days, July free ("eksempelvis specialskole"); 365 days, no ophør
    on 30 June ("eksempelvis intern skole").  The case does not say which: 30 June is followed, 31 July
    is the alternative."""
    result = shipped().evaluate("opsigelse", {"paragraf": "FSL-20-3", "opsigelsesdato": "2025-06-10"},
                                ruleset="syddanmark-2025")
    assert result.output["sidste_betalingsdag"] == _dt.date(2025, 6, 30)
    assert [(a.reading, a.output) for a in result.alternatives] == [
        ("skoleaar_365_dage", {"sidste_betalingsdag": _dt.date(2025, 7, 31)})]


# --- properties -----------------------------------------------------------------------------

def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "laesninger"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@cache
def without_readings() -> Engine:
    """The shipped Syddanmark rulesets with every ``laesninger`` block removed (and the libraries)."""
    import tempfile
    root = Path(tempfile.mkdtemp(prefix="uden-laesninger-"))
    source = embedded_rulesets()
    for folder in source.iterdir():
        if not (folder / "regelsaet.yaml").exists():
            continue
        target = root / folder.name
        shutil.copytree(folder, target)
        if folder.name in RULESETS:
            for path in target.glob("*.yaml"):
                data = yaml.safe_load(path.read_text("utf-8"))
                path.write_text(yaml.safe_dump(_strip(data), allow_unicode=True, sort_keys=False), "utf-8")
    return Engine.from_path(root)


days = st.dates(min_value=_dt.date(2021, 1, 1), max_value=_dt.date(2026, 12, 31))
paragraphs = st.sampled_from(["SEL-107", "SEL-108", "ABL-105", "SEL-104", "FSL-20-2", "FSL-20-3", "LSV-1-2",
                              "SEL-109", "SEL-101"])
situations = st.sampled_from(catalogue()["opsigelse"].inputs["situation"].spec["vaerdier"])


@st.composite
def cases(draw):
    notice = draw(days)
    case = {"paragraf": draw(paragraphs), "opsigelsesdato": notice.isoformat(), "situation": draw(situations)}
    if draw(st.booleans()):
        case["ophoersdato"] = (notice + _dt.timedelta(days=draw(st.integers(0, 200)))).isoformat()
    if draw(st.booleans()):
        case["ophoersdato"] = _dt.date(notice.year, 6, 30).isoformat() if notice.month <= 6 else case.get(
            "ophoersdato", notice.isoformat())
    case["udskrivningsdato"] = (notice + _dt.timedelta(days=draw(st.integers(0, 60)))).isoformat()
    if draw(st.booleans()):
        case["aftalt_frist"] = draw(st.sampled_from(["10 dage", "3 måneder", "løbende måned"]))
    return case


def _answer(engine, case, ruleset, **kw):
    try:
        return engine.evaluate("opsigelse", case, ruleset=ruleset, **kw)
    except EngineError as exc:
        return exc.kind


@PROPERTY
@given(cases(), st.sampled_from(RULESETS))
def test_declaring_alternatives_never_changes_the_followed_answer(case, ruleset):
    with_readings, plain = _answer(shipped(), case, ruleset), _answer(without_readings(), case, ruleset)
    if isinstance(plain, str):
        assert with_readings == plain
        return
    assert with_readings.output == plain.output
    others = [w for w in with_readings.warnings if w.art != "fortolkning_alternativ"]
    assert [w.tekst for w in others] == [w.tekst for w in plain.warnings]


@PROPERTY
@given(cases(), st.sampled_from(RULESETS))
def test_each_alternative_is_what_choosing_that_reading_answers(case, ruleset):
    result = _answer(shipped(), case, ruleset)
    if isinstance(result, str):
        return
    for alternative in result.alternatives:
        chosen = _answer(shipped(), case, ruleset, fortolkninger={alternative.point: alternative.reading})
        if alternative.error is not None:
            assert chosen == alternative.error["kind"]
            continue
        assert alternative.output, "an alternative is only listed where an output differs"
        assert chosen.output == {**result.output, **alternative.output}


@given(cases(), st.sampled_from(RULESETS))
def test_every_reading_that_changes_the_answer_is_listed(case, ruleset):
    """The converse, and the check on the engine's shortcut: a reading whose value where the case
    reached it equals the followed one is not re-run; choosing it must then change nothing."""
    engine = shipped()
    result = _answer(engine, case, ruleset)
    if isinstance(result, str):
        return
    listed = {(a.point, a.reading) for a in result.alternatives}
    for point in engine.ruleset(ruleset).questions["opsigelse"].points.values():
        for reading in point.alternatives:
            chosen = _answer(engine, case, ruleset, fortolkninger={point.id: reading.id})
            differs = isinstance(chosen, str) or chosen.output != result.output
            assert differs == ((point.id, reading.id) in listed), (point.id, reading.id)


def test_cases_that_reach_no_reading_get_no_alternatives_key():
    result = shipped().evaluate("opsigelse", {"paragraf": "SEL-109", "opsigelsesdato": "2021-06-01",
                                              "udskrivningsdato": "2021-06-12"}, ruleset="syddanmark-2021")
    data = result.to_dict()
    assert "alternativer" not in data and "fortolkninger" not in data


# --- the format ----------------------------------------------------------------------------

READING_QUESTION = f"""\
spoergsmaal: objektiv_finansiering
titel: Fordeling efter befolkning
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: beloeb_at_fordele
    kilde: {SOURCE}:2978 Bilag 10
    formel: udgift * (1 - sats)
    laesninger:
      id: grundlag_punkt
      titel: Fratrækkes satsen?
      fulgt: {{id: fratraek, tekst: Satsen trækkes fra udgiften., kilde: "{SOURCE}:2978 Bilag 10"}}
      alternativer:
        - {{id: hele_udgiften, tekst: Hele udgiften fordeles., kilde: "{SOURCE}:2979 Bilag 10", formel: udgift}}
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(beloeb_at_fordele, befolkning)
resultat:
  fordeling: fordeling
"""

PARAMETER_READING = f"""\
    laesninger:
      id: sats_punkt
      fulgt: {{id: fem_procent, tekst: Fem procent som i teksten., kilde: "{SOURCE}:1879 Bilag 5"}}
      alternativer:
        - {{id: ti_procent, tekst: Ti procent efter en anden læsning., kilde: "{SOURCE}:1880 Bilag 5", vaerdi: 0.10}}
"""

CASE = {"udgift": "1000", "befolkning": {"Vejle": 3, "Kolding": 1}}


def _with_parameter_reading(folder: Path) -> None:
    header = folder / "regelsaet.yaml"
    text = header.read_text("utf-8").replace(f"    kilde: {SOURCE}:1879 Bilag 5\n",
                                             f"    kilde: {SOURCE}:1879 Bilag 5\n" + PARAMETER_READING, 1)
    header.write_text(text, "utf-8")


def test_formula_and_parameter_readings(tmp_path):
    _with_parameter_reading(write_ruleset(tmp_path, {"q.yaml": READING_QUESTION}))
    engine = Engine.from_path(tmp_path)
    result = engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021")
    assert str(result.output["fordeling"]["Vejle"]) == "712.50"
    found = {(a.point, a.reading): a.output["fordeling"] for a in result.alternatives}
    assert {k: str(v["Vejle"]) for k, v in found.items()} == {("grundlag_punkt", "hele_udgiften"): "750.00",
                                                            ("sats_punkt", "ti_procent"): "675.00"}
    chosen = engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021",
                             fortolkninger={"sats_punkt": "ti_procent"})
    assert str(chosen.output["fordeling"]["Vejle"]) == "675.00"
    assert "fortolkning sats_punkt" not in json.dumps(chosen.to_dict())  # parameters add no trace note
    with pytest.raises(InvalidCase) as info:
        engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021", fortolkninger={"ukendt": "x"})
    assert info.value.path == "fortolkninger.ukendt" and "grundlag_punkt" in str(info.value)
    with pytest.raises(InvalidCase):
        engine.evaluate("objektiv_finansiering", CASE, ruleset="test-2021", fortolkninger={"sats_punkt": "x"})
    trace = [note for step in result.trace for note in step.notes]
    assert any("fortolkning grundlag_punkt: læsningen 'fratraek'" in n for n in trace)


def _errors(tmp_path, text):
    write_ruleset(tmp_path, {"q.yaml": text})
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    return [e.message for e in info.value.errors]


def test_an_alternative_must_change_what_its_rule_has(tmp_path):
    messages = _errors(tmp_path, READING_QUESTION.replace("formel: udgift}", "vaerdi: 3}"))
    assert any("ændrer med formel (ikke vaerdi)" in m for m in messages)


def test_reading_ids_are_unique(tmp_path):
    messages = _errors(tmp_path, READING_QUESTION.replace("id: hele_udgiften", "id: fratraek"))
    assert any("læsningen 'fratraek' står flere gange" in m for m in messages)


def test_readings_only_at_a_formula_row_or_parameter(tmp_path):
    text = READING_QUESTION.replace("    formel: udgift * (1 - sats)\n", "    kraev: [udgift]\n")
    assert any("laesninger kan kun stå ved" in m for m in _errors(tmp_path, text))


def test_unknown_key_in_a_reading_is_a_danish_schema_error(tmp_path):
    messages = _errors(tmp_path, READING_QUESTION.replace("titel: Fratrækkes satsen?", "overskrift: x"))
    assert any("ukendt eller forkert placeret nøgle 'overskrift'" in m for m in messages)


# --- compare, CLI, report --------------------------------------------------------------------

def test_compare_puts_readings_side_by_side():
    comparison = shipped().compare("opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2021-01-10"},
                                   rulesets=["syddanmark-2021"], readings=True)
    columns = comparison.rulesets
    assert columns[0] == "syddanmark-2021"
    assert "syddanmark-2021 [botilbud_to_frister=opsigelsesdagen_afgoer]" in columns
    differing = {d["field"]: d["values"] for d in comparison.differences}
    assert differing["sidste_betalingsdag"]["syddanmark-2021 [botilbud_to_frister=opsigelsesdagen_afgoer]"] == \
        "2021-03-10"
    assert "opsigelsesdagen_afgoer" in render_text(comparison)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "rammeaftale", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_cli_evaluate_and_compare_with_readings(tmp_path):
    case = tmp_path / "sag.json"
    case.write_text(json.dumps({"paragraf": "SEL-108", "opsigelsesdato": "2021-01-10"}), "utf-8")
    done = _cli("evaluate", "opsigelse", "--case", str(case), "--ruleset", "syddanmark-2021", "--json",
                "--fortolkning", "botilbud_to_frister=opsigelsesdagen_afgoer")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["output"]["sidste_betalingsdag"] == "2021-03-10"
    assert data["alternativer"][0]["fortolkning"] == "ophoersdatoen_afgoer" and data["alternativer"][0]["fulgt"]
    text = _cli("evaluate", "opsigelse", "--case", str(case), "--ruleset", "syddanmark-2021").stdout
    assert "Andre læsninger af teksten giver et andet svar" in text and "10.03.2021" in text
    bad = _cli("evaluate", "opsigelse", "--case", str(case), "--ruleset", "syddanmark-2021",
               "--fortolkning", "botilbud_to_frister")
    assert bad.returncode != 0 and "PUNKT=LÆSNING" in bad.stderr
    compared = _cli("compare", "opsigelse", "--case", str(case), "--rulesets", "syddanmark-2021,syddanmark-2025",
                    "--fortolkninger", "--json")
    assert compared.returncode == 0, compared.stderr
    columns = [r["column"] for r in json.loads(compared.stdout)["results"]]
    assert "syddanmark-2025 [specialundervisning_juli=skoleaar_365_dage]" in columns


def test_report_lists_open_readings():
    engine = shipped()
    html = render_ruleset(engine, engine.registry.get("syddanmark-2021"), Sources(None))
    assert "Åbne læsninger (4)" in html
    for point in ("botilbud_to_frister", "saerforanstaltning_aftalt_frist", "specialundervisning_juli",
                  "fri_aendring_indberetningsfrist"):
        assert point in html
