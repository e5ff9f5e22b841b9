"""batch: many cases, one answer or error line per row, in order, streaming."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.tools import batch

from .helpers import QUESTION, SOURCE, write_ruleset

ROOT = Path(__file__).resolve().parents[1]

AFREGNING = f"""\
spoergsmaal: afregning
titel: Betaling 30 dage efter fakturadato (testregel)
kilde: {SOURCE}:3118 Bilag 13
trin:
  - id: forfald
    kilde: {SOURCE}:3118 Bilag 13
    formel: plus_dage(fakturadato, 30)
resultat:
  forfaldsdato: forfald
  morarenter: "'efter renteloven'"
"""

GOOD = {"id": "r1", "ruleset": "t-2021", "case": {"udgift": "100", "befolkning": {"Vejle": 1, "Kolding": 1}}}


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    base = tmp_path / "rs"
    write_ruleset(base, {"objektiv_finansiering.yaml": QUESTION, "afregning.yaml": AFREGNING}, id="t-2021")
    return base


def _items(lines: list[str]) -> list[batch.Item]:
    return [(i + 1, "json", line) for i, line in enumerate(lines)]


def test_rows_answers_and_errors_in_order(root: Path) -> None:
    lines = [json.dumps(GOOD), "{not json", json.dumps({"id": "r3", "ruleset": "nope", "case": GOOD["case"]}),
             json.dumps({"id": "r4", "region": "test", "dato": "2021-06-01", "case": GOOD["case"]}),
             json.dumps({"id": "r5", "ruleset": "t-2021", "case": {"udgift": "-1", "befolkning": {}}}), "[1]"]
    out = list(batch.run("objektiv_finansiering", _items(lines), engine=Engine.from_path(root)))
    assert [o.get("id") for o in out] == ["r1", None, "r3", "r4", "r5", None]
    assert out[0]["output"]["fordeling"] == {"Vejle": "50.00", "Kolding": "50.00"} and out[0]["ruleset"] == "t-2021"
    assert "trace" not in out[0] and out[0]["status"] == "vedtaget"
    assert out[1]["error"]["kind"] == "invalid_case" and out[1]["error"]["line"] == 2
    assert out[2]["error"]["kind"] == "no_ruleset"
    assert out[3]["ruleset"] == "t-2021"
    assert out[4]["error"]["kind"] == "invalid_case"
    assert out[5]["error"]["kind"] == "invalid_case"


def test_pool_keeps_order_and_reads_lazily(root: Path) -> None:
    consumed = itertools.count()

    def endless():
        for n in itertools.count(1):
            next(consumed)
            yield n, "json", json.dumps(GOOD | {"id": n})

    out = batch.run("objektiv_finansiering", endless(), paths=[str(root)], workers=2, chunk=10)
    first = list(itertools.islice(out, 95))
    out.close()
    assert [o["id"] for o in first] == list(range(1, 96))
    assert next(consumed) <= 95 + 2 * batch.WINDOW * 10 + 10      # bounded read-ahead, not the whole input


def test_csv_input_needs_flat_inputs() -> None:
    with pytest.raises(Exception, match="indlejrede"):
        batch.flat_inputs("objektiv_finansiering")
    batch.flat_inputs("afregning")


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rammeaftale", "--rulesets", str(root), "batch", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_jsonl_with_bad_rows(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [json.dumps(GOOD | {"id": i}) for i in range(500)]
    rows.insert(250, "}}} not json")
    src.write_text("\n".join(rows) + "\n", "utf-8")
    done = _cli(root, "objektiv_finansiering", "--input", str(src), "--output", str(dst), "--workers", "2")
    assert done.returncode == 1                          # one row failed
    assert "501 rækker, 500 besvaret, 1 fejl" in done.stderr and "\r[" not in done.stderr   # no bar off a tty
    out = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    assert len(out) == 501 and out[250]["error"]["kind"] == "invalid_case"
    assert [o["id"] for o in out if "error" not in o] == list(range(500))


def test_cli_csv_in_and_out(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("\ufeffid,ruleset,fakturadato,skoleaar\na,t-2021,2021-01-31,\nb,t-2021,ikke-en-dato,\n", "utf-8")
    done = _cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert done.returncode == 1
    rows = list(csv.DictReader(dst.open(encoding="utf-8")))
    assert rows[0]["id"] == "a" and rows[0]["forfaldsdato"] == "2021-03-02" and rows[0]["error_kind"] == ""
    assert rows[1]["id"] == "b" and rows[1]["error_kind"] == "invalid_case"


def test_cli_all_good_exits_zero(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps(GOOD) + "\n\n", "utf-8")
    assert _cli(root, "objektiv_finansiering", "--input", str(src), "--output", str(dst)).returncode == 0
