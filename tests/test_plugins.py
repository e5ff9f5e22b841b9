"""Plugins (pluggy): discovery, isolation of broken plugins, and the two shipped plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from rammeaftale import Engine
from rammeaftale.run.plugins import PLUGIN_DIR, discover

from .helpers import SOURCE, write_ruleset

ROOT = Path(__file__).resolve().parents[1]

PLUGINS = {
    "good.py": """
        from rammeaftale.plugin_api import hookimpl

        @hookimpl
        def rammeaftale_functions():
            return {"dobbelt": lambda x: x * 2}

        @hookimpl
        def rammeaftale_formatters():
            return {"kort": lambda result: result["ruleset"] + "\\n"}
    """,
    "broken.py": "raise ImportError('dette plugin er i stykker')\n",
    "badhook.py": """
        from rammeaftale.plugin_api import hookimpl

        @hookimpl
        def rammeaftale_functions():
            raise RuntimeError('hook fejler')
    """,
    "shadow.py": """
        from rammeaftale.plugin_api import hookimpl

        @hookimpl
        def rammeaftale_functions():
            return {"fordel": lambda *a: 0, "udgift": lambda: 0}
    """,
    "_private.py": "raise SystemExit('must never be imported')\n",
}

DOUBLE = f"""\
spoergsmaal: objektiv_finansiering
titel: Dobbelt udgift via plugin-funktion (testregel)
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(dobbelt(udgift), befolkning)
resultat:
  fordeling: fordeling
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "plugins"
    target.mkdir()
    for name, text in PLUGINS.items():
        (target / name).write_text(textwrap.dedent(text), "utf-8")
    return target


def test_broken_plugins_are_reported_by_name_not_fatal(folder: Path) -> None:
    found = discover([folder], entry_points=False)
    assert sorted(p.name for p in found.loaded) == ["badhook", "good", "shadow"]
    functions = found.functions
    assert set(functions) == {"dobbelt"} and functions["dobbelt"](Decimal(2)) == 4
    failed = {f["name"] for f in found.failures}
    assert {"broken", "badhook", "fordel", "udgift"} <= failed
    assert found.formatters["kort"]({"ruleset": "x"}) == "x\n"
    report = found.report()
    assert report["functions"] == ["dobbelt"] and report["formatters"] == ["kort"] and report["failures"]


def test_shipped_plugins_load() -> None:
    found = discover([PLUGIN_DIR], entry_points=False)
    assert {p.name for p in found.loaded} >= {"prisindeks", "html_rapport"}
    assert {"prisindeks_faktor", "til_prisniveau"} <= set(found.functions)
    assert "html" in found.formatters and not found.failures


def test_a_misspelled_hook_is_a_failure_not_silently_ignored(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(textwrap.dedent("""
        from rammeaftale.plugin_api import hookimpl

        @hookimpl
        def rammeaftale_functoins():
            return {"dobbelt": lambda x: x * 2}
    """), "utf-8")
    found = discover([tmp_path], entry_points=False)
    assert [p.name for p in found.loaded] == []
    assert any(f["name"] == "typo" and "rammeaftale_functoins" in f["error"] for f in found.failures)


def test_two_engines_with_different_plugins_do_not_see_each_others_functions(folder: Path, tmp_path: Path) -> None:
    write_ruleset(tmp_path / "rs", {"objektiv_finansiering.yaml": DOUBLE}, id="t-2021")
    with_plugin = Engine.from_path(tmp_path / "rs", plugins=discover([folder], entry_points=False))
    case = {"udgift": "100", "befolkning": {"Vejle": 1}}
    assert with_plugin.evaluate("objektiv_finansiering", case, ruleset="t-2021").output["fordeling"] == {
        "Vejle": Decimal("200.00")}
    from rammeaftale import RulesetErrors
    with pytest.raises(RulesetErrors, match="ukendt funktion 'dobbelt'"):
        Engine.from_path(tmp_path / "rs")            # no plugins given: none used, none leaked
    # and the first engine still answers after the second failed to load
    assert with_plugin.evaluate("objektiv_finansiering", case, ruleset="t-2021").output["fordeling"] == {
        "Vejle": Decimal("200.00")}


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rammeaftale", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=env or _env())


def test_cli_lists_plugins_and_failures(folder: Path) -> None:
    done = _cli("plugins", "--json", env=_env(RAMMEAFTALE_PLUGINS=str(folder)))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    names = {p["name"] for p in data["plugins"]}
    assert {"good", "prisindeks", "html_rapport"} <= names
    assert "broken" in {f["name"] for f in data["failures"]}
    text = _cli("plugins", env=_env(RAMMEAFTALE_PLUGINS=str(folder))).stdout
    assert "FEJL i plugin 'broken'" in text and "dobbelt" in text


def test_plugin_function_in_a_rule_and_plugin_formatter(folder: Path, tmp_path: Path) -> None:
    rulesets = tmp_path / "rs"
    write_ruleset(rulesets, {"objektiv_finansiering.yaml": DOUBLE}, id="t-2021")
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"udgift": "50", "befolkning": {"Vejle": 1}}), "utf-8")
    env = _env(RAMMEAFTALE_PLUGINS=str(folder))
    base = ["--rulesets", str(rulesets), "evaluate", "objektiv_finansiering", "--case", str(case),
            "--ruleset", "t-2021"]
    done = _cli(*base, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"]["fordeling"] == {"Vejle": "100.00"}
    assert _cli(*base, "--format", "kort", env=env).stdout == "t-2021\n"
    page = _cli(*base, "--format", "html", env=env).stdout
    assert page.startswith("<!DOCTYPE html>") and "100.00" in page and "Vejle" in page
    unknown = _cli(*base, "--format", "findes-ikke", "--json", env=env)
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["error"]["kind"] == "invalid_case"
    # without the plugin the rule cannot compile: the function really came from the plugin
    assert _cli(*base, env=_env(RAMMEAFTALE_NO_PLUGINS="1")).returncode != 0


def test_entry_point_plugins_are_found(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "fakeplug-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 0.1\n", "utf-8")
    (info / "entry_points.txt").write_text("[rammeaftale]\nfakeplug = fakeplug_mod\n", "utf-8")
    (site / "fakeplug_mod.py").write_text(textwrap.dedent(PLUGINS["good.py"]), "utf-8")
    done = _cli("plugins", "--json", env=_env(PYTHONPATH=str(site)))
    plugin = next(p for p in json.loads(done.stdout)["plugins"] if p["name"] == "fakeplug")
    assert plugin["origin"].startswith("entry point") and "dobbelt" in json.loads(done.stdout)["functions"]


def test_entry_points_are_read_as_importlib_metadata_reads_them(tmp_path: Path, monkeypatch) -> None:
    """The CLI reads entry_points.txt itself (importlib.metadata costs 20-150 ms to import): same answer."""
    from importlib import metadata
    from rammeaftale.run.plugins import _entry_points, _scan_entry_points

    def dist(where: Path, folder: str, text: str | None) -> None:
        info = where / folder
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {folder.split('-')[0]}\nVersion: 1\n", "utf-8")
        if text is not None:
            (info / "entry_points.txt").write_text(text, "utf-8")

    first, second = tmp_path / "a", tmp_path / "b"
    dist(first, "other-1.0.dist-info", "[console_scripts]\nother = other:main\n")
    dist(first, "Shadow.Pkg-1.0.dist-info", None)                           # declares nothing, but is first
    dist(first, "plug-2.0.dist-info", "# kommentar\n[rammeaftale]\n  p1 = pkg.mod : obj.attr [extra]\n"
                                      "p2=pkg\n\n[andet]\nx = y\n")
    dist(second, "shadow_pkg-2.0.dist-info", "[rammeaftale]\nskygge = skygge\n")
    dist(second, "old.egg-info", "[rammeaftale]\ngammel = gammel_mod\n")
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "findes-ikke")])
    expected = [(ep.name, ep.value) for ep in metadata.entry_points(group="rammeaftale")]
    assert _scan_entry_points() == expected == [("p1", "pkg.mod : obj.attr [extra]"), ("p2", "pkg"),
                                               ("gammel", "gammel_mod")]
    zipped = tmp_path / "lib.zip"
    zipped.write_bytes(b"")
    monkeypatch.setattr(sys, "path", [str(first), str(zipped)])
    assert _scan_entry_points() is None                 # a zip on the path: left to importlib.metadata
    assert _entry_points() == [(ep.name, ep.value) for ep in metadata.entry_points(group="rammeaftale")]


def test_an_entry_point_value_loads_like_importlib_metadata(tmp_path: Path, monkeypatch) -> None:
    from rammeaftale.run.plugins import _load_entry_point
    (tmp_path / "ep_pakke").mkdir()
    (tmp_path / "ep_pakke" / "__init__.py").write_text("class Obj:\n    attr = 42\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _load_entry_point("ep_pakke : Obj.attr [extra]") == 42
    assert _load_entry_point("ep_pakke").__name__ == "ep_pakke"
    with pytest.raises(ValueError):
        _load_entry_point("ikke gyldig!")


# --- the price-index plugin -----------------------------------------------------------

SYNTHETIC = """\
# SYNTETISKE TESTTAL — ikke rigtige P/L-indeks.
kilde: syntetiske testtal
indeks:
  2024: 100
  2025: 104.0
"""


def test_price_index_with_synthetic_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "syntetisk.yaml"
    table.write_text(SYNTHETIC, "utf-8")
    monkeypatch.setenv("RAMMEAFTALE_PRISINDEKS", str(table))
    funcs = discover([PLUGIN_DIR], entry_points=False).functions
    assert funcs["prisindeks_faktor"](2024, 2025) == Decimal("1.04")
    assert funcs["til_prisniveau"](Decimal("1000.005"), 2024, 2025) == Decimal("1040.01")
    with pytest.raises(ValueError, match="intet indekstal for 2030"):
        funcs["prisindeks_faktor"](2024, 2030)


def test_shipped_price_index_table_is_empty_and_says_so() -> None:
    from rammeaftale.load.yamlload import load_file
    data = load_file(PLUGIN_DIR / "prisindeks.yaml").data
    assert data["indeks"] == {}          # no invented values: the secretariat fills the table in


def test_price_index_in_a_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "syntetisk.yaml"
    table.write_text(SYNTHETIC, "utf-8")
    monkeypatch.setenv("RAMMEAFTALE_PRISINDEKS", str(table))
    rule = DOUBLE.replace("dobbelt(udgift)", "til_prisniveau(udgift, 2024, 2025)")
    write_ruleset(tmp_path / "rs", {"objektiv_finansiering.yaml": rule}, id="t-2021")
    plugins = discover([PLUGIN_DIR], entry_points=False)
    result = Engine.from_path(tmp_path / "rs", plugins=plugins).evaluate("objektiv_finansiering",
                                                       {"udgift": "100", "befolkning": {"Vejle": 1}}, ruleset="t-2021")
    assert result.output["fordeling"] == {"Vejle": Decimal("104.00")}


def test_ruleset_sources_from_a_plugin(tmp_path: Path) -> None:
    try:
        Engine.default()
    except Exception as exc:  # noqa: BLE001 - the embedded rulesets are edited by others
        pytest.skip(f"de indbyggede regelsæt indlæses ikke lige nu: {exc}")
    extra = tmp_path / "ekstra"
    write_ruleset(extra, id="plugintest-2021", region="plugintest")
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "kilde.py").write_text(textwrap.dedent(f"""
        from rammeaftale.plugin_api import hookimpl

        @hookimpl
        def rammeaftale_ruleset_sources():
            return [{str(extra)!r}, {str(tmp_path / 'findes-ikke')!r}]
    """), "utf-8")
    env = _env(RAMMEAFTALE_PLUGINS=str(folder))
    listed = json.loads(_cli("list", "--json", env=env).stdout)
    assert "plugintest-2021" in {r["id"] for r in listed}
    failures = json.loads(_cli("plugins", "--json", env=env).stdout)["failures"]
    assert any(f["name"] == "kilde" and "findes ikke" in f["error"] for f in failures)


STEP_PLUGIN = """
    from decimal import Decimal
    from rammeaftale.plugin_api import hookimpl

    def andel(params):
        navn, sats = params["af"], Decimal(str(params["sats"]))
        if not 0 <= sats <= 1:
            raise ValueError("sats skal ligge mellem 0 og 1")
        def run(values):
            if values[navn] > 10**9:
                raise ValueError("for stort beløb til testklodsen")
            return values[navn] * sats
        run.reads = (navn,)
        return run

    @hookimpl
    def rammeaftale_step_kinds():
        return {"andel": andel}
"""

STEP_RULE = f"""\
spoergsmaal: objektiv_finansiering
titel: Halv udgift via en plugin-byggeklods (testregel)
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: halvdel
    kilde: {SOURCE}:2978 Bilag 10
    blok: {{type: andel, af: udgift, sats: {{SATS}}}}
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(halvdel, befolkning)
resultat:
  fordeling: fordeling
"""


def test_plugin_building_block_in_a_rule(tmp_path: Path) -> None:
    plugin_dir = tmp_path / "plug"
    plugin_dir.mkdir()
    (plugin_dir / "klods.py").write_text(textwrap.dedent(STEP_PLUGIN), "utf-8")
    env = _env(RAMMEAFTALE_PLUGINS=str(plugin_dir))

    def run(sats: str, udgift: str) -> subprocess.CompletedProcess[str]:
        rulesets = tmp_path / f"rs-{sats}-{udgift}"
        write_ruleset(rulesets, {"q.yaml": STEP_RULE.replace("{SATS}", sats)}, id="t-2021")
        case = tmp_path / f"case-{udgift}.json"
        case.write_text(json.dumps({"udgift": udgift, "befolkning": {"A": 1, "B": 1}}), "utf-8")
        return _cli("--rulesets", str(rulesets), "evaluate", "objektiv_finansiering", "--case", str(case),
                    "--ruleset", "t-2021", "--json", env=env)

    done = run("0.5", "100")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["output"]["fordeling"] == {"A": "25.00", "B": "25.00"}
    assert result["trace"][0]["kind"] == "blok" and result["trace"][0]["values"] == {"udgift": "100"}
    bad_params = run("2", "100")
    assert bad_params.returncode == 1 and "sats skal ligge mellem 0 og 1" in bad_params.stdout
    assert json.loads(bad_params.stdout)["error"]["kind"] == "invalid_ruleset"
    bad_value = json.loads(run("0.5", "2000000000").stdout)["error"]
    assert bad_value["kind"] == "invalid_case" and "for stort beløb" in bad_value["message"]
    without = _cli("--rulesets", str(tmp_path / "rs-0.5-100"), "validate", env=_env(RAMMEAFTALE_NO_PLUGINS="1"))
    assert without.returncode == 1 and "ukendt byggeklods 'andel'" in without.stderr


def test_batch_workers_use_the_command_lines_plugins(folder: Path, tmp_path: Path) -> None:
    """Pool processes build their own engine; they must get the same plugins as the command."""
    rulesets = tmp_path / "rs"
    write_ruleset(rulesets, {"objektiv_finansiering.yaml": DOUBLE}, id="t-2021")
    rows = tmp_path / "ind.jsonl"
    rows.write_text("".join(json.dumps({"id": i, "ruleset": "t-2021",
                                        "case": {"udgift": "100", "befolkning": {"Vejle": 1}}}) + "\n"
                            for i in range(300)), "utf-8")
    out = tmp_path / "ud.jsonl"
    done = _cli("--rulesets", str(rulesets), "batch", "objektiv_finansiering", "--input", str(rows),
                "--output", str(out), "--workers", "2", env=_env(RAMMEAFTALE_PLUGINS=str(folder)))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == 300 and all(line["output"]["fordeling"] == {"Vejle": "200.00"} for line in lines)


def test_concurrent_in_process_batches_do_not_share_a_worker(tmp_path: Path) -> None:
    import threading

    from rammeaftale.tools import batch
    write_ruleset(tmp_path / "rs", id="t-2021")
    engine = Engine.from_path(tmp_path / "rs")
    results: dict[int, list] = {}

    def go(n: int) -> None:
        items = [(i, "json", json.dumps({"id": f"{n}-{i}", "ruleset": "t-2021",
                                         "case": {"udgift": str(100 * (n + 1)), "befolkning": {"A": 1}}}))
                 for i in range(200)]
        results[n] = list(batch.run("objektiv_finansiering", items, engine=engine))

    threads = [threading.Thread(target=go, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, lines in results.items():
        assert all(line["output"]["fordeling"] == {"A": f"{100 * (n + 1)}.00"} for line in lines), n
