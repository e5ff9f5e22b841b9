"""batch: many cases, one answer or error line per row, in order, streaming."""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from decimal import Decimal

from rammeaftale import Engine
from rammeaftale.errors import InvalidCase
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


# --- B1: one line per row, with its id, whatever the row holds ---------------------------------

def _run_cli(root: Path | None, *args: str, stdin: bytes | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    prefix = ["--rulesets", str(root)] if root else []
    return subprocess.run([sys.executable, "-m", "rammeaftale", *prefix, "batch", *args], capture_output=True,
                          cwd=ROOT, timeout=300, input=stdin, env={**os.environ, **(env or {})})


def test_every_row_gets_one_line_with_its_id_of_any_json_type(root: Path, tmp_path: Path) -> None:
    case = json.dumps(GOOD["case"])
    rows = [
        '{"id": "tekst", "ruleset": "t-2021", "case": %s}' % case,
        '{"id": 1.5, "ruleset": "t-2021", "case": %s}' % case,
        '{"id": 7, "ruleset": "t-2021", "case": %s}' % case,
        '{"id": null, "ruleset": "t-2021", "case": %s}' % case,
        '{"id": {"sag": [1, "a"]}, "ruleset": "t-2021", "case": %s}' % case,
        '{"id": 12345678901234567890.123456789, "ruleset": "t-2021", "case": %s}' % case,
        '{"id": "nan", "ruleset": "t-2021", "case": {"udgift": NaN, "befolkning": {"A": 1}}}',
        '{"id": "inf", "ruleset": "t-2021", "case": {"udgift": Infinity, "befolkning": {"A": 1}}}',
        '{"id": "dobbelt", "ruleset": "t-2021", "case": {"udgift": 1, "befolkning": {"A": 1, "A": 99}}}',
        '{"id": "dobbelt-id", "id": "igen", "ruleset": "t-2021", "case": %s}' % case,
    ]
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(("\n".join(rows) + "\n").encode() + b'{"id": "latin1", "x": "\xe6"}\n')
    done = _run_cli(root, "objektiv_finansiering", "--input", str(src), "--output", str(dst), "--workers", "2")
    assert b"Traceback" not in done.stderr and done.returncode == 1
    out = [json.loads(line, parse_float=Decimal) for line in dst.read_text("utf-8").splitlines()]
    assert len(out) == len(rows) + 1
    assert [o["id"] for o in out[:6]] == ["tekst", Decimal("1.5"), 7, None, {"sag": [1, "a"]},
                                         Decimal("12345678901234567890.123456789")]
    assert all("output" in o for o in out[:6])
    assert all(o["error"]["kind"] == "invalid_case" for o in out[6:])
    assert [o["error"]["line"] for o in out[6:]] == [7, 8, 9, 10, 11]
    assert "11 rækker, 6 besvaret, 5 fejl" in done.stderr.decode()


def test_an_oversize_jsonl_row_is_one_error_and_the_run_goes_on(root: Path, tmp_path: Path) -> None:
    from rammeaftale.load.casefile import MAX_CASE_BYTES
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    big = json.dumps(GOOD | {"id": "stor", "pad": "x" * (2 * MAX_CASE_BYTES)})
    src.write_text("\n".join([json.dumps(GOOD | {"id": 1}), big, json.dumps(GOOD | {"id": 3})]) + "\n", "utf-8")
    done = _run_cli(root, "objektiv_finansiering", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert b"Traceback" not in done.stderr
    out = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, None, 3]
    assert "for stor" in out[1]["error"]["message"] and out[1]["error"]["line"] == 2


def test_a_refused_jsonl_row_keeps_its_id_as_written(root: Path) -> None:
    """Red team: rows refused before evaluation (no ruleset/region, an unknown key, NaN, not UTF-8)
    came out with ``"id": null``; the id is read from the raw row whenever it can be."""
    case = json.dumps(GOOD["case"])
    lines = ['{"id": "missing-ruleset", "case": %s}' % case,
             '{"id": "unknown-key", "ruleset": "t-2021", "case": %s, "extra": 1}' % case,
             '{"id": 17, "ruleset": "t-2021", "case": {"udgift": NaN, "befolkning": {"A": 1}}}',
             '{"id": {"sag": [1.50, "a"]}, "ruleset": "t-2021", "case": {"befolkning": {"A": 1, "A": 2}}}',
             '{"id": "to", "id": "gange", "ruleset": "t-2021", "case": %s}' % case,
             '{"id": NaN, "ruleset": "t-2021", "case": %s}' % case,
             '[1, 2]', '{"id": "afkortet", "ruleset": ']
    items = _items(lines) + [(9, "error", ("linje 9 er ikke UTF-8", "latin1"))]
    out = list(batch.run("objektiv_finansiering", items, engine=Engine.from_path(root)))
    assert all(o["error"]["kind"] == "invalid_case" for o in out)
    assert [o["id"] for o in out] == ["missing-ruleset", "unknown-key", 17, {"sag": [Decimal("1.50"), "a"]},
                                      None, None, None, None, "latin1"]


def test_a_row_whose_ruleset_and_region_disagree_is_its_error(root: Path) -> None:
    """Red team: a row {"ruleset": "sjaelland-2021", "region": "syddanmark", …} was answered from the ruleset."""
    rows = [json.dumps(GOOD | {"id": "x", "region": "syddanmark", "dato": "2099-01-01"}),
            json.dumps(GOOD | {"id": "y", "region": "Test", "dato": "2021-06-01"})]
    out = list(batch.run("objektiv_finansiering", _items(rows), engine=Engine.from_path(root)))
    assert out[0]["id"] == "x" and out[0]["error"]["kind"] == "invalid_case" and out[0]["error"]["path"] == "region"
    assert out[1]["id"] == "y" and out[1]["ruleset"] == "t-2021"


def test_a_jsonl_row_that_is_not_utf8_keeps_its_id(root: Path) -> None:
    raw = b'{"id": "latin1", "ruleset": "t-2021", "x": "\xe6"}\n{"id": "\xe6"}\n'
    import io
    items = list(batch.read_items(io.BytesIO(raw), False, "objektiv_finansiering"))
    out = list(batch.run("objektiv_finansiering", items, engine=Engine.from_path(root)))
    assert [o["id"] for o in out] == ["latin1", None]
    assert "UTF-8" in out[0]["error"]["message"]


def test_a_refused_csv_row_keeps_its_id(root: Path, tmp_path: Path) -> None:
    """Red team: a CSV row with too many or too few fields, or an oversized field, lost its id."""
    huge = "x" * (csv.field_size_limit() + 10)
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(f'id,ruleset,fakturadato\nmange,t-2021,2021-01-31,ekstra\nfaa,t-2021\n'
                   f'stor,t-2021,"{huge}"\n"{huge}",t-2021,2021-01-31\n"aaben,t-2021,2021-01-31\n'
                   f'"citeret ""id"", ja",t-2021,2021-01-31,x\nok,t-2021,2021-01-31\n', "utf-8")
    done = _run_cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert b"Traceback" not in done.stderr
    rows = _csv_rows(dst)
    assert [r["error_kind"] for r in rows] == ["invalid_case"] * 6 + [""]
    assert [r["id"] for r in rows] == ["mange", "faa", "stor", "", "", 'citeret "id", ja', "ok"]


# --- B2: CSV records: oversize fields, unbalanced quotes, truthful counts ---------------------------

def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8", newline="")))


def test_an_oversize_csv_field_is_one_error_row(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    huge = "x" * (csv.field_size_limit() + 10)
    src.write_text(f"id,ruleset,fakturadato\na,t-2021,2021-01-31\n\"{huge}\",t-2021,2021-01-31\nc,t-2021,2021-01-31\n",
                   "utf-8")
    done = _run_cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert b"Traceback" not in done.stderr and done.returncode == 1
    rows = _csv_rows(dst)
    assert [r["error_kind"] for r in rows] == ["", "invalid_case", ""]
    assert rows[2]["id"] == "c"
    assert "3 rækker, 2 besvaret, 1 fejl" in done.stderr.decode()


def test_an_unbalanced_quote_is_one_error_row_and_does_not_swallow_the_rest(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    lines = ["id,ruleset,fakturadato", "a,t-2021,2021-01-31", '"b,t-2021,2021-01-31',
             *[f"r{i},t-2021,2021-01-31" for i in range(5)], 'c",t-2021,2021-01-31', "d,t-2021,2021-01-31"]
    src.write_text("\n".join(lines) + "\n", "utf-8")
    done = _run_cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert b"Traceback" not in done.stderr
    rows = _csv_rows(dst)
    assert len(rows) == len(lines) - 1                       # one output row per physical data line
    assert [r["id"] for r in rows if not r["error_kind"]] == ["a", *[f"r{i}" for i in range(5)], "d"]
    errors = [r for r in rows if r["error_kind"]]
    assert len(errors) == 2 and all("anførselstegn" in r["error_message"] for r in errors)
    assert "9 rækker, 7 besvaret, 2 fejl" in done.stderr.decode()


def test_a_quoted_field_over_two_lines_is_one_record(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('id,ruleset,fakturadato\n"to\nlinjer",t-2021,2021-01-31\nb,t-2021,2021-01-31\n', "utf-8")
    done = _run_cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in _csv_rows(dst)] == ["to\nlinjer", "b"]
    assert "2 rækker, 2 besvaret, 0 fejl" in done.stderr.decode()


def test_a_row_with_too_many_or_too_few_fields_is_an_error(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,ruleset,fakturadato\na,t-2021,2021-01-31,ekstra\nb,t-2021\nc,t-2021,2021-01-31\n", "utf-8")
    _run_cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    assert [r["error_kind"] for r in _csv_rows(dst)] == ["invalid_case", "invalid_case", ""]


# --- B3: the output appears complete or not at all -------------------------------------------------

def test_a_failed_run_leaves_no_output_and_no_temporary_file(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("id,id,fakturadato\na,b,2021-01-31\n", "utf-8")           # a header that cannot be used
    done = _run_cli(root, "afregning", "--input", str(src), "--output", str(dst))
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "rs"]


def test_a_successful_run_leaves_only_the_output(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps(GOOD) + "\n", "utf-8")
    assert _run_cli(root, "objektiv_finansiering", "--input", str(src), "--output", str(dst)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "rs"]


def test_a_killed_run_leaves_no_file_that_looks_complete(root: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.jsonl"
    dst.write_text("gammelt resultat\n", "utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "rammeaftale", "--rulesets", str(root), "batch",
                             "objektiv_finansiering", "--input", "-", "--output", str(dst), "--workers", "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(GOOD) + "\n").encode() * 50)
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.jsonl.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.glob(".out.jsonl.*.tmp")), "the run never started writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert dst.read_text("utf-8") == "gammelt resultat\n"          # the old file, not half a new one


@pytest.mark.parametrize("signum, code", [("SIGINT", 130), ("SIGINT", 130), ("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_sigterm_to_the_process_group_ends_a_pooled_batch_cleanly(tmp_path: Path, signum: str,
                                                                           code: int) -> None:
    """Red team: Ctrl-C (SIGINT to the whole process group) during ``--workers 2`` hung in 3 of 5 tries in
    ``pool.terminate()``, left the hidden ``.tmp`` file and printed the workers' KeyboardInterrupt tracebacks.
    SIGTERM (timeout, systemd) must clean up too."""
    src = tmp_path / "big.jsonl"
    with src.open("w", encoding="utf-8") as out:
        out.writelines(_opsigelse_rows(0, 300_000))
    proc = _pooled_batch(src, tmp_path / "t.jsonl", start_new_session=True)
    try:
        _wait_until_under_way(proc, tmp_path)
        time.sleep(0.5)                                      # well into the run: chunks in flight in both workers
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        os.killpg(proc.pid, getattr(signal, signum))         # what a terminal's Ctrl-C (or timeout) does
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = err.decode("utf-8", "replace")
    assert proc.returncode == code, text
    assert "batch afbrudt" in text and "Traceback" not in text and "KeyboardInterrupt" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]


def _opsigelse_rows(start: int, stop: int) -> list[str]:
    row = json.dumps({"ruleset": "syddanmark-2021", "case": {"paragraf": "SEL § 108", "opsigelsesdato": "2021-01-14"}})
    return [f'{{"id": {i}, {row[1:]}\n' for i in range(start, stop)]


def _pooled_batch(src: Path | None, dst: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """``rammeaftale batch opsigelse --workers 2`` from ``src`` (None: a pipe on stdin) to ``dst``."""
    return subprocess.Popen([sys.executable, "-m", "rammeaftale", "batch", "opsigelse", "--input",
                             str(src) if src else "-", "--output", str(dst), "--workers", "2"], cwd=ROOT,
                            stdin=subprocess.DEVNULL if src else subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **popen)


def _wait_until_under_way(proc: subprocess.Popen[bytes], folder: Path) -> None:
    """Until the batch writes its temporary output (its workers are then running), for at most a minute."""
    deadline = time.monotonic() + 60
    while not list(folder.glob(".*.tmp")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)


# --- B4: CSV output is safe to open in a spreadsheet -------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-1250.50", "-1250.50"), ("-5", "-5"), ("1250.50", "1250.50"), ("Vejle", "Vejle"), ("", "")])
def test_csv_cells_that_could_be_formulas_are_neutralised(text: str, expected: str) -> None:
    assert batch.safe_cell(text) == expected


def test_csv_output_neutralises_an_id_and_keeps_negative_amounts(root: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('id,ruleset,fakturadato\n"=cmd|\' /C calc\'!A0",t-2021,2021-01-31\n-7,t-2021,2021-01-31\n', "utf-8")
    _run_cli(root, "afregning", "--input", str(src), "--output", str(dst), "--workers", "1")
    rows = _csv_rows(dst)
    assert rows[0]["id"] == "'=cmd|' /C calc'!A0" and rows[1]["id"] == "-7"


# --- B5: semicolon files and Danish decimal commas ----------------------------------------------------

@pytest.mark.parametrize("text, expected", [("1.234,50", "1234.50"), ("0,10", "0.10"), ("-1.234.567,5", "-1234567.5"),
                                            ("1234", "1234"), ("12.5", "12.5"), (" 7,25 ", "7.25")])
def test_danish_numbers_that_are_unambiguous_are_read(text: str, expected: str) -> None:
    assert batch.danish_number(text, "takst") == expected


@pytest.mark.parametrize("text", ["1.234", "1.234.567"])
def test_a_dotted_number_without_a_comma_is_ambiguous_and_refused(text: str) -> None:
    with pytest.raises(InvalidCase) as info:
        batch.danish_number(text, "takst")
    assert info.value.path == "takst"


def test_a_semicolon_file_with_danish_decimals_gives_the_same_answers(tmp_path: Path) -> None:
    comma, semi = tmp_path / "komma.csv", tmp_path / "semikolon.csv"
    comma.write_text("id,ruleset,tilbudstype,takst,pl_faktor\na,nationale-regler,herberg,1234.50,1.05\n", "utf-8")
    semi.write_text("\ufeffid;ruleset;tilbudstype;takst;pl_faktor\na;nationale-regler;herberg;1.234,50;1,05\n"
                    "b;nationale-regler;herberg;1.234;1\n", "utf-8")
    outputs = []
    for src in (comma, semi):
        dst = tmp_path / f"ud-{src.name}"
        done = _run_cli(None, "takstloft", "--input", str(src), "--output", str(dst), "--workers", "1")
        assert b"Traceback" not in done.stderr
        outputs.append(_csv_rows(dst))
    assert outputs[0][0] == outputs[1][0] and outputs[0][0]["error_kind"] == ""
    assert outputs[1][1]["error_kind"] == "invalid_case" and "takst" in outputs[1][1]["error_message"]


def test_comma_files_read_quoted_decimal_commas_only_where_unambiguous(tmp_path: Path) -> None:
    """In a comma file a cell with a comma was quoted: "1234,50" can only be a decimal comma,
    "1,234" could be an English thousands separator and is that row's error."""
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('id,ruleset,tilbudstype,takst\na,nationale-regler,herberg,"1234,50"\n'
                   'b,nationale-regler,herberg,1234.50\nc,nationale-regler,herberg,"1,234"\n', "utf-8")
    _run_cli(None, "takstloft", "--input", str(src), "--output", str(dst), "--workers", "1")
    rows = _csv_rows(dst)
    assert rows[0]["error_kind"] == "" and {k: v for k, v in rows[0].items() if k != "id"} == \
        {k: v for k, v in rows[1].items() if k != "id"}
    assert rows[2]["error_kind"] == "invalid_case"


# --- B6: no row stops the run, and no traceback reaches the user ---------------------------------------

def test_a_row_that_breaks_the_formatter_still_gets_a_line() -> None:
    formatter = batch.Formatter("afregning", csv_output=False)
    line = json.loads(formatter.format({"id": object(), "output": {"x": object()}, "warnings": []}))
    assert "error" in line or "output" in line


def test_an_input_file_that_is_not_there_is_a_clean_error(root: Path, tmp_path: Path) -> None:
    done = _run_cli(root, "afregning", "--input", str(tmp_path / "findes-ikke.csv"), "--output", str(tmp_path / "o.csv"))
    assert done.returncode == 1 and b"Traceback" not in done.stderr


# --- B7: a worker process that dies loses no row -------------------------------------------------

def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through Linux's /proc")
def test_a_worker_killed_with_sigkill_mid_batch_loses_no_rows(tmp_path: Path) -> None:
    """What the kernel's OOM killer does: SIGKILL to one pool process while rows stream through it."""
    dst = tmp_path / "t.jsonl"
    proc = _pooled_batch(None, dst)
    fed, stop = 0, threading.Event()

    def feed() -> None:                  # rows as fast as the batch takes them, until told to stop
        nonlocal fed
        assert proc.stdin is not None
        try:
            while not stop.is_set():
                proc.stdin.write("".join(_opsigelse_rows(fed, fed + 200)).encode())
                fed += 200
            proc.stdin.close()
        except BrokenPipeError:
            pass

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        _wait_until_under_way(proc, tmp_path)
        while len(_children(proc.pid)) < 2 and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None, "the batch ended before a worker could be killed"
        os.kill(_children(proc.pid)[0], signal.SIGKILL)
        time.sleep(0.5)                  # the batch goes on with a new worker
    finally:
        stop.set()
        feeder.join(60)
        try:
            proc.wait(60)                # its few lines of stderr fit in the pipe
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.stderr is not None
    text = proc.stderr.read().decode("utf-8")
    assert proc.returncode == 0, text
    assert "en arbejdsproces døde" in text and "SIGKILL" in text and "Traceback" not in text
    lines = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    assert [line["id"] for line in lines] == list(range(fed)) and fed > 1000
    assert all(line["output"]["sidste_betalingsdag"] == "2021-02-28" for line in lines)


#: What test_plugins' building block ``andel`` does first in this test: SIGKILL its own process on the row
#: whose udgift is 666, every time or (with $DRAEB_EN_GANG naming a marker file) only the first time.
KILL = """\
        if values[navn] == 666:
            once = os.environ.get("DRAEB_EN_GANG")
            if not once or not os.path.exists(once):
                if once:
                    open(once, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
"""


def _killer_batch(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[bytes], Path]:
    """1.000 rows over two workers; row 700 (line 701) kills its worker as :data:`KILL` says."""
    from .test_plugins import STEP_PLUGIN, STEP_RULE
    plugin = textwrap.dedent(STEP_PLUGIN)
    assert "    def run(values):\n" in plugin
    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "draeber.py").write_text(
        "import os\nimport signal\n" + plugin.replace("    def run(values):\n", "    def run(values):\n" + KILL), "utf-8")
    rulesets = tmp_path / "rs"
    write_ruleset(rulesets, {"objektiv_finansiering.yaml": STEP_RULE.replace("{SATS}", "0.5")}, id="t-2021")
    src, dst = tmp_path / "ind.jsonl", tmp_path / "ud.jsonl"
    src.write_text("".join(json.dumps({"id": i, "ruleset": "t-2021", "case": {
        "udgift": "666" if i == 700 else "100", "befolkning": {"A": 1}}}) + "\n" for i in range(1000)), "utf-8")
    dst.write_text("gammelt resultat\n", "utf-8")
    done = _run_cli(rulesets, "objektiv_finansiering", "--input", str(src), "--output", str(dst), "--workers", "2",
                    env={"RAMMEAFTALE_PLUGINS": str(tmp_path / "plug"), **env})
    return done, dst


def test_the_rows_of_a_worker_killed_mid_chunk_run_again_in_a_new_one(tmp_path: Path) -> None:
    done, dst = _killer_batch(tmp_path, DRAEB_EN_GANG=str(tmp_path / "draebt"))
    text = done.stderr.decode("utf-8")
    assert done.returncode == 0, text
    assert "en arbejdsproces døde under rækkerne på linje 601–800 (dræbt af signal 9 (SIGKILL)" in text
    assert "køres igen i en ny proces" in text and "1000 rækker, 1000 besvaret, 0 fejl" in text
    lines = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    assert [line["id"] for line in lines] == list(range(1000))
    assert lines[700]["output"]["fordeling"] == {"A": "333.00"} and lines[699]["output"]["fordeling"] == {"A": "50.00"}


def test_rows_that_kill_every_worker_stop_the_batch_and_say_how_far_it_got(tmp_path: Path) -> None:
    done, dst = _killer_batch(tmp_path)
    text = done.stderr.decode("utf-8")
    assert done.returncode == 1 and "Traceback" not in text
    assert re.search(r"batch stoppede: en arbejdsproces døde 2 gange under rækkerne på linje 601–800 \(dræbt af "
                     r"signal 9 \(SIGKILL\).*\); \d+ rækker var besvaret; outputfilen er ikke skrevet", text), text
    assert dst.read_text("utf-8") == "gammelt resultat\n"              # the old file, not a gap in a new one
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_worker_that_cannot_start_raises_what_one_process_would(tmp_path: Path) -> None:
    """Pool workers build their own engine; a ruleset they cannot load is the batch's error, not a hang."""
    from rammeaftale.errors import RulesetErrors

    from .test_plugins import DOUBLE
    write_ruleset(tmp_path / "rs", {"objektiv_finansiering.yaml": DOUBLE}, id="t-2021")
    with pytest.raises(RulesetErrors, match="ukendt funktion 'dobbelt'") as raised:
        list(batch.run("objektiv_finansiering", _items([json.dumps(GOOD)]), paths=[str(tmp_path / "rs")], workers=2))
    assert raised.value.errors[0].location and raised.value.to_dict()["kind"] == "invalid_ruleset"
