"""The secretariat's mistakes: each one gives a located Danish message with a hint, never a traceback.

:data:`MISTAKES` is the corpus — one entry per mistake people really make
when they edit a ruleset (found in the issue that asked for this file), with
the edit that makes it, where the message must point and what it must say.
Each is run through ``rammeaftale validate`` (in-process, so a traceback
fails the test), through ``rammeaftale list`` and through ``Engine.from_path``.
Below it, the mistakes of the other commands: paths, ids, examples, case files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.cli import main
from rammeaftale.errors import RulesetErrors
from rammeaftale.run.api import embedded_rulesets

from .helpers import QUESTION, SOURCE, write_ruleset


@dataclass(frozen=True)
class Mistake:
    name: str
    file: str            # "regelsaet.yaml" or "q.yaml" (the helper's question file)
    old: str
    new: str
    line: int            # where the message must point, in that file
    says: str            # what the message must contain (the hint)


MISTAKES = [
    # dates the Danish way
    Mistake("dato_med_punktummer", "regelsaet.yaml", "gyldig_fra: 2021-01-01", "gyldig_fra: 01.01.2021", 4,
            "skriv datoen som 2021-01-01"),
    Mistake("dato_med_bindestreger", "regelsaet.yaml", "gyldig_fra: 2021-01-01", "gyldig_fra: 1-1-2021", 4,
            "skriv datoen som 2021-01-01"),
    Mistake("dato_med_maanedsnavn", "regelsaet.yaml", "gyldig_fra: 2021-01-01", "gyldig_fra: 1. januar 2021", 4,
            "skriv datoen som 2021-01-01"),
    Mistake("dato_uden_nuller", "regelsaet.yaml", "gyldig_til: 2022-12-31", "gyldig_til: 2022-12-1", 5,
            "skriv datoen som 2022-12-01"),
    Mistake("dato_findes_ikke", "regelsaet.yaml", "gyldig_til: 2022-12-31", "gyldig_til: 2022-02-30", 5,
            "ikke en dato, der findes i kalenderen"),
    Mistake("dato_i_anfoerselstegn_findes_ikke", "regelsaet.yaml", "gyldig_til: 2022-12-31",
            'gyldig_til: "2022-02-30"', 5, "ikke en dato, der findes i kalenderen"),
    # numbers the Danish way
    Mistake("decimalkomma", "regelsaet.yaml", "vaerdi: 0.05", "vaerdi: 0,05", 14,
            "brug punktum som decimaltegn: 0.05"),
    Mistake("procenttegn", "regelsaet.yaml", "vaerdi: 0.05", "vaerdi: 5 %", 14, "5 % = 0.05"),
    Mistake("procent_med_decimalkomma", "regelsaet.yaml", "vaerdi: 0.05", "vaerdi: 4,4 %", 14, "4,4 % = 0.044"),
    Mistake("tusindtalspunktum", "regelsaet.yaml", "vaerdi: 0.05", "vaerdi: 1.320.000", 14,
            "skriv tallet uden tusindtalspunktum: 1320000"),
    Mistake("decimalkomma_i_formel", "q.yaml", "formel: fordel(udgift, befolkning)",
            "formel: fordel(0,5 * udgift, befolkning)", 7, "brug punktum som decimaltegn"),
    Mistake("decimalkomma_som_hel_formel", "q.yaml", "formel: fordel(udgift, befolkning)",
            "formel: 0,1 * udgift", 7, "brug punktum som decimaltegn (0.1)"),
    Mistake("procent_i_formel", "q.yaml", "formel: fordel(udgift, befolkning)",
            "formel: fordel(udgift * 5 %, befolkning)", 7, "skriv procenter som decimaltal med punktum"),
    # YAML
    Mistake("kolon_i_titel", "regelsaet.yaml", "navn: Testaftale", "navn: Testaftale: 2021-2022", 3,
            "sæt teksten i anførselstegn, den indeholder et kolon"),
    Mistake("kolon_i_spoergsmaalets_titel", "q.yaml", "titel: Fordeling efter befolkning",
            "titel: Fordeling: efter befolkning", 2, "sæt teksten i anførselstegn, den indeholder et kolon"),
    Mistake("tabulator", "regelsaet.yaml", "    vaerdi: 0.05", "\tvaerdi: 0.05", 14, "brug mellemrum, ikke tabulator"),
    Mistake("indrykning", "regelsaet.yaml", "    kilde: " + SOURCE + ":1879", "      kilde: " + SOURCE + ":1879", 15,
            "indrykket"),
    Mistake("anfoerselstegn_lukkes_ikke", "q.yaml", "titel: Fordeling efter befolkning",
            'titel: "Fordeling efter befolkning', 2, "lukkes aldrig"),
    Mistake("apostrof_i_enkelte_anfoerselstegn", "q.yaml", "titel: Fordeling efter befolkning",
            "titel: 'Kommunens' fordeling'", 2, "skriv den to gange"),
    # formulas
    Mistake("parentes_lukkes_ikke", "q.yaml", "formel: fordel(udgift, befolkning)", "formel: fordel(udgift,",
            7, "lukkes aldrig"),
    Mistake("tankestreg_som_minus", "q.yaml", "formel: fordel(udgift, befolkning)",
            "formel: fordel(udgift – 1, befolkning)", 7, "skriv -"),
    Mistake("lighedstegn", "q.yaml", "formel: fordel(udgift, befolkning)", "formel: udgift = 1", 7,
            "brug == for at sammenligne"),
    # citations
    Mistake("kilde_efter_filens_slutning", "regelsaet.yaml", f"kilde: {SOURCE}:1879 Bilag 5",
            f"kilde: {SOURCE}:999999 Bilag 5", 15, "peger ud over filens sidste linje"),
    Mistake("kildefil_findes_ikke", "regelsaet.yaml", "    titel: Testkilde\n",
            "    titel: Testkilde\n  ny:\n    fil: findes_ikke.txt\n    titel: En kilde, der ikke er der\n", 13,
            "kildefilen 'findes_ikke.txt' findes ikke i"),
    Mistake("kilde_uden_linje", "regelsaet.yaml", f"kilde: {SOURCE}:1879 Bilag 5", "kilde: Bilag 5", 15,
            "skal have formen KORTNAVN:LINJE"),
    Mistake("ukendt_kortnavn", "regelsaet.yaml", f"kilde: {SOURCE}:1879 Bilag 5", "kilde: ra2025:1879 Bilag 5", 15,
            "kilden 'ra2025' står ikke under kilder i regelsaet.yaml (kendte kortnavne: ra2021)"),
    Mistake("kilde_med_filnavn_uden_kortnavn", "regelsaet.yaml", f"kilde: {SOURCE}:1879 Bilag 5",
            "kilde: 000_39f1ac2052c65da9.txt:1879 Bilag 5", 15,
            "kildefilen '000_39f1ac2052c65da9.txt' står ikke under kilder i regelsaet.yaml; citér med kortnavnet"),
    # the format: one grammar per key
    Mistake("naar_med_ukendt_navn", "q.yaml", "    formel: fordel(udgift, befolkning)",
            "    naar: {udgfit: 0}\n    formel: fordel(udgift, befolkning)", 7, "ukendt navn 'udgfit' under naar"),
    Mistake("resultat_navn_lig_navn", "q.yaml", "  - fordeling\n", "  - fordeling: fordeling\n", 9,
            "siger det samme som blot 'fordeling'; skriv '- fordeling'"),
]

NEEDS_SOURCES = {"kilde_efter_filens_slutning", "kildefil_findes_ikke"}   # checked by validate, not at load


def _make(tmp_path: Path, mistake: Mistake) -> Path:
    folder = write_ruleset(tmp_path, {"q.yaml": QUESTION})
    path = folder / mistake.file
    text = path.read_text("utf-8")
    assert mistake.old in text, mistake.name
    path.write_text(text.replace(mistake.old, mistake.new, 1), "utf-8")
    return folder


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_validate_locates_the_mistake_in_danish_with_a_hint(tmp_path, capsys, mistake):
    _make(tmp_path, mistake)
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    where = f"test-2021/{mistake.file}:{mistake.line}: "
    lines = [line for line in err.splitlines() if line.startswith(where)]
    assert lines, f"ingen fejl ved {where}:\n{err}"
    assert any(mistake.says in line for line in lines), err
    assert "Traceback" not in err


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m.name not in NEEDS_SOURCES],
                         ids=[m.name for m in MISTAKES if m.name not in NEEDS_SOURCES])
def test_loading_gives_the_same_located_error(tmp_path, capsys, mistake):
    """``Engine.from_path`` (and so ``Engine.default()``) and ``list`` never crash on the corpus."""
    _make(tmp_path, mistake)
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert any(e.location == f"test-2021/{mistake.file}:{mistake.line}" and mistake.says in e.message
               for e in info.value.errors), str(info.value)
    assert main(["--rulesets", str(tmp_path), "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Fejl i regelsæt") and mistake.says in err


def test_the_corpus_has_a_mistake_of_each_kind_from_the_issue():
    assert len(MISTAKES) >= 20


# --- paths and ids ---------------------------------------------------------------------------

def test_validate_a_path_that_does_not_exist_is_an_error(capsys):
    assert main(["validate", "/findes/ikke"]) == 1
    assert "stien /findes/ikke findes ikke" in capsys.readouterr().err


def test_validate_a_folder_without_a_ruleset_is_an_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 1
    assert "der er intet regelsæt i mappen" in capsys.readouterr().err


def test_test_with_an_unknown_ruleset_is_an_error(capsys):
    assert main(["test", "--ruleset", "syddanmark-2099"]) == 1
    captured = capsys.readouterr()
    assert "ukendt regelsæt 'syddanmark-2099'" in captured.err and "0 passed" not in captured.out


def test_a_folder_validated_alone_is_checked_against_its_neighbours(tmp_path, capsys):
    write_ruleset(tmp_path, {"q.yaml": QUESTION}, id="test-2021")
    alone = write_ruleset(tmp_path, {"q.yaml": QUESTION}, id="test-2022", fra="2022-01-01", til="2023-12-31")
    assert main(["validate", str(alone)]) == 1
    err = capsys.readouterr().err
    assert "test-2022/regelsaet.yaml:4: perioden 2022-01-01–2023-12-31 overlapper test-2021" in err
    assert main(["validate", str(tmp_path)]) == 1          # the parent folder says the same
    assert "test-2022/regelsaet.yaml:4: perioderne for test-2021 og test-2022" in capsys.readouterr().err


def test_a_folder_validated_alone_is_checked_against_the_embedded_rulesets(tmp_path, capsys):
    alone = write_ruleset(tmp_path, {"q.yaml": QUESTION}, id="syddanmark-2026", region="syddanmark",
                          fra="2026-01-01", til="2027-12-31")
    assert main(["validate", str(alone)]) == 1
    assert "overlapper syddanmark-2025" in capsys.readouterr().err


# --- examples ----------------------------------------------------------------------------------

def test_an_answered_question_without_an_example_fails_test_as_it_fails_ci(tmp_path, capsys):
    write_ruleset(tmp_path, {"q.yaml": QUESTION})
    assert main(["--rulesets", str(tmp_path), "test"]) == 1
    out = capsys.readouterr().out
    assert "FEJL test-2021::objektiv_finansiering" in out and "intet eksempel" in out
    assert out.rstrip().endswith("0 passed, 1 failed")
    assert main(["validate", str(tmp_path)]) == 0          # validate warns, test fails
    assert "har intet eksempel" in capsys.readouterr().err


# --- files as editors save them --------------------------------------------------------------------

def test_a_ruleset_saved_with_a_bom_is_read(tmp_path, capsys):
    folder = write_ruleset(tmp_path, {"q.yaml": QUESTION})
    for path in folder.glob("*.yaml"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert main(["validate", str(tmp_path)]) == 0, capsys.readouterr().err


def test_a_ruleset_saved_as_windows_1252_is_located(tmp_path, capsys):
    folder = write_ruleset(tmp_path, {"q.yaml": QUESTION.replace("befolkning\n", "befolkning i år\n", 1)})
    path = folder / "q.yaml"
    path.write_bytes(path.read_text("utf-8").encode("cp1252"))
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "test-2021/q.yaml:2: filen er ikke UTF-8: er den gemt som Windows-1252/ANSI? Gem den som UTF-8" in err


CASE = {"paragraf": "SEL § 108", "opsigelsesdato": "2021-01-14", "ophoersdato": "2021-01-14"}


def test_a_case_saved_with_a_bom_is_read(tmp_path, capsys):
    path = tmp_path / "sag.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(CASE, ensure_ascii=False).encode("utf-8"))
    assert main(["evaluate", "opsigelse", "--case", str(path), "--ruleset", "syddanmark-2021"]) == 0
    assert "sidste_betalingsdag" in capsys.readouterr().out.replace("Sidste betalingsdag", "sidste_betalingsdag")


def test_a_case_saved_as_windows_1252_gets_a_danish_message(tmp_path, capsys):
    path = tmp_path / "sag.json"
    path.write_bytes(json.dumps(CASE, ensure_ascii=False).encode("cp1252"))
    assert main(["evaluate", "opsigelse", "--case", str(path), "--ruleset", "syddanmark-2021"]) == 1
    assert "Windows-1252/ANSI? Gem den som UTF-8" in capsys.readouterr().err


def test_batch_reads_semicolon_csv_with_decimal_commas(tmp_path, capsys):
    rows = ("id;ruleset;paragraf;opsigelsesdato;ophoersdato\n"
            "a;syddanmark-2021;SEL § 108;2021-01-14;2021-01-14\n")
    (tmp_path / "sager.csv").write_text(rows, "utf-8-sig")
    assert main(["batch", "opsigelse", "--input", str(tmp_path / "sager.csv"), "--output",
                 str(tmp_path / "svar.csv"), "--workers", "1"]) == 0
    assert "2021-03-14" in (tmp_path / "svar.csv").read_text("utf-8")


def test_a_quoted_decimal_comma_in_a_comma_csv_is_read_where_unambiguous():
    from rammeaftale.errors import InvalidCase
    from rammeaftale.tools.batch import quoted_decimal_comma
    assert quoted_decimal_comma("0,10", "takst") == "0.10"
    assert quoted_decimal_comma("1.234,50", "takst") == "1234.50"
    with pytest.raises(InvalidCase):
        quoted_decimal_comma("1,234", "takst")


def test_the_shipped_rulesets_stay_clean(capsys):
    assert main(["validate", str(embedded_rulesets())]) == 0, capsys.readouterr().err


def test_a_rulesets_folder_that_does_not_exist_is_an_error(capsys):
    assert main(["--rulesets", "/findes/ikke", "test"]) == 1
    captured = capsys.readouterr()
    assert "stien /findes/ikke findes ikke" in captured.err and "0 passed" not in captured.out
