"""Hostile input: rulesets, formulas and cases written to break the engine.

Every hostile input must end as one of the engine's own errors — ``invalid_ruleset``
with ``fil:linje`` for a ruleset, ``invalid_case`` with the field's ``path`` for a
case — quickly and with little memory; never a Python traceback, never a hang.
The corpus lives in ``tests/hostile/`` (see docs/hardening.md):

* ``rulesets/*.yaml`` — tiny hostile YAML files; the first two lines say the line
  and the message fragment the error must carry (``# linje: N`` / ``# fejl: ...``);
* ``formulas.yaml`` — formulas refused at load, and value-dependent ones that
  must fail cleanly at evaluation;
* ``cases/*.json`` — hostile cases on top of a valid base case, with the
  expected ``path``.

On top of the hand-written corpus, every question answered by a shipped ruleset
gets hostile values generated from the catalogue's field types.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from rammeaftale import Engine
from rammeaftale.tools import examples as _examples
from rammeaftale.model.catalogue import catalogue
from rammeaftale.model.types import MAX_ITEMS, MAX_TEXT
from rammeaftale.errors import EngineError, InvalidCase, InvalidRuleset, RulesetErrors
from rammeaftale.formula.expr import ExpressionError
from rammeaftale.run.result import Result
from rammeaftale.load.yamlload import MAX_FILE_BYTES, load_file, load_text

from .conftest import time_limit
from .helpers import SOURCE, SOURCE_FILE, formulas, write_ruleset

HOSTILE = Path(__file__).parent / "hostile"
ROOT = Path(__file__).resolve().parent.parent


@cache
def shipped() -> Engine:
    return Engine.default()


def _short_id(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("ascii", "backslashreplace").decode()
    return text if len(text) <= 40 else text[:37] + "..."


# --- 1. YAML: tags, aliases, size, depth ---------------------------------------------

YAML_FILES = sorted((HOSTILE / "rulesets").glob("*.yaml"))


def _expected(path: Path) -> tuple[int, str]:
    first, second = path.read_bytes().decode("utf-8", "replace").splitlines()[:2]
    assert first.startswith("# linje:") and second.startswith("# fejl:"), path
    return int(first.partition(":")[2]), second.partition(":")[2].strip()


def test_the_yaml_corpus_is_there():
    assert len(YAML_FILES) >= 20


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.stem)
def test_hostile_yaml_is_refused_with_file_and_line(path):
    line, fragment = _expected(path)
    with time_limit(2), pytest.raises(InvalidRuleset) as info:
        load_file(path, path.name)
    assert info.value.location == f"{path.name}:{line}"
    assert fragment in info.value.message


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.stem)
def test_hostile_yaml_inside_a_ruleset_folder_is_a_located_error(tmp_path, path):
    line, _ = _expected(path)
    folder = write_ruleset(tmp_path)
    (folder / "ondsindet.yaml").write_bytes(path.read_bytes())
    with time_limit(5), pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert f"test-2021/ondsindet.yaml:{line}" in [e.location for e in info.value.errors]


@pytest.mark.parametrize("name", ["python_object_apply.yaml", "billion_laughs.yaml", "deep_flow.yaml",
                                  "latin1.yaml"])
def test_hostile_regelsaet_yaml_is_a_located_error(tmp_path, name):
    path = HOSTILE / "rulesets" / name
    line, _ = _expected(path)
    folder = write_ruleset(tmp_path)
    (folder / "regelsaet.yaml").write_bytes(path.read_bytes())
    with time_limit(5), pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert [e.location for e in info.value.errors] == [f"test-2021/regelsaet.yaml:{line}"]


def test_cli_validate_reports_hostile_yaml_with_file_and_line(tmp_path):
    folder = write_ruleset(tmp_path)
    for name in ("python_object_apply.yaml", "billion_laughs.yaml", "deep_flow.yaml"):
        (folder / name).write_bytes((HOSTILE / "rulesets" / name).read_bytes())
    proc = _cli("validate", str(tmp_path), "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    assert {e["location"] for e in report["errors"]} >= {
        "test-2021/python_object_apply.yaml:4", "test-2021/billion_laughs.yaml:4", "test-2021/deep_flow.yaml:3"}
    assert all(e["kind"] == "invalid_ruleset" for e in report["errors"])


def test_nothing_from_a_python_tag_ever_runs(tmp_path):
    marker = tmp_path / "pwned"
    text = f"titel: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(InvalidRuleset):
        load_text(text)
    assert not marker.exists()


def test_billion_laughs_is_rejected_fast_and_small():
    text = (HOSTILE / "rulesets" / "billion_laughs.yaml").read_text("utf-8")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InvalidRuleset, match="aliaser"):
            load_text(text)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5, elapsed
    assert peak < 2_000_000, peak          # 9**9 'lol's expanded would be gigabytes


def test_a_file_over_one_megabyte_is_refused_before_parsing(tmp_path):
    path = tmp_path / "stor.yaml"
    path.write_text("titel: " + "x" * MAX_FILE_BYTES + "\n", "utf-8")
    start = time.perf_counter()
    with pytest.raises(InvalidRuleset, match="filen er for stor") as info:
        load_file(path, "stor.yaml")
    assert info.value.location == "stor.yaml:1"
    assert time.perf_counter() - start < 0.5


def test_a_file_over_one_megabyte_in_a_folder_is_a_located_error(tmp_path):
    folder = write_ruleset(tmp_path)
    (folder / "stor.yaml").write_text("# " + "x" * MAX_FILE_BYTES + "\n", "utf-8")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert "test-2021/stor.yaml:1" in [e.location for e in info.value.errors]


@pytest.mark.parametrize("text", [
    "a: " + "[" * (MAX_FILE_BYTES - 10),                       # just under the size limit
    "a: " + "[" * 100_000 + "]" * 100_000,
    "a: " + "{a: " * 50_000 + "1" + "}" * 50_000,
    "".join(" " * i + f"k{i}:\n" for i in range(1000)) + " " * 1000 + "x",
    "- " * 5000 + "x",
], ids=["1MB-of-brackets", "deep-flow-list", "deep-flow-map", "deep-block-map", "deep-block-list"])
def test_deep_nesting_is_refused_without_crashing(tmp_path, text):
    # In a child process: libyaml's composer once overflowed the C stack on deep nesting,
    # which kills the interpreter (SIGSEGV) instead of raising anything.
    path = tmp_path / "dyb.yaml"
    path.write_text(text, "utf-8")
    probe = ("import sys; from rammeaftale.load.yamlload import load_file; from rammeaftale.errors import InvalidRuleset\n"
             "try:\n    load_file(sys.argv[1], 'dyb.yaml')\n"
             "except InvalidRuleset as exc:\n    print('afvist', exc.location, exc.message)\n")
    proc = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True,
                          timeout=30, cwd=ROOT)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-500:]}"
    assert proc.stdout.startswith("afvist dyb.yaml:") and ("indlejring" in proc.stdout or "YAML" in proc.stdout)


def test_nesting_up_to_the_limit_is_fine():
    from rammeaftale.load.yamlload import MAX_DEPTH
    doc = load_text("a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1))
    assert doc.data["a"] is not None


# --- 1b. Special files and symlinks in a ruleset folder ---------------------------------
# Only regular files inside the ruleset folder are read (rammeaftale.load.files); the size is
# checked on the open descriptor before a byte is read.

needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="kræver POSIX (mkfifo, symlinks)")


def _errors(tmp_path: Path, seconds: float = 5) -> dict[str, str]:
    with time_limit(seconds), pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert all(isinstance(e, InvalidRuleset) for e in info.value.errors)
    return {e.location: e.message for e in info.value.errors}


@needs_posix
@pytest.mark.parametrize("name", ["ondsindet.yaml", "regelsaet.yaml"])
def test_a_symlink_to_dev_zero_is_refused_before_reading(tmp_path, name):
    folder = write_ruleset(tmp_path)
    (folder / name).unlink(missing_ok=True)
    (folder / name).symlink_to("/dev/zero")
    tracemalloc.start()
    try:
        errors = _errors(tmp_path, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "uden for mappen" in errors[f"test-2021/{name}:1"]
    assert peak < 5_000_000, peak


def test_a_file_is_never_read_past_the_limit(tmp_path, monkeypatch):
    from rammeaftale.load import files
    path = tmp_path / "stor.yaml"
    path.write_bytes(b"#" * 100)
    real_fstat, real_read, reads = os.fstat, os.read, []
    monkeypatch.setattr(files.os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(InvalidRuleset, match="for stor"):       # the descriptor's size: nothing read
        files.read_regular_file(path, tmp_path, 50)
    assert reads == []

    def growing(fd):                                            # a size that is stale by the time we read
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink, info.st_uid,
                               info.st_gid, 10, info.st_atime, info.st_mtime, info.st_ctime))
    monkeypatch.setattr(files.os, "fstat", growing)
    with pytest.raises(InvalidRuleset, match="for stor"):
        files.read_regular_file(path, tmp_path, 50)
    assert sum(reads) <= 51


@needs_posix
@pytest.mark.parametrize("name", ["ondsindet.yaml", "regelsaet.yaml"])
def test_a_fifo_in_a_ruleset_folder_does_not_hang(tmp_path, name):
    folder = write_ruleset(tmp_path)
    (folder / name).unlink(missing_ok=True)
    os.mkfifo(folder / name)
    errors = _errors(tmp_path, 2)
    assert "navngiven pipe (FIFO)" in errors[f"test-2021/{name}:1"]


@needs_posix
def test_cli_validate_with_a_fifo_finishes(tmp_path):
    folder = write_ruleset(tmp_path)
    os.mkfifo(folder / "ondsindet.yaml")
    (tmp_path / "roer").mkdir()
    os.mkfifo(tmp_path / "roer" / "regelsaet.yaml")           # read when discovering libraries, too
    proc = subprocess.run([sys.executable, "-m", "rammeaftale", "validate", str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    errors = json.loads(proc.stdout)["errors"]
    assert sorted(e["location"] for e in errors) == ["roer/regelsaet.yaml:1", "test-2021/ondsindet.yaml:1"]
    assert all(e["kind"] == "invalid_ruleset" and "FIFO" in e["message"] for e in errors)


@needs_posix
def test_a_folder_named_like_a_yaml_file_is_refused(tmp_path):
    folder = write_ruleset(tmp_path)
    (folder / "mappe.yaml").mkdir()
    assert "er en mappe" in _errors(tmp_path)["test-2021/mappe.yaml:1"]


@needs_posix
def test_a_symlink_out_of_the_ruleset_folder_is_refused(tmp_path):
    outside = tmp_path / "udenfor"
    outside.mkdir()
    (outside / "hemmelig.yaml").write_text("spoergsmaal: objektiv_finansiering\n", "utf-8")
    folder = write_ruleset(tmp_path / "regler")
    (folder / "ondsindet.yaml").symlink_to(outside / "hemmelig.yaml")
    errors = _errors(tmp_path / "regler")
    assert "uden for mappen" in errors["test-2021/ondsindet.yaml:1"]


@needs_posix
def test_a_symlink_inside_the_ruleset_folder_is_fine(tmp_path):
    folder = write_ruleset(tmp_path)
    (folder / "objektiv_finansiering.yaml").rename(folder / "rigtig.txt")
    (folder / "objektiv_finansiering.yaml").symlink_to("rigtig.txt")
    assert Engine.from_path(tmp_path).ruleset("test-2021").questions


@needs_posix
def test_a_symlinked_ruleset_folder_out_of_the_root_is_not_followed(tmp_path):
    write_ruleset(tmp_path / "andetsteds", id="fremmed-2021")
    write_ruleset(tmp_path / "regler")
    (tmp_path / "regler" / "fremmed-2021").symlink_to(tmp_path / "andetsteds" / "fremmed-2021")
    errors = _errors(tmp_path / "regler")
    assert list(errors) == ["fremmed-2021/regelsaet.yaml:1"]
    assert "symbolsk link" in errors["fremmed-2021/regelsaet.yaml:1"]


@needs_posix
def test_an_example_file_symlinked_out_is_refused(tmp_path):
    folder = write_ruleset(tmp_path / "regler")
    (tmp_path / "x.yaml").write_text("eksempler: []\n", "utf-8")
    (folder / "eksempler").mkdir()
    (folder / "eksempler" / "ud.yaml").symlink_to(tmp_path / "x.yaml")
    engine = Engine.from_path(tmp_path / "regler")
    with pytest.raises(InvalidRuleset, match="uden for mappen") as info:
        list(_examples.discover(engine))
    assert info.value.location == "test-2021/eksempler/ud.yaml:1"


@pytest.mark.parametrize("fil", ["../hemmelig.txt", "/etc/passwd", "..", ".skjult.txt", "a/b.txt", "C:x.txt"])
def test_a_kilder_path_leaving_the_source_folder_is_invalid_at_load(tmp_path, fil):
    write_ruleset(tmp_path)
    header = tmp_path / "test-2021" / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace(f"  {SOURCE}:\n",
                                                        f"  ond:\n    fil: '{fil}'\n    titel: Ond\n  {SOURCE}:\n"),
                      "utf-8")
    errors = _errors(tmp_path)
    assert any("kilder.ond.fil" in m for m in errors.values()), errors


@needs_posix
def test_the_report_never_quotes_a_file_outside_the_source_folder(tmp_path):
    from rammeaftale.tools.report import Sources
    (tmp_path / "hemmelig.txt").write_text("HEMMELIG\n", "utf-8")
    seeds = tmp_path / "kilder"
    seeds.mkdir()
    (seeds / "ok.txt").write_text("offentlig\n", "utf-8")
    (seeds / "link.txt").symlink_to(tmp_path / "hemmelig.txt")
    (seeds / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(seeds / "fifo.txt")
    sources = Sources(seeds)
    with time_limit(2):
        assert sources.quote("ok.txt:1 x") == [(1, "offentlig")]
        for kilde in ("../hemmelig.txt:1 x", f"{tmp_path}/hemmelig.txt:1 x", "link.txt:1 x",
                      "zero.txt:1 x", "fifo.txt:1 x", "kilder/../hemmelig.txt:1 x"):
            assert sources.quote(kilde) == [], kilde
            assert "HEMMELIG" not in sources.cite(kilde)


# --- 2. Formulas -----------------------------------------------------------------------

FORMULAS = yaml.safe_load((HOSTILE / "formulas.yaml").read_text("utf-8"))
KNOWN = ["udgift", "befolkning", "grundlag", "tilbud", "sats"]
LANGUAGE = formulas()
_PLACEHOLDERS = {
    "LANG_TEKST": "x" * 501,                                  # > MAX_STRING
    "LANG_KILDE": " + ".join(["udgift"] * 300),                # > MAX_SOURCE characters
    "DYB_INDLEJRING": "-" * 300 + "udgift",                    # > MAX_NODES, 300 levels deep
    "MANGE_LED": "+".join(["1"] * 250),                        # > MAX_NODES, flat
}


def _fill(source: str) -> str:
    for name, value in _PLACEHOLDERS.items():
        source = source.replace(name, value)
    return source


LOAD_TIME = [_fill(f) for f in FORMULAS["ved_indlaesning"]] + [
    "(" * 250 + "udgift" + ")" * 250,                          # the parser's own nesting limit
    "[" * 150 + "udgift" + "]" * 150 + " + " + "-" * 200 + "1",
]
RUN_TIME = FORMULAS["ved_beregning"]


def test_the_formula_corpus_is_there():
    assert len(LOAD_TIME) >= 80 and len(RUN_TIME) >= 25


@pytest.mark.parametrize("source", LOAD_TIME, ids=_short_id)
def test_hostile_formula_is_refused_by_the_checker(source):
    with time_limit(2), pytest.raises(ExpressionError):
        LANGUAGE.expression(source, KNOWN)


def _formula_question(formula: str) -> tuple[str, int]:
    """A question file whose step ``x`` has ``formula``, and the line of that formula."""
    lines = [
        "spoergsmaal: objektiv_finansiering",
        "titel: Fjendtlig formel",
        f"kilde: {SOURCE}:2978 Bilag 10",
        "trin:",
        "  - id: x",
        f"    kilde: {SOURCE}:2978 Bilag 10",
        f"    formel: {json.dumps(formula)}",
        "  - id: fordeling",
        f"    kilde: {SOURCE}:2978 Bilag 10",
        "    formel: fordel(udgift, befolkning)",
        "resultat:",
        "  fordeling: fordeling",
    ]
    return "\n".join(lines) + "\n", 7


@pytest.mark.parametrize("source", LOAD_TIME, ids=_short_id)
def test_hostile_formula_in_a_ruleset_is_invalid_ruleset_with_file_and_line(tmp_path, source):
    text, line = _formula_question(source)
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": text})
    with time_limit(5), pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert f"test-2021/objektiv_finansiering.yaml:{line}" in [e.location for e in info.value.errors], \
        [str(e) for e in info.value.errors]


@cache
def _formula_engine(formula: str, root: Path) -> Engine:
    text, _ = _formula_question(formula)
    folder = root / str(abs(hash(formula)))
    write_ruleset(folder, {"objektiv_finansiering.yaml": text})
    return Engine.from_path(folder)


@pytest.fixture(scope="module")
def formula_root(tmp_path_factory):
    return tmp_path_factory.mktemp("formler")


@pytest.mark.parametrize("trace", [True, False], ids=["sporing", "hurtig"])
@pytest.mark.parametrize("item", RUN_TIME, ids=lambda i: _short_id(i["formel"]))
def test_value_dependent_formula_fails_cleanly_as_invalid_case(formula_root, item, trace):
    engine = _formula_engine(item["formel"], formula_root)
    case = {"udgift": 100, "befolkning": {"A": 1, "B": 2}, **item["sag"]}
    with time_limit(5), pytest.raises(InvalidCase) as info:
        engine.evaluate("objektiv_finansiering", case, ruleset="test-2021", trace=trace)
    assert "reglen 'x'" in info.value.message and "kunne ikke beregnes" in info.value.message


@pytest.mark.parametrize("item", RUN_TIME, ids=lambda i: _short_id(i["formel"]))
def test_value_dependent_formula_works_on_a_harmless_case(formula_root, item):
    """The same formulas are legal: with harmless values they compute or fail cleanly."""
    engine = _formula_engine(item["formel"], formula_root)
    case = {"udgift": 2, "befolkning": {"A": 1, "B": 2}, "tilbud": "A"}
    with time_limit(5):
        try:
            engine.evaluate("objektiv_finansiering", case, ruleset="test-2021")
        except EngineError:
            pass


def test_a_row_formula_may_not_use_an_output_computed_after_it(tmp_path):
    text = f"""\
spoergsmaal: objektiv_finansiering
titel: Rækkefølge
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: t
    kilde: {SOURCE}:2978 Bilag 10
    tabel:
      hitpolitik: unik
      input: [grundlag]
      udfald: [a, b]
      regler:
        - id: r1
          naar: {{grundlag: folketal}}
          kilde: {SOURCE}:2978 Bilag 10
          beregn: {{a: "b + 1", b: "udgift"}}
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(udgift, befolkning)
resultat:
  fordeling: fordeling
"""
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": text})
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert any(e.location == "test-2021/objektiv_finansiering.yaml:15" and "ukendt navn 'b'" in e.message
               for e in info.value.errors), [str(e) for e in info.value.errors]


# --- 3. Cases ------------------------------------------------------------------------------

_CASE_PLACEHOLDERS = {
    "LANG_TEKST": "x" * (MAX_TEXT + 1),
    "LANG_NOEGLE": "k" * 101,
}


def _fill_case(value: Any) -> Any:
    if value == "MANGE_KOMMUNER":
        return {f"K{i}": {"2019": 1} for i in range(MAX_ITEMS + 1)}
    if isinstance(value, str):
        for name, text in _CASE_PLACEHOLDERS.items():
            value = value.replace(name, text)
        return value
    if isinstance(value, dict):
        return {_fill_case(k): _fill_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_case(v) for v in value]
    return value


def _corpus_cases() -> list[tuple[str, str, Any, str, str]]:
    out = []
    for path in sorted((HOSTILE / "cases").glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        for item in data["sager"]:
            if "sag" in item:
                case = item["sag"]
            else:
                case = {k: v for k, v in data["grundsag"].items() if k not in item.get("fjern", [])}
                case.update(item.get("saet", {}))
            out.append((f"{path.stem}: {item['navn']}", data["spoergsmaal"], _fill_case(case),
                        item["path"], data["regelsaet"]))
    return out


CORPUS = _corpus_cases()


def test_the_case_corpus_is_there():
    assert len(CORPUS) >= 80
    assert {question for _, question, *_ in CORPUS} >= {"opsigelse", "lukning", "kapacitet"}


@pytest.mark.parametrize("trace", [True, False], ids=["sporing", "hurtig"])
@pytest.mark.parametrize("name, question, case, path, ruleset", CORPUS, ids=[c[0] for c in CORPUS])
def test_hostile_case_is_invalid_case_naming_the_field(name, question, case, path, ruleset, trace):
    with time_limit(5), pytest.raises(InvalidCase) as info:
        shipped().evaluate(question, case, ruleset=ruleset, trace=trace)
    assert (info.value.path or "") == path, str(info.value)
    shape = info.value.to_dict()
    assert shape["kind"] == "invalid_case" and shape["message"]
    json.dumps(shape, ensure_ascii=False)          # the error itself is always serialisable


def test_each_hand_written_base_case_is_valid():
    for path in sorted((HOSTILE / "cases").glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        result = shipped().evaluate(data["spoergsmaal"], data["grundsag"], ruleset=data["regelsaet"])
        assert isinstance(result, Result), path


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rammeaftale", *args], capture_output=True, text=True,
                          input=stdin, timeout=60, cwd=ROOT)


_CLI_SAMPLE = [c for c in CORPUS if c[0] in {
    "opsigelse: umulig dato", "opsigelse: ukendt paragraf", "opsigelse: frist med hævet 2-tal",
    "opsigelse: sagen er en liste", "lukning: budget NaN", "lukning: årsresultat med kæmpe eksponent",
    "lukning: indlejret skrald", "kapacitet: halve pladser"}]


def test_cli_sample_is_complete():
    assert len(_CLI_SAMPLE) == 8


@pytest.mark.parametrize("name, question, case, path, ruleset", _CLI_SAMPLE, ids=[c[0] for c in _CLI_SAMPLE])
def test_hostile_case_through_the_cli_prints_a_json_error_and_exits_1(name, question, case, path, ruleset):
    proc = _cli("evaluate", question, "--case", "-", "--ruleset", ruleset, "--json", stdin=json.dumps(case))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == "invalid_case"
    assert error.get("path", "") == path


@pytest.mark.parametrize("text", ["{", "", "[1, 2", "{\"paragraf\": NaN, \"opsigelsesdato\": Infinity}",
                                  "\ufeff{}", "\x00"], ids=["brudt", "tom", "liste", "nan", "bom", "nul"])
def test_broken_json_through_the_cli_is_a_json_error(text):
    proc = _cli("evaluate", "opsigelse", "--case", "-", "--ruleset", "syddanmark-2021", "--json", stdin=text)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["kind"] == "invalid_case"


@pytest.mark.parametrize("text", ['{"paragraf": "SEL-107", "opsigelsesdato": "2021-03-01", "x": ' + "9" * 5000 + "}",
                                  '{"paragraf": ' + "[" * 100_000 + "]" * 100_000 + "}"],
                         ids=["5000-cifre", "dyb-json"])
def test_json_the_parser_chokes_on_is_a_json_error(text):
    proc = _cli("evaluate", "opsigelse", "--case", "-", "--ruleset", "syddanmark-2021", "--json", stdin=text)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["error"]["kind"] == "invalid_case"


# --- 3b. Generated from the catalogue: every question a shipped ruleset answers ---------------

def _valid(spec: dict[str, Any]) -> Any:
    kind = spec["type"]
    item = spec.get("af")
    item = {"type": item} if isinstance(item, str) else item
    low = spec.get("min", 1)
    return {
        "beloeb": "1", "decimal": "1", "heltal": int(Decimal(str(low))) if low else 1, "dato": "2021-01-01",
        "tekst": "x", "bool": True, "frist": "1 måned", "paragraf": "SEL-107",
    }.get(kind) if kind not in ("valg", "kort", "liste") else (
        spec["vaerdier"][0] if kind == "valg" else {"A": _valid(item)} if kind == "kort" else [_valid(item)])


def _hostile(spec: dict[str, Any], depth: int = 0) -> list[tuple[Any, str]]:
    """(value, path suffix) pairs that must be refused for a field of type ``spec``."""
    kind = spec["type"]
    containers: list[Any] = [[], {}, [1, [2, {"x": None}]], {"a": {"b": {"c": [1]}}}]
    huge = 10 ** 5000
    out: list[Any]
    if kind in ("beloeb", "decimal", "heltal"):
        out = ["abc", "", " ", "NaN", "-nan", "sNaN", "Infinity", "-Infinity", float("nan"), float("inf"),
               Decimal("NaN"), Decimal("-Infinity"), "1e999999999999999999", "1e13", 10 ** 13, huge,
               "1,5", "1.5.5", "0x10", "1e", True, False, _dt.date(2021, 1, 1), *containers]
        if "min" in spec:
            out.append(str(Decimal(str(spec["min"])) - Decimal("0.01")))
        if "max" in spec:
            out.append(str(Decimal(str(spec["max"])) + 1))
        if kind == "heltal":
            out += [1.5, "2.5", "1e-3", Decimal("0.1")]
    elif kind == "dato":
        out = ["2021-02-30", "2021-02-29", "2021-13-01", "2021-00-10", "0000-01-01", "21-01-01", "2021-1-1",
               "2021/01/01", "01-02-2021", "2021-01-01T00:00:00", "2021-W01-1", "", "٢٠٢١-٠١-٠١", 20210101,
               2021.5, huge, True, _dt.datetime(2021, 1, 1, 12, 0), *containers]
    elif kind in ("tekst", "paragraf", "frist"):
        out = [123, 1.5, huge, True, "x" * (MAX_TEXT + 1), *containers]
        if kind == "paragraf":
            out += ["", "§", "§§§ stk. nr.", "XYZ 12", "SEL", "SEL-", "SEL 66 stk. x", "SEL\x00107"]
        if kind == "frist":
            out += ["tre uger", "0 dage", "² måneder", "-1 måned", "1e3 dage", "1201 måneder", "løbende",
                    "måneder 3", "9" * 400 + " dage", "1 måned + + 1 dag", "1 måned +", "+ 1 måned", ""]
    elif kind == "bool":
        out = ["true", "false", 1, 0, "ja", "", huge, *containers]
    elif kind == "valg":
        first = spec["vaerdier"][0]
        out = ["ukendt", "", 1, huge, True, first.upper() if first.upper() != first else first + "x",
               " " + first, [first], {first: first}, "x" * 100_000]
    elif kind in ("kort", "liste"):
        item = spec["af"] if isinstance(spec["af"], dict) else {"type": spec["af"]}
        many = ({f"K{i}": _valid(item) for i in range(MAX_ITEMS + 1)} if kind == "kort"
                else [_valid(item)] * (MAX_ITEMS + 1))
        out = ["x", 1, huge, True, many]
        out += [[_valid(item)]] if kind == "kort" else [{"A": _valid(item)}]
        if kind == "kort":
            out += [{"": _valid(item)}, {"k" * 101: _valid(item)}, {huge: _valid(item)}]
        pairs = [(v, "") for v in out]
        if depth < 2:
            for value, suffix in _hostile(item, depth + 1)[:12]:
                pairs.append(({"A": value} if kind == "kort" else [value],
                              (".A" if kind == "kort" else "[0]") + suffix))
        return pairs
    else:  # pragma: no cover - a new type must get hostile values here
        raise AssertionError(f"ny type {kind}: tilføj fjendtlige værdier")
    return [(v, "") for v in out]


def _answered() -> list[tuple[str, str, dict[str, Any]]]:
    """(ruleset, question, a valid case) for every question a shipped ruleset answers itself."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for example in _examples.discover(shipped()):
        key = (example.ruleset, example.question)
        if key not in out and "forventet" in example.data:
            out[key] = example.data["sag"]
    return [(r, q, case) for (r, q), case in sorted(out.items())]


ANSWERED = _answered()


def test_every_question_answered_by_a_shipped_ruleset_is_covered():
    answered = {(r.id, q) for r in shipped().registry.agreements() for q, rule in r.questions.items()
                if rule.owner == r.id}
    assert answered <= {(r, q) for r, q, _ in ANSWERED}


@pytest.mark.parametrize("ruleset, question, base", ANSWERED, ids=[f"{r}:{q}" for r, q, _ in ANSWERED])
def test_generated_hostile_values_are_invalid_case_naming_the_field(ruleset, question, base):
    engine, spec = shipped(), catalogue()[question]
    problems = []
    with time_limit(30):
        variants = [(name, value, name + suffix) for name, field in spec.inputs.items()
                    for value, suffix in _hostile(dict(field.spec))]
        variants += [(None, None, name) for name, field in spec.inputs.items() if field.required]
        variants += [("ukendt_felt", 1, "ukendt_felt"), ("__class__", {}, "__class__")]
        for name, value, path in variants:
            case = dict(base)
            if name is None:
                case.pop(path, None)
            else:
                case[name] = value
            try:
                engine.evaluate(question, case, ruleset=ruleset)
            except InvalidCase as exc:
                if exc.path != path:
                    problems.append(f"{_short_id(value)} i {name}: path {exc.path!r}, ventede {path!r}")
            except Exception as exc:  # noqa: BLE001 - this is what the test looks for
                problems.append(f"{_short_id(value)} i {name}: {type(exc).__name__}: {exc}")
            else:
                problems.append(f"{_short_id(value)} i {name}: blev accepteret")
    assert not problems, "\n".join(problems)


def _extreme(spec: dict[str, Any]) -> list[Any]:
    """Valid values at the edges of a field's type: they must never crash an evaluation."""
    kind = spec["type"]
    if kind in ("beloeb", "decimal", "heltal"):
        low = Decimal(str(spec.get("min", "-1e12")))
        high = Decimal(str(spec.get("max", "1e12")))
        values = [v for v in (low, high, Decimal(0), (low + high) / 2, Decimal("1e-30")) if low <= v <= high]
        if kind == "heltal":
            values = [int(v) for v in values if v == v.to_integral_value()]
        return [str(v) for v in values] if kind != "heltal" else values
    if kind == "dato":
        return ["0001-01-01", "9999-12-31", "2020-02-29", "2021-12-31"]
    if kind == "tekst":
        return ["", "x" * MAX_TEXT, "æøå §'\"\\\n\t", "{udgift}", "__import__('os')"]
    if kind == "frist":
        return ["løbende måned + 1200 måneder", "1200 dage", "løbende måned"]
    if kind == "valg":
        return list(spec["vaerdier"])
    if kind == "bool":
        return [True, False]
    if kind == "paragraf":
        return ["SEL § 107", "sel-107", "LSV 1 stk. 2"]
    if kind in ("kort", "liste"):
        item = spec["af"] if isinstance(spec["af"], dict) else {"type": spec["af"]}
        values = _extreme(item)
        if kind == "kort":
            return [{}, {f"K{i}": values[i % len(values)] for i in range(MAX_ITEMS)},
                    {"k" * 100: values[0], "1": values[-1]}]
        return [[], [values[i % len(values)] for i in range(MAX_ITEMS)]]
    raise AssertionError(kind)  # pragma: no cover


@pytest.mark.parametrize("ruleset, question, base", ANSWERED, ids=[f"{r}:{q}" for r, q, _ in ANSWERED])
def test_extreme_but_valid_values_give_a_result_or_an_engine_error(ruleset, question, base):
    engine, spec = shipped(), catalogue()[question]
    problems = []
    with time_limit(60):
        for name, field in spec.inputs.items():
            for value in _extreme(dict(field.spec)):
                for trace in (True, False):
                    try:
                        result = engine.evaluate(question, {**base, name: value}, ruleset=ruleset, trace=trace)
                        json.dumps(result.to_dict(), ensure_ascii=False)
                    except EngineError as exc:
                        json.dumps(exc.to_dict(), ensure_ascii=False)
                    except Exception as exc:  # noqa: BLE001 - this is what the test looks for
                        problems.append(f"{name}={_short_id(value)} (sporing={trace}): "
                                        f"{type(exc).__name__}: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", [[], "x", None, 1, 1.5, True, ["paragraf"], {1: 2}, {None: 1}, {("a",): 1}],
                         ids=_short_id)
def test_a_case_that_is_not_an_object_of_known_fields_is_invalid_case(case):
    with pytest.raises(InvalidCase):
        shipped().evaluate("opsigelse", case, ruleset="syddanmark-2021")


@pytest.mark.parametrize("field", ["question", "ruleset", "region"])
@pytest.mark.parametrize("value", [["opsigelse"], {"a": 1}, 7], ids=["liste", "kort", "tal"])
def test_a_selector_that_is_not_text_is_invalid_case(field, value):
    selectors = {"question": "opsigelse", "ruleset": None, "region": "syddanmark", field: value}
    case = {"paragraf": "SEL-107", "situation": "ophoer", "opsigelsesdato": "2021-03-01"}
    with pytest.raises(InvalidCase) as info:
        shipped().evaluate(selectors.pop("question"), case, **selectors)
    assert info.value.path == field


def test_a_runtime_failure_names_the_rule_and_the_case_fields_it_used():
    with pytest.raises(InvalidCase) as info:
        shipped().evaluate("objektiv_finansiering", {"udgift": 10, "befolkning": {"a": 0, "b": 0}},
                           ruleset="sjaelland-2021")
    error = info.value.to_dict()
    assert error["regel"] == "fordeling" and "befolkning" in error["felter"]
    assert "objektiv_finansiering.yaml:" in error["message"]


@pytest.mark.parametrize("value", ["'abc'", "[1]", "{'a': 'x'}"], ids=["tekst", "liste", "kort-af-tekst"])
def test_an_output_of_the_wrong_type_is_an_engine_error(tmp_path, value):
    text = f"""\
spoergsmaal: objektiv_finansiering
titel: Forkert type
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: x
    kilde: {SOURCE}:2978 Bilag 10
    formel: "{value}"
resultat:
  fordeling: x
"""
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": text})
    engine = Engine.from_path(tmp_path)
    with pytest.raises(InvalidRuleset) as info:
        engine.evaluate("objektiv_finansiering", {"udgift": 10, "befolkning": {"a": 1}}, ruleset="test-2021")
    assert info.value.location.startswith("test-2021/objektiv_finansiering.yaml:")
    assert info.value.details == {"resultat": "fordeling"}


# --- red team: every message is a Danish sentence, never Python's own words ---------------------------

def test_a_case_number_of_5000_digits_gets_a_danish_message():
    from rammeaftale.load.casefile import parse_case_json
    with pytest.raises(InvalidCase) as info:
        parse_case_json('{"budget": %s}' % ("1" * 5000), "sagen")
    message = str(info.value)
    assert "4300 cifre" in message and "Exceeds" not in message and "set_int_max_str_digits" not in message


def test_an_overflow_at_evaluation_is_a_danish_sentence(tmp_path):
    question = f"""\
spoergsmaal: objektiv_finansiering
titel: Overløb
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: stor
    kilde: {SOURCE}:2978 Bilag 10
    formel: (udgift + 0.5) ** 99 * 1e99 * 1e99 * 1e99 * 1e99 * 1e99 * 1e99 * 1e99 * 1e99 * 1e99
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(stor, befolkning)
resultat:
  fordeling: fordeling
"""
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": question})
    with pytest.raises(InvalidCase) as info:
        Engine.from_path(tmp_path).evaluate("objektiv_finansiering", {"udgift": 10 ** 11, "befolkning": {"A": 1}},
                                            ruleset="test-2021")
    message = str(info.value)
    assert "<class" not in message and "decimal." not in message and "for stort" in message, message


@pytest.mark.parametrize("name", ["../x.txt", ".skjult.txt", "C:x.txt", "a/b.txt"])
def test_a_bad_kilder_file_name_is_explained_not_shown_as_a_regex(tmp_path, name):
    folder = write_ruleset(tmp_path)
    header = folder / "regelsaet.yaml"
    text = header.read_text("utf-8")
    assert f"fil: {SOURCE_FILE}" in text
    header.write_text(text.replace(f"fil: {SOURCE_FILE}", f"fil: '{name}'"), "utf-8")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    messages = [e.message for e in info.value.errors if "fil" in e.message]
    assert messages and all("^[" not in m and "\\x00" not in m for m in messages), messages
    assert any("filnavn" in m for m in messages), messages
