"""Case data that decides who pays: names, years, the decimal context and the size of a case.

Each test is written from the rule in docs/api.md ("Sagsdata"), not from output.
"""

from __future__ import annotations

import decimal
import json
import subprocess
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.errors import InvalidCase
from rammeaftale.load.casefile import MAX_CASE_BYTES
from rammeaftale.model.catalogue import catalogue

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
    "beslutningsdato": "2021-06-01", "budget": 20000000, "aarsresultat": -4000000, "overfoert_resultat": -1000000,
    "omsaetning": {"Vejle": {"2019": 165000, "2020": 165000}, "Kolding": {"2019": 335000, "2020": 335000}},
    "belaegningsdage": {"Vejle": {"2020": 730}, "Kolding": {"2020": 1825}},
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.default()


def _lukning(engine: Engine, ruleset: str = "syddanmark-2021", **changes):
    return engine.evaluate("lukning", {**BASE, **changes}, ruleset=ruleset, trace=False)


def _refused(engine: Engine, ruleset: str = "syddanmark-2021", **changes) -> InvalidCase:
    with pytest.raises(InvalidCase) as info:
        _lukning(engine, ruleset, **changes)
    assert info.value.to_dict()["kind"] == "invalid_case"
    return info.value


# --- A1: names are normalised, and keys that are the same name are refused ----------------

@pytest.mark.parametrize("name", ["Vejle ", " Vejle", "\tVejle\n"])
def test_driftsherre_with_surrounding_whitespace_finds_the_kommune(engine, name):
    plain = _lukning(engine).output["driftsherre_i_alt"]
    assert _lukning(engine, driftsherre=name).output["driftsherre_i_alt"] == plain


def test_nfc_and_nfd_spellings_are_the_same_kommune(engine):
    nfc, nfd = "Tårnby", unicodedata.normalize("NFD", "Tårnby")
    assert nfc != nfd
    omsaetning = {nfd: {"2019": 100, "2020": 100}, "Kolding": {"2019": 300, "2020": 300}}
    result = _lukning(engine, driftsherre=nfc, omsaetning=omsaetning)
    assert nfc in result.output["fordeling"]
    assert result.output["driftsherre_i_alt"] > result.output["selvrisiko"]


def test_map_keys_are_stripped():
    values = catalogue()["objektiv_finansiering"].coerce_case({"udgift": 1, "befolkning": {" Vejle ": 1}})
    assert list(values["befolkning"]) == ["Vejle"]


@pytest.mark.parametrize("keys", [("Vejle", "vejle"), ("Vejle", "Vejle "), ("Tårnby", unicodedata.normalize("NFD", "Tårnby")),
                                  ("VEJLE", "vejle")], ids=["case", "whitespace", "nfd", "upper"])
def test_keys_that_are_one_name_are_invalid_case_naming_the_path(engine, keys):
    a, b = keys
    omsaetning = {a: {"2019": 1, "2020": 1}, b: {"2019": 2, "2020": 2}}
    error = _refused(engine, omsaetning=omsaetning)
    assert error.path in {f"omsaetning.{unicodedata.normalize('NFC', k).strip()}" for k in keys}, error.path


def test_colliding_population_keys_are_refused(engine):
    with pytest.raises(InvalidCase) as info:
        engine.evaluate("objektiv_finansiering", {"udgift": 100, "befolkning": {"Vejle": 1, "vejle": 1}},
                        ruleset="sjaelland-2021")
    assert info.value.path in ("befolkning.Vejle", "befolkning.vejle")


# --- A2: the driftsherre must be in the allocation key where its share is added ----------------

@pytest.mark.parametrize("ruleset", ["syddanmark-2021", "syddanmark-2025", "sjaelland-2021"])
def test_a_driftsherre_outside_the_key_is_invalid_case_not_zero(engine, ruleset):
    error = _refused(engine, ruleset, driftsherre="Fredericia")
    assert error.path == "driftsherre"
    assert "driftsherre skal være en af kommunerne" in error.message


@pytest.mark.parametrize("ruleset", ["syddanmark-2021", "sjaelland-2021"])
def test_a_driftsherre_differing_only_in_case_is_refused(engine, ruleset):
    assert _refused(engine, ruleset, driftsherre="vejle").path == "driftsherre"


def test_a_regional_driftsherre_outside_any_key_is_fine_where_nothing_is_allocated(engine):
    result = _lukning(engine, driftsherre="Region Syddanmark", driftsherre_type="region")
    assert result.output["fordeling"] == {}


def test_an_empty_driftsherre_is_refused(engine):
    assert _refused(engine, driftsherre="   ").path == "driftsherre"


# --- A3: year keys are whole years -------------------------------------------------------------

@pytest.mark.parametrize("year", [" 2019", "2019 ", "2019.0", "19", "år2019", "2019-01", "", "٢٠١٩", "1e3", "02019"])
def test_a_year_key_that_is_not_a_whole_year_is_invalid_case_naming_the_path(engine, year):
    omsaetning = {"Vejle": {year: 165000, "2020": 165000}, "Kolding": {"2019": 335000, "2020": 335000}}
    error = _refused(engine, omsaetning=omsaetning)
    assert error.path in (f"omsaetning.Vejle.{year}", "omsaetning.Vejle"), error.path


def test_year_keys_in_occupancy_days_are_checked_too(engine):
    error = _refused(engine, "sjaelland-2021", belaegningsdage={"Vejle": {"2020.0": 1}, "Kolding": {"2020": 1}})
    assert error.path == "belaegningsdage.Vejle.2020.0"


def test_integer_year_keys_from_python_or_yaml_are_years(engine):
    omsaetning = {"Vejle": {2019: 165000, 2020: 165000}, "Kolding": {2019: 335000, 2020: 335000}}
    assert _lukning(engine, omsaetning=omsaetning).output == _lukning(engine).output


# --- A4: the caller's decimal context changes nothing ------------------------------------------

CASES = [
    ("lukning", {**BASE, "aarsresultat": "-4000000.123456789", "budget": "19999999.99"}, "syddanmark-2021"),
    ("lukning", {**BASE, "budget": "abc"}, "syddanmark-2021"),
    ("lukning", {**BASE, "budget": "1e999999999"}, "syddanmark-2021"),
    ("objektiv_finansiering", {"udgift": "1000000.01", "befolkning": {"A": 3, "B": 7, "C": 11}}, "sjaelland-2021"),
    ("kapacitet", {"pladser": "40.0", "nye_pladser": 42}, "syddanmark-2021"),
]


def _outcome(engine: Engine, question, case, ruleset):
    try:
        return json.dumps(engine.evaluate(question, case, ruleset=ruleset, trace=False).to_dict(), sort_keys=True)
    except InvalidCase as exc:
        return exc.to_dict()


@pytest.mark.parametrize("question, case, ruleset", CASES, ids=[f"{q}-{i}" for i, (q, _, _) in enumerate(CASES)])
def test_the_callers_decimal_context_does_not_change_coercion_or_results(engine, question, case, ruleset):
    expected = _outcome(engine, question, case, ruleset)
    spec = catalogue()[question]
    try:
        coerced = spec.coerce_case(case)
    except InvalidCase as exc:
        coerced = exc.to_dict()
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        ctx.rounding = decimal.ROUND_DOWN
        ctx.traps[decimal.InvalidOperation] = False
        ctx.Emax = 10
        assert _outcome(engine, question, case, ruleset) == expected
        try:
            again = spec.coerce_case(case)
        except InvalidCase as exc:
            again = exc.to_dict()
        assert again == coerced


# --- A5: a maximum case size ------------------------------------------------------------------

def _evaluate_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rammeaftale", "evaluate", "opsigelse", *args,
                           "--ruleset", "syddanmark-2021", "--json"], capture_output=True, input=stdin,
                          timeout=60, cwd=ROOT)


def test_an_oversize_case_file_is_refused_naming_the_limit(tmp_path):
    path = tmp_path / "stor.json"
    with path.open("wb") as handle:             # sparse: refused from its size, never read
        handle.truncate(50 * MAX_CASE_BYTES)
    done = _evaluate_cli("--case", str(path))
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "invalid_case" and f"{MAX_CASE_BYTES:,}".replace(",", ".") in error["message"]


def test_an_oversize_case_on_stdin_is_refused():
    text = b'{"paragraf": "SEL 107", "opsigelsesdato": "2021-03-01", "x": "' + b"y" * MAX_CASE_BYTES + b'"}'
    done = _evaluate_cli("--case", "-", stdin=text)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert "for stor" in json.loads(done.stdout)["error"]["message"]


def test_a_case_just_under_the_limit_is_read(tmp_path):
    case = {"paragraf": "SEL 107", "opsigelsesdato": "2021-03-01"}
    text = json.dumps(case)
    path = tmp_path / "sag.json"
    path.write_text(text + " " * (MAX_CASE_BYTES - len(text) - 1), "utf-8")
    done = _evaluate_cli("--case", str(path))
    assert done.returncode == 0, done.stdout
