"""compare: one case under several rulesets, side by side (issue 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.tools.compare import render_csv, render_text

from .helpers import SOURCE, write_ruleset

ROOT = Path(__file__).resolve().parents[1]

DOUBLE = f"""\
spoergsmaal: objektiv_finansiering
titel: Dobbelt udgift (testregel)
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(udgift * 2, befolkning)
resultat:
  fordeling: fordeling
"""

CASE = {"udgift": "100", "befolkning": {"Vejle": 3, "Kolding": 1}}


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    write_ruleset(tmp_path, id="a-2021", region="a")
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": DOUBLE}, id="b-2021", region="b")
    write_ruleset(tmp_path, {}, id="c-2021", region="c")
    return tmp_path


def test_compare_keeps_answers_errors_and_differences(root: Path) -> None:
    comparison = Engine.from_path(root).compare("objektiv_finansiering", CASE,
                                                rulesets=["a-2021", "b-2021", "c-2021", "ukendt"])
    data = comparison.to_dict()
    assert [r["ruleset"] for r in data["results"]] == ["a-2021", "b-2021", "c-2021", "ukendt"]
    a, b, c, unknown = data["results"]
    assert a["output"]["fordeling"] == {"Vejle": "75.00", "Kolding": "25.00"}
    assert b["output"]["fordeling"] == {"Vejle": "150.00", "Kolding": "50.00"}
    assert c["error"]["kind"] == "not_regulated"
    assert unknown["error"]["kind"] == "no_ruleset"
    assert data["differences"][0]["field"] == "fordeling"
    assert data["differences"][0]["values"]["c-2021"] == {"error": "not_regulated"}


def test_identical_answers_have_no_differences(root: Path) -> None:
    comparison = Engine.from_path(root).compare("objektiv_finansiering", CASE, rulesets=["a-2021", "a-2021"])
    assert comparison.differences == []


def test_bad_case_is_one_error_not_one_per_ruleset(root: Path) -> None:
    from rammeaftale.errors import InvalidCase
    with pytest.raises(InvalidCase):
        Engine.from_path(root).compare("objektiv_finansiering", {"udgift": "x", "befolkning": {}})


def test_views_mark_differences_and_not_regulated(root: Path) -> None:
    comparison = Engine.from_path(root).compare("objektiv_finansiering", CASE, rulesets=["a-2021", "b-2021", "c-2021"])
    text = render_text(comparison)
    assert "ikke reguleret" in text and "* " in text and "a-2021" in text
    lines = render_csv(comparison).splitlines()
    assert lines[0] == "felt,a-2021,b-2021,c-2021,forskel"
    assert lines[-1].startswith("fordeling,") and lines[-1].endswith(",ja")


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rammeaftale", "--rulesets", str(root), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_json_csv_and_table(root: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASE), "utf-8")
    done = _cli(root, "compare", "objektiv_finansiering", "--case", str(case), "--rulesets", "a-2021,c-2021", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["question"] == "objektiv_finansiering" and data["results"][1]["error"]["kind"] == "not_regulated"
    assert _cli(root, "compare", "objektiv_finansiering", "--case", str(case), "--rulesets", "a-2021,b-2021",
                "--csv").stdout.startswith("felt,a-2021,b-2021")
    table = _cli(root, "compare", "objektiv_finansiering", "--case", str(case))
    assert table.returncode == 0 and "b-2021" in table.stdout


def test_cli_all_errors_exit_non_zero(root: Path, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASE), "utf-8")
    done = _cli(root, "compare", "objektiv_finansiering", "--case", str(case), "--rulesets", "c-2021")
    assert done.returncode == 1
