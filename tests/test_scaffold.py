"""ny-periode: copy a ruleset as an udkast whose rules must be re-verified."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.errors import InvalidCase
from rammeaftale.tools.scaffold import new_period, unverified

from .helpers import SOURCE, write_ruleset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    folder = write_ruleset(src, id="t-2021")
    (folder / "eksempler").mkdir()
    # A valid examples file (validate reads eksempler/ now; an empty list is refused as 'test' refuses it).
    (folder / "eksempler" / "x.yaml").write_text(
        f"eksempler:\n  - navn: lige\n    spoergsmaal: objektiv_finansiering\n    kilde: {SOURCE}:2978 Bilag 10\n"
        "    sag: {udgift: 100, befolkning: {A: 1, B: 1}}\n    forventet: {fordeling: {A: 50, B: 50}}\n", "utf-8")
    return src


def test_scaffold_loads_as_udkast_with_every_rule_unverified(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    made = new_period(Engine.from_path(root), "t-2021", "t-2023", dt.date(2023, 1, 1), dt.date(2024, 12, 31), out)
    assert made.folder == out / "t-2023" and not (made.folder / "eksempler").exists()
    engine = Engine.from_path(root, out)                       # both periods together: no overlap
    new = engine.ruleset("t-2023")
    assert new.status == "udkast" and new.valid_from == dt.date(2023, 1, 1) and new.data["afloeser"] == "t-2021"
    warnings = unverified(new)
    assert made.to_verify == len(warnings) == 3                 # parameter, question, step
    assert any("objektiv_finansiering/fordeling" in w for w in warnings)
    assert unverified(engine.ruleset("t-2021")) == []


def test_updating_a_kilde_verifies_the_rule(root: Path, tmp_path: Path) -> None:
    made = new_period(Engine.from_path(root), "t-2021", "t-2023", dt.date(2023, 1, 1), dt.date(2024, 12, 31),
                      tmp_path / "out")
    path = made.folder / "objektiv_finansiering.yaml"
    path.write_text(path.read_text("utf-8").replace(f"{SOURCE}:2978 Bilag 10\n    formel",
                                                    f"{SOURCE}:3000 Bilag 10\n    formel"), "utf-8")
    warnings = unverified(Engine.from_path(made.folder).ruleset("t-2023"))
    assert len(warnings) == 2 and not any("fordeling" in w for w in warnings)


def test_overlapping_or_existing_period_is_refused(root: Path, tmp_path: Path) -> None:
    engine = Engine.from_path(root)
    with pytest.raises(InvalidCase, match="overlapper"):
        new_period(engine, "t-2021", "t-2022", dt.date(2022, 1, 1), dt.date(2023, 12, 31), tmp_path / "o")
    with pytest.raises(InvalidCase):
        new_period(engine, "t-2021", "t-2021", dt.date(2025, 1, 1), dt.date(2026, 12, 31), tmp_path / "o")
    with pytest.raises(InvalidCase):
        new_period(engine, "t-2021", "Ugyldigt ID", dt.date(2025, 1, 1), dt.date(2026, 12, 31), tmp_path / "o")


def test_cli_scaffold_then_validate_warns(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = lambda *a: subprocess.run([sys.executable, "-m", "rammeaftale", *a], capture_output=True,  # noqa: E731
                                    text=True, cwd=ROOT, timeout=120)
    done = run("--rulesets", str(root), "ny-periode", "t-2021", "t-2023", "--fra", "2023-01-01",
               "--til", "2024-12-31", "--mappe", str(out))
    assert done.returncode == 0, done.stderr
    assert "3 regler skal genverificeres" in done.stdout
    checked = run("validate", str(root), str(out))
    assert checked.returncode == 0, checked.stderr
    # 3 unverified rules, and the new period's question without an example (the old fixture's empty,
    # invalid examples file hid that warning: validate swallowed the file's error).
    assert "advarsel: t-2023: reglen parametre/sats" in checked.stderr and "4 advarsler" in checked.stdout
    assert "intet eksempel i t-2023/eksempler/" in checked.stderr
    as_json = json.loads(run("validate", "--json", str(root), str(out)).stdout)
    assert as_json["ok"] and len(as_json["warnings"]) == 4
