"""diff: what changed between two rulesets, rule by rule, with both citations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rammeaftale import Engine
from rammeaftale.tools.diff import diff

from .helpers import QUESTION, SOURCE, write_ruleset

ROOT = Path(__file__).resolve().parents[1]

CHANGED = QUESTION.replace("formel: fordel(udgift, befolkning)", "formel: fordel(udgift * 2, befolkning)") \
    .replace(f"kilde: {SOURCE}:2978 Bilag 10\n    formel", f"kilde: {SOURCE}:2990 Bilag 10\n    formel")


def _engine(tmp_path: Path) -> Engine:
    write_ruleset(tmp_path, id="t-2021", fra="2021-01-01", til="2022-12-31")
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": CHANGED}, id="t-2023", fra="2023-01-01",
                  til="2024-12-31", extra_header="  ny_sats:\n    vaerdi: 7\n    kilde: " + SOURCE + ":10 Bilag 1\n")
    write_ruleset(tmp_path, {}, id="t-2025", fra="2025-01-01", til="2026-12-31")
    return Engine.from_path(tmp_path)


def test_same_ruleset_has_no_changes(tmp_path: Path) -> None:
    assert diff(_engine(tmp_path), "t-2021", "t-2021") == []


def test_changed_formula_and_added_parameter(tmp_path: Path) -> None:
    changes = {c["rule"]: c for c in diff(_engine(tmp_path), "t-2021", "t-2023")}
    formula = changes["objektiv_finansiering/fordeling"]
    assert formula["change"] == "aendret" and formula["fields"] == ["formel"]
    assert formula["old"]["formel"] == "fordel(udgift, befolkning)"
    assert formula["new"]["formel"] == "fordel(udgift * 2, befolkning)"
    assert formula["kilde"] == {"old": f"{SOURCE}:2978 Bilag 10", "new": f"{SOURCE}:2990 Bilag 10"}
    assert changes["parametre/ny_sats"]["change"] == "tilfoejet"
    assert changes["parametre/ny_sats"]["new"] == {"vaerdi": 7}
    assert "parametre/sats" not in changes        # same value: not a change


def test_question_answered_then_not_regulated(tmp_path: Path) -> None:
    changes = {c["rule"]: c for c in diff(_engine(tmp_path), "t-2021", "t-2025")}
    question = changes["objektiv_finansiering"]
    assert question["change"] == "aendret" and question["kind"] == "spoergsmaal → ikke_reguleret"
    assert changes["objektiv_finansiering/fordeling"]["change"] == "fjernet"


def test_cli(tmp_path: Path) -> None:
    _engine(tmp_path)
    run = lambda *a: subprocess.run([sys.executable, "-m", "rammeaftale", "--rulesets", str(tmp_path), "diff", *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT, timeout=120)
    done = run("t-2021", "t-2023", "--json")
    assert done.returncode == 0, done.stderr
    assert any(c["rule"] == "objektiv_finansiering/fordeling" for c in json.loads(done.stdout))
    text = run("t-2021", "t-2023").stdout
    assert "~ objektiv_finansiering/fordeling" in text and "formel: fordel(udgift, befolkning)" in text
    assert run("t-2021", "findes-ikke").returncode == 1
