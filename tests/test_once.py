"""Each piece of knowledge written once: the step kinds, the compiled rules' source, the value formatter."""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest

from rammeaftale import Engine
from rammeaftale.formula.dates import Frist
from rammeaftale.load import schemas
from rammeaftale.model import compiler, values
from rammeaftale.model.kinds import STEP_KINDS, kind_of
from rammeaftale.model.steps import Table, Variants
from rammeaftale.run.registry import Registry
from rammeaftale.run.result import dump
from rammeaftale.tools import report, rulemap
from rammeaftale.tools.diff import diff, render_text
from rammeaftale.tools.report import Sources, render_ruleset
from rammeaftale.tools.scaffold import unverified

from .helpers import SOURCE, write_ruleset
from .test_plugins import STEP_PLUGIN

EMBEDDED = Path(__file__).resolve().parents[1] / "rulesets"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_path(EMBEDDED)


# --- 1. one table of step kinds ------------------------------------------------------------

def test_schema_oneof_lists_exactly_the_table_of_kinds() -> None:
    raw = json.loads((schemas.SCHEMA_DIR / "question.schema.json").read_text("utf-8"))
    choices = raw["$defs"]["trin"]["items"]["oneOf"]
    assert [c["required"] for c in choices] == [[k] for k in STEP_KINDS]
    assert schemas.step_kinds() == tuple(STEP_KINDS)
    # every kind is also a property of a step, so additionalProperties lets it through
    assert set(STEP_KINDS) <= set(raw["$defs"]["trin"]["items"]["properties"])


def test_compiler_and_report_dispatch_cover_exactly_the_table() -> None:
    assert set(compiler._COMPILE) == set(STEP_KINDS)
    assert set(report._BODIES) == set(STEP_KINDS)
    assert kind_of({"id": "x", "formel": "1"}) == "formel" and kind_of({"id": "x"}) is None


def test_every_compiled_step_is_the_runtime_class_its_kind_names(engine: Engine) -> None:
    def walk(steps):
        for step in steps:
            yield step
            if isinstance(step, Variants):
                for variant in step.variants.values():
                    yield from walk(variant.steps)

    seen = set()
    for ruleset in engine.rulesets():
        for question in ruleset.questions.values():
            for step in walk(question.steps):
                assert type(step) is STEP_KINDS[step.meta.kind].runtime
                assert kind_of(step.meta.source) == step.meta.kind
                seen.add(step.meta.kind)
    assert seen >= {"formel", "tabel", "kraev", "varianter"}


def test_schema_error_names_the_kinds_from_the_schema(tmp_path: Path) -> None:
    from rammeaftale.errors import RulesetErrors
    bad = f"""\
spoergsmaal: objektiv_finansiering
titel: To slags på én gang
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(udgift, befolkning)
    advarsel: Dette trin har to slags
resultat:
  fordeling: fordeling
"""
    write_ruleset(tmp_path, {"objektiv_finansiering.yaml": bad}, id="t-2021")
    with pytest.raises(RulesetErrors) as info:
        Engine.from_path(tmp_path)
    assert f"præcis én af {', '.join(STEP_KINDS)} (har: formel, advarsel)" in str(info.value)


# --- a plugin ``blok`` step through diff and report ------------------------------------------

BLOCK_RULE = f"""\
spoergsmaal: objektiv_finansiering
titel: Halv udgift via en plugin-byggeklods (testregel)
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: halvdel
    titel: Andel af udgiften
    kilde: {SOURCE}:2978 Bilag 10
    blok: {{type: andel, af: udgift, sats: {{SATS}}}}
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(halvdel, befolkning)
resultat:
  fordeling: fordeling
"""


@pytest.fixture()
def block_engine(tmp_path: Path) -> Engine:
    from rammeaftale.run.plugins import discover
    plugin_dir = tmp_path / "plug"
    plugin_dir.mkdir()
    (plugin_dir / "klods.py").write_text(textwrap.dedent(STEP_PLUGIN), "utf-8")   # the block of test_plugins
    rulesets = tmp_path / "rs"
    write_ruleset(rulesets, {"q.yaml": BLOCK_RULE.replace("{SATS}", "0.5")}, id="a-2021", region="a")
    write_ruleset(rulesets, {"q.yaml": BLOCK_RULE.replace("{SATS}", "0.25")}, id="b-2021", region="b")
    return Engine.from_path(rulesets, plugins=discover([plugin_dir], entry_points=False))


def test_block_step_shows_in_diff(block_engine: Engine) -> None:
    rules = rulemap.rules(block_engine.ruleset("a-2021"))
    assert rules["objektiv_finansiering/halvdel"].kind == "blok"
    changes = diff(block_engine, "a-2021", "b-2021")
    [change] = [c for c in changes if c["rule"] == "objektiv_finansiering/halvdel"]
    assert change["kind"] == "blok" and change["change"] == "aendret"
    assert change["details"] == [{"path": "blok.sats", "old": "0.5", "new": "0.25"}]
    assert "objektiv_finansiering/halvdel  [blok, aendret]" in render_text("a-2021", "b-2021", changes)
    assert "ukendt" not in json.dumps(changes)


def test_block_step_shows_in_report(block_engine: Engine, tmp_path: Path) -> None:
    page = render_ruleset(block_engine, block_engine.ruleset("a-2021"), Sources(None))
    assert "<h3>Andel af udgiften</h3>" in page
    assert ("<code>halvdel</code> beregnes af byggeklodsen <code>andel</code> fra et plugin med parametrene:"
            in page)
    assert "<li><code>af</code> = udgift</li><li><code>sats</code> = 0,5</li>" in page


# --- 2. compiled rules keep their source -------------------------------------------------------

def test_meta_keeps_where_and_a_read_only_source(engine: Engine) -> None:
    ruleset = engine.ruleset("syddanmark-2021")
    question = next(q for q in ruleset.questions.values() if q.owner == ruleset.id)
    assert question.meta.source["spoergsmaal"] == question.name
    assert question.meta.where.startswith("syddanmark-2021/") and ".yaml:" in question.meta.where
    step = question.steps[0]
    assert isinstance(step.meta.source, MappingProxyType) and step.meta.source["id"] == step.meta.id
    with pytest.raises(TypeError):
        step.meta.source["id"] = "andet"  # type: ignore[index]
    parameter = next(iter(ruleset.parameters.values()))
    assert parameter.meta.source["kilde"] == parameter.kilde
    assert ruleset.header is not None and ruleset.header.data is ruleset.data
    assert ruleset.where(("id",)) == f"syddanmark-2021/regelsaet.yaml:{ruleset.header.line(('id',))}"


def test_rulemap_report_and_unverified_read_no_yaml(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from rammeaftale.load import yamlload

    def refuse(*args, **kwargs):
        raise AssertionError(f"YAML read again: {args}")

    real_bytes, real_text = Path.read_bytes, Path.read_text
    monkeypatch.setattr(yamlload, "load_file", refuse)
    monkeypatch.setattr(yamlload, "load_text", refuse)
    monkeypatch.setattr(compiler, "load_file", refuse)
    monkeypatch.setattr(Path, "read_bytes", lambda self: refuse(self) if self.suffix == ".yaml" else real_bytes(self))
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: refuse(self) if self.suffix == ".yaml"
                        else real_text(self, *a, **k))
    for ruleset in engine.rulesets():
        found = rulemap.rules(ruleset, engine.registry.get)
        assert found and all(rule.kind != "ukendt" for rule in found.values())
        unverified(ruleset)
        render_ruleset(engine, ruleset, Sources(None))


def test_rulemap_ids_kinds_and_wheres(engine: Engine) -> None:
    ruleset = engine.ruleset("nordjylland-2027")
    found = rulemap.rules(ruleset, engine.registry.get)
    assert found["takstloft/genbrug"].where == ruleset.where(("genbrug", 0))
    assert found["takstloft"].where.startswith("nationale-regler/")        # reused: the library's file
    assert "takstloft" not in rulemap.rules(ruleset)                        # without lookup: only genbrug
    tables = [r for r in found.values() if r.kind == "tabel"]
    assert tables and all("regler" not in r.value["tabel"] for r in tables)
    rows = [r for r in found.values() if r.kind == "regel"]
    assert rows and all(r.where.endswith(tuple("0123456789")) for r in rows)


def _copy_with_library_type(tmp_path: Path, written: str) -> Path:
    root = tmp_path / "rs"
    for name in ("nationale-regler", "nordjylland-2027"):
        shutil.copytree(EMBEDDED / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    header = root / "nationale-regler" / "regelsaet.yaml"
    text = header.read_text("utf-8")
    assert "\ntype: bibliotek\n" in text
    header.write_text(text.replace("\ntype: bibliotek\n", f"\n{written}\n"), "utf-8")
    return root


@pytest.mark.parametrize("written", ['type: "bibliotek"', "type:   bibliotek   # delte regler"])
def test_library_is_recognised_from_the_parsed_header(tmp_path: Path, written: str) -> None:
    root = _copy_with_library_type(tmp_path, written)
    registry = Registry.load([root])
    assert registry.get("nationale-regler").kind == "bibliotek"
    assert "takstloft" in registry.get("nordjylland-2027").questions
    # one folder named: the library beside it is found from its parsed header, too
    alone = Registry.load([root / "nordjylland-2027"])
    assert set(alone.ids()) == {"nationale-regler", "nordjylland-2027"}


def test_each_header_is_read_once_per_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from rammeaftale.run import registry as registry_module
    reads: list[str] = []
    for module in (registry_module, compiler):
        real = module.load_file

        def counting(path, display=None, _real=real):
            if Path(path).name == "regelsaet.yaml":
                reads.append(str(Path(path).resolve()))
            return _real(path, display)
        monkeypatch.setattr(module, "load_file", counting)
    Registry.load([EMBEDDED])
    assert reads and len(reads) == len(set(reads))


# --- 3. one value formatter ---------------------------------------------------------------------

def test_text_mode() -> None:
    t = values.to_text
    assert t(Decimal("1320000"), "beloeb") == "1.320.000,00 kr."
    assert t("1320000.00", "beloeb") == "1.320.000,00 kr."          # the JSON form, read by its type
    assert t(Decimal("0.05")) == "0,05" and t("0.05", "decimal") == "0,05"
    assert t(_dt.date(2021, 3, 14)) == "14.03.2021" and t("2021-03-14", "dato") == "14.03.2021"
    assert t(True) == "ja" and t(False) == "nej" and t(None) == "–"
    assert t(Frist("løbende måned + 30 dage")) == "løbende måned + 30 dage"
    assert t({"Vejle": Decimal("50")}, "beloeb") == "{Vejle: 50,00 kr.}"
    assert t(["a", "b"]) == "a; b" and t([]) == "(ingen)" and t(7) == "7"
    assert t("ikke et beløb", "beloeb") == "ikke et beløb" and t("2021-03-14") == "2021-03-14"


def test_json_mode_is_the_contract() -> None:
    value = {"beloeb": Decimal("1320000.00"), "helt": Decimal("5"), "dato": _dt.date(2021, 3, 14),
             "frist": Frist("løbende måned + 30 dage"), "ja": True, "intet": None, "liste": (1, "a")}
    expected = {"beloeb": "1320000.00", "helt": "5", "dato": "2021-03-14", "frist": "løbende måned + 30 dage",
                "ja": True, "intet": None, "liste": [1, "a"]}
    assert values.to_json(value) == expected and dump is values.to_json
    assert values.format_value(value, values.JSON) == expected


def test_csv_and_html_modes() -> None:
    assert values.to_csv(None) == "" and values.to_csv(True) == "true" and values.to_csv(False) == "false"
    assert values.to_csv(Decimal("1320000.00")) == "1320000.00" and values.to_csv(_dt.date(2021, 3, 14)) == "2021-03-14"
    assert values.to_csv({"a": Decimal("1.50")}) == '{"a": "1.50"}' and values.to_csv("x") == "x"
    assert values.to_html("<b>&") == "&lt;b&gt;&amp;" and values.to_html(None) == "–"
    assert values.format_value(Decimal("2"), values.HTML, "beloeb") == "2,00 kr."


def test_field_kind() -> None:
    assert values.field_kind({"type": "beloeb"}) == "beloeb"
    assert values.field_kind({"type": "kort", "af": "beloeb"}) == "beloeb"
    assert values.field_kind({"type": "liste", "af": {"type": "dato"}}) == "dato"


def test_explain_uses_danish_dates(engine: Engine) -> None:
    from rammeaftale.run.explain import explain
    case = {"paragraf": "SEL § 108", "opsigelsesdato": "2021-01-14", "ophoersdato": "2021-01-14"}
    text = explain(engine.evaluate("opsigelse", case, ruleset="syddanmark-2021"))
    assert "sidste_betalingsdag: 14.03.2021" in text and "2021-03-14" not in text
