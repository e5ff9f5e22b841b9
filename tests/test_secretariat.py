"""What the secretariat uses besides validate: Danish help, the catalogue, templates, ny-periode, editor schemas."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.cli import main
from rammeaftale.errors import InvalidCase
from rammeaftale.model.catalogue import catalogue
from rammeaftale.model.labels import label
from rammeaftale.run.api import embedded_rulesets
from rammeaftale.tools import editor
from rammeaftale.tools.scaffold import new_period, retitle

from .helpers import write_ruleset

ROOT = Path(__file__).resolve().parents[1]


def test_help_and_argument_errors_are_danish(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("brug: rammeaftale") and "vis denne hjælp og afslut" in out and "tilvalg:" in out
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "fejl: disse argumenter mangler: SPØRGSMÅL, --case" in err
    with pytest.raises(SystemExit):
        main(["ny-periode", "a", "b", "--fra", "01.01.2027", "--til", "2028-12-31"])
    assert "--fra: ugyldig værdi '01.01.2027' (forventede en dato som ÅÅÅÅ-MM-DD)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["findes-ikke"])
    assert "ukendt valg 'findes-ikke'" in capsys.readouterr().err


def test_every_option_has_danish_help():
    from rammeaftale.cli import build_parser
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = [f"{name} {action.dest}" for name, sub in commands.choices.items() for action in sub._actions
               if action.help is None]
    assert not missing


def test_spoergsmaal_lists_every_question_and_one_in_detail(capsys):
    assert main(["spoergsmaal"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in catalogue())
    assert main(["spoergsmaal", "opsigelse"]) == 0
    out = capsys.readouterr().out
    assert "Opsigelsesdato (påkrævet)" in out and "dato (ÅÅÅÅ-MM-DD)" in out and "Dato for opsigelsen" in out
    assert "Sidste betalingsdag" in out


def test_spoergsmaal_json_has_the_input_and_output_schemas(capsys):
    assert main(["spoergsmaal", "lukning", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_schema"] == json.loads(json.dumps(catalogue()["lukning"].json_schema()))
    assert data["output_schema"] == json.loads(json.dumps(catalogue()["lukning"].output_json_schema()))
    assert {f["navn"] for f in data["input"]} == set(catalogue()["lukning"].inputs)


def test_skabelon_gives_a_case_that_names_what_to_fill_in(tmp_path, capsys):
    assert main(["skabelon", "opsigelse"]) == 0
    captured = capsys.readouterr()
    case = json.loads(captured.out)
    assert set(case) == {"paragraf", "opsigelsesdato"} and "UDFYLD" in case["opsigelsesdato"]
    assert "Valgfri felter" in captured.err
    path = tmp_path / "sag.json"
    path.write_text(captured.out, "utf-8")
    assert main(["evaluate", "opsigelse", "--case", str(path), "--ruleset", "syddanmark-2021"]) == 1
    assert "Fejl i sagen" in capsys.readouterr().err          # not filled in: a case error, no traceback
    assert main(["skabelon", "lukning", "--alle"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(catalogue()["lukning"].inputs)


def test_unknown_question_is_a_danish_error(capsys):
    assert main(["skabelon", "findes_ikke"]) == 1
    assert "ukendt spørgsmål 'findes_ikke'" in capsys.readouterr().err


def test_labels_are_danish_words():
    assert label("fri_aendring") == "Fri ændring"
    assert label("medfoelgende_boern") == "Medfølgende børn"
    assert label("aarsresultat") == "Årsresultat"
    for q in catalogue().values():
        for name in [*q.inputs, *q.outputs]:
            assert "_" not in label(name)


# --- ny-periode ------------------------------------------------------------------------------------

def test_ny_periode_retitles_writes_schema_lines_and_lists_numbers_in_prose(tmp_path):
    src = tmp_path / "src"
    write_ruleset(src, id="t-2021", extra_header="beskrivelse: Selvrisikoen er 5 % af budgettet.\n")
    header = src / "t-2021" / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace("navn: Testaftale", "navn: Testaftale 2021-2022"), "utf-8")
    out = tmp_path / "out"
    made = new_period(Engine.from_path(src), "t-2021", "t-2023", dt.date(2023, 1, 1), dt.date(2024, 12, 31), out)
    text = (made.folder / "regelsaet.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=../.skema/ruleset.schema.json\n")
    assert 'navn: "Testaftale 2023-2024"' in text and "navn: Testaftale 2021" not in text
    assert (made.folder / "objektiv_finansiering.yaml").read_text("utf-8").startswith(
        "# yaml-language-server: $schema=../.skema/question.schema.json\n")
    assert json.loads((out / ".skema" / "question.schema.json").read_text("utf-8")) == editor.bundled(
        "question.schema.json")
    assert any("sats = 0.05 står også i teksten (t-2023/regelsaet.yaml:" in n for n in made.notes)
    # change the parameter, keep the prose: validate warns where the old number still stands
    text = text.replace("vaerdi: 0.05", "vaerdi: 0.06")
    (made.folder / "regelsaet.yaml").write_text(text, "utf-8")
    engine = Engine.from_path(src, out)
    from rammeaftale.tools.scaffold import validation_warnings
    assert any("teksten nævner stadig 0.05, den gamle værdi af sats" in w for w in validation_warnings(engine))


def test_retitle_keeps_the_name_and_changes_the_years():
    ruleset = Engine.default().ruleset("syddanmark-2021")
    assert retitle(ruleset, dt.date(2027, 1, 1), dt.date(2028, 12, 31)) == "Rammeaftale Syddanmark 2027-2028"


def test_ny_periode_refuses_to_write_into_an_installed_package(tmp_path, monkeypatch):
    from rammeaftale.tools import scaffold
    src = tmp_path / "src"
    write_ruleset(src, id="t-2021")
    monkeypatch.setattr(scaffold, "installed", lambda folder: folder == src)
    with pytest.raises(InvalidCase, match="installeret pakke.*--mappe"):
        new_period(Engine.from_path(src), "t-2021", "t-2023", dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    assert not (src / "t-2023").exists()


def test_site_packages_counts_as_installed(tmp_path):
    from rammeaftale.tools.scaffold import installed
    assert installed(tmp_path / "lib" / "python3.11" / "site-packages" / "rammeaftale_rulesets")
    assert not installed(tmp_path)


# --- editor schemas -----------------------------------------------------------------------------------

def test_the_published_schemas_are_current_and_self_contained():
    for name in editor.SCHEMA_NAMES:
        published = embedded_rulesets() / editor.SCHEMA_FOLDER / name
        assert published.read_text("utf-8") == editor.schema_text(name), f"kør: rammeaftale skema --mappe rulesets"
        assert "$id" not in published.read_text("utf-8") and "rammeaftale-engine/" not in published.read_text("utf-8")


def test_the_bundled_schemas_accept_every_shipped_file_as_the_engine_does():
    import jsonschema
    from rammeaftale.load.schemas import _plain
    from rammeaftale.load.yamlload import load_file
    validators = {n: jsonschema.Draft202012Validator(editor.bundled(n)) for n in editor.SCHEMA_NAMES}
    for path in embedded_rulesets().glob("*/*.yaml"):
        name = "ruleset.schema.json" if path.name == "regelsaet.yaml" else "question.schema.json"
        assert not list(validators[name].iter_errors(_plain(load_file(path).data))), path
    bad = {"id": "x", "region": "x", "navn": "xyz", "gyldig_fra": "01.01.2025", "gyldig_til": "2025-12-31",
           "status": "vedtaget", "maanedsregel": "afkort", "kilder": [{"fil": "a.txt", "titel": "A"}]}
    assert list(validators["ruleset.schema.json"].iter_errors(bad))


def test_vscode_settings_name_the_published_schemas():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text("utf-8"))
    assert all((ROOT / schema).is_file() for schema in settings["yaml.schemas"])


# --- the demo -----------------------------------------------------------------------------------------

def test_the_demo_reads_like_a_caseworkers_page(capsys):
    import re
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    sections = [s for s in out.split("=" * 78) if s.strip().startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ"))
                and "\nSag: " in s]
    assert len(sections) == len({s.splitlines()[1].split(":")[0].split(" – ")[0] for s in sections}) >= 10
    drafts = [i for i, s in enumerate(sections) if "UDKAST" in s.splitlines()[1]]
    assert drafts == list(range(len(sections) - len(drafts), len(sections)))     # drafts last, marked
    assert "1.320.000" in out or re.search(r"\d{1,3}(\.\d{3})+,\d\d kr\.", out)
    assert not re.search(r"(?<![\d.])\d{4,},\d\d(?!\d)", out), "beløb uden tusindtalspunktum"
    assert not re.search(r"\b0,\d{3,}\b", out), "brøker i stedet for procenter"
    assert re.search(r"\d+,\d\d %", out) and re.search(r"\b\d\d\.\d\d\.\d{4}\b", out)
    labels = [line.split(":")[0].strip() for line in out.splitlines() if line.startswith("  ") and ":" in line]
    assert not [label for label in labels if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", label)]
    assert out.rstrip().splitlines()[-2].endswith("0 failed")


def test_brug_md_describes_every_command_in_danish():
    from rammeaftale.cli import build_parser
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = (ROOT / "docs" / "brug.md").read_text("utf-8")
    assert [name for name in commands.choices if f"## `{name}`" not in text] == []
    assert text.startswith("# Kommandolinjen") and ".venv/bin/rammeaftale" in text
