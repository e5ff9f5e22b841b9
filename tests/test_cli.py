"""The command line, run as a user or another system runs it."""

import json
import subprocess
import sys

from rammeaftale import Engine

from .helpers import QUESTION, write_ruleset


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "rammeaftale", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)


CASE = {"paragraf": "SEL § 108", "opsigelsesdato": "2021-01-14", "ophoersdato": "2021-01-14"}


def test_evaluate_json_is_exactly_to_dict(tmp_path):
    path = tmp_path / "sag.json"
    path.write_text(json.dumps(CASE))
    proc = run("evaluate", "opsigelse", "--case", str(path), "--ruleset", "syddanmark-2021", "--json")
    assert proc.returncode == 0, proc.stderr
    expected = Engine.default().evaluate("opsigelse", CASE, ruleset="syddanmark-2021").to_dict()
    assert json.loads(proc.stdout) == expected


def test_evaluate_text_is_danish_with_amounts_in_kroner(tmp_path):
    case = {"driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
            "beslutningsdato": "2021-05-01", "budget": 20000000, "aarsresultat": -4000000,
            "overfoert_resultat": -1000000, "omsaetning": {"Vejle": {"2019": 33}, "Odense": {"2020": 67}}}
    proc = run("evaluate", "lukning", "--case", "-", "--region", "syddanmark", stdin=json.dumps(case))
    assert proc.returncode == 0, proc.stderr
    assert "driftsherre_i_alt: 2.320.000,00 kr." in proc.stdout
    assert "Sådan er resultatet fundet" in proc.stdout and "kilde: ra2021:" in proc.stdout


def test_evaluate_with_a_ruleset_and_a_region_that_disagree_is_invalid_case(tmp_path):
    """Red team: --ruleset syddanmark-2021 --region sjaelland answered from Syddanmark without a word."""
    path = tmp_path / "s30.json"
    path.write_text(json.dumps({"paragraf": "SEL § 108", "opsigelsesdato": "2030-01-14"}))
    proc = run("evaluate", "opsigelse", "--case", str(path), "--ruleset", "syddanmark-2021", "--region", "sjaelland",
               "--date", "2030-01-01", "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == "invalid_case" and error["path"] == "region"


def test_error_json_has_kind_message_path_and_nonzero_exit():
    proc = run("evaluate", "opsigelse", "--case", "-", "--ruleset", "syddanmark-2021", "--json",
               stdin=json.dumps({"paragraf": "SEL-108", "opsigelsesdato": "2021-02-30"}))
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == "invalid_case" and error["path"] == "opsigelsesdato" and error["message"]


def test_no_ruleset_error_through_cli():
    proc = run("evaluate", "opsigelse", "--case", "-", "--region", "syddanmark", "--date", "1990-01-01", "--json",
               stdin=json.dumps(CASE))
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"]["kind"] == "no_ruleset"


def test_validate_reports_file_and_line(tmp_path):
    write_ruleset(tmp_path, {"q.yaml": QUESTION.replace("fordel(udgift", "fordel(udgifter")})
    proc = run("validate", str(tmp_path))
    assert proc.returncode == 1
    assert "test-2021/q.yaml:7: ukendt navn 'udgifter'" in proc.stderr


def test_validate_embedded_is_clean():
    proc = run("validate")
    assert proc.returncode == 0 and proc.stdout.startswith("OK")


def test_validate_one_folder_finds_the_libraries_beside_it():
    from rammeaftale.run.api import embedded_rulesets
    proc = run("validate", str(embedded_rulesets() / "nordjylland-2027"))
    assert proc.returncode == 0, proc.stderr
    assert "nationale-regler, nordjylland-2027" in proc.stdout


def test_list_and_test_commands():
    listed = json.loads(run("list", "--json").stdout)
    assert any(r["id"] == "syddanmark-2021" and r["status"] == "udkast" for r in listed)
    proc = run("test")
    assert proc.returncode == 0 and " passed, 0 failed" in proc.stdout


def test_a_closed_pipe_on_stdout_ends_quietly(tmp_path):
    """Red team: `rammeaftale evaluate … --json | head -c 100` ended in a BrokenPipeError traceback."""
    case = {"driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
            "beslutningsdato": "2021-05-01", "budget": "20000000", "aarsresultat": "-4000000",
            "overfoert_resultat": "-1000000", "omsaetning": {"Vejle": {"2019": "330000"}, "Odense": {"2020": "670000"}}}
    path = tmp_path / "luk.json"
    path.write_text(json.dumps(case))
    for args in (["evaluate", "lukning", "--json", "--region", "syddanmark", "--case", str(path)],
                 ["evaluate", "lukning", "--region", "syddanmark", "--case", str(path)], ["list"]):
        proc = subprocess.Popen([sys.executable, "-m", "rammeaftale", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdout.close()                      # the reader is gone before a byte is written (as head -c exits)
        _, err = proc.communicate(timeout=120)
        assert b"Traceback" not in err and b"BrokenPipe" not in err and b"Exception ignored" not in err, err
        assert proc.returncode == 141


def test_validate_reads_the_examples_folder_as_test_does(tmp_path):
    """Red team: a FIFO, a /dev/zero symlink or a schema-invalid file in eksempler/ still gave OK
    from `validate` (only `rammeaftale test` caught it). Each is now an error with file:line."""
    import os
    import shutil
    from pathlib import Path
    folder = tmp_path / "syddanmark-2021"
    shutil.copytree(Path(__file__).resolve().parents[1] / "rulesets" / "syddanmark-2021", folder)
    examples = folder / "eksempler"
    os.mkfifo(examples / "roer.yaml")
    (examples / "nul.yaml").symlink_to("/dev/zero")
    (examples / "skema.yaml").write_text("eksempler:\n  - navn: x\n    ukendt: 1\n", "utf-8")
    proc = run("validate", str(folder), "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    locations = {e["location"] for e in json.loads(proc.stdout)["errors"]}
    assert {"syddanmark-2021/eksempler/roer.yaml:1", "syddanmark-2021/eksempler/nul.yaml:1",
            "syddanmark-2021/eksempler/skema.yaml:3"} <= locations, locations
