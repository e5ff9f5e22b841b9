"""The agreement texts are part of the product, and every citation resolves inside it.

The texts live in ``rulesets/kilder/`` (package ``rammeaftale_rulesets``, so a
wheel has them too); a ruleset names each under ``kilder`` with a short name,
and a citation is ``KORTNAVN:LINJE[-LINJE] henvisning``.
"""

from __future__ import annotations

import pytest

from rammeaftale import Engine
from rammeaftale.cli import main
from rammeaftale.load.yamlload import load_file
from rammeaftale.model.compiler import KILDE_PATTERN, SHORT_NAME
from rammeaftale.run.api import embedded_rulesets
from rammeaftale.tools.check import citation_problems
from rammeaftale.tools.report import Sources, render_ruleset
from rammeaftale.tools.sources import embedded_sources

from .helpers import QUESTION, SOURCE, write_ruleset

#: The shipped texts by short name, as the shipped rulesets name them (one meaning per short name).
SHIPPED = {
    "ra2017": "syddanmark-rammeaftale-2017.txt",
    "ra2021": "syddanmark-rammeaftale-2021-2022.txt",
    "ra2025": "syddanmark-rammeaftale-2025-2026.txt",
    "sjaelland2021": "sjaelland-rammeaftale-2021-2022.txt",
    "nordjylland2025": "nordjylland-das-social-2025.txt",
}


def _citations(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "kilde" and isinstance(inner, str):
                yield inner
            else:
                yield from _citations(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _citations(inner)


def _all_citations():
    for path in sorted(embedded_rulesets().glob("*/**/*.yaml")):
        if path.parts[-2] == ".skema":
            continue
        doc = load_file(path, str(path.relative_to(embedded_rulesets())))
        for kilde in _citations(doc.data):
            yield doc.file, kilde


CITATIONS = list(_all_citations())


def test_the_texts_ship_with_the_project_under_readable_names():
    assert sorted(p.name for p in embedded_sources().glob("*.txt")) == sorted(SHIPPED.values())
    assert (embedded_sources() / "README.md").is_file()


def test_every_shipped_ruleset_names_its_sources_by_short_name_with_one_meaning():
    engine = Engine.default()
    seen: dict[str, str] = {}
    for ruleset in engine.rulesets():
        assert isinstance(ruleset.data["kilder"], dict), ruleset.id
        for name, spec in ruleset.sources.items():
            assert SHORT_NAME.match(name) and spec["titel"], (ruleset.id, name)
            assert seen.setdefault(name, spec["fil"]) == spec["fil"] == SHIPPED[name], (ruleset.id, name)


def test_every_shipped_citation_uses_a_short_name_and_resolves_to_non_blank_lines():
    engine = Engine.default()
    assert len(CITATIONS) > 700
    assert not [c for _, c in CITATIONS if not KILDE_PATTERN.match(c) or KILDE_PATTERN.match(c)["navn"].endswith(".txt")]
    assert citation_problems(engine) == []
    assert all(not r.format_warnings for r in engine.rulesets()), [r.format_warnings for r in engine.rulesets()]


def test_a_quote_is_the_line_grep_n_shows_even_with_form_feeds(tmp_path):
    """Lines count at "\\n" only: a form feed left by the PDF extraction is not a line break."""
    quoted = Sources(None, Engine.default().rulesets()).quote("sjaelland2021:1985 Opsigelsesvarsler")
    assert quoted == [(1985, "Opsigelsesvarsel er løbende måned plus 30 dage, medmindre andet er aftalt.")]
    folder = write_ruleset(tmp_path / "rs")
    texts = tmp_path / "rs" / "kilder"
    texts.mkdir()
    (texts / "syddanmark-rammeaftale-2021-2022.txt").write_text("en\fto\ntre\n", "utf-8")
    sources = Sources(None, Engine.from_path(tmp_path / "rs").rulesets())
    assert sources.quote(f"{SOURCE}:2") == [(2, "tre")]
    assert folder.name == "test-2021"


def test_kilder_beside_the_rulesets_comes_before_the_projects_own(tmp_path):
    """A working copy outside the project keeps its new agreement's text in kilder/ beside it."""
    write_ruleset(tmp_path, extra_header="")
    header = tmp_path / "test-2021" / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace(
        "    titel: Testkilde\n", "    titel: Testkilde\n  ny2027:\n    fil: ny-aftale-2027.txt\n    titel: Ny aftale\n"),
        "utf-8")
    (tmp_path / "kilder").mkdir()
    (tmp_path / "kilder" / "ny-aftale-2027.txt").write_text("\nStk. 1 Opsigelse\n", "utf-8")
    engine = Engine.from_path(tmp_path)
    assert citation_problems(engine) == []
    sources = Sources(None, engine.rulesets())
    assert sources.quote("ny2027:2 Stk. 1") == [(2, "Stk. 1 Opsigelse")]
    assert sources.quote(f"{SOURCE}:1879")                  # the project's own text still found
    assert "kildelinje" not in render_ruleset(engine, engine.ruleset("test-2021"), sources)


def test_validate_checks_lines_against_the_projects_own_texts_without_options(tmp_path, capsys):
    folder = write_ruleset(tmp_path, {"q.yaml": QUESTION.replace(f"{SOURCE}:2978 Bilag 10\n    formel",
                                                                 f"{SOURCE}:999999 Bilag 10\n    formel")})
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "test-2021/q.yaml:6: kilde 'ra2021:999999 Bilag 10' peger ud over filens sidste linje (7864)" in err
    blank = next(n for n, line in enumerate((embedded_sources() / SHIPPED["ra2021"]).read_text("utf-8")
                                            .split("\n"), 1) if not line.strip())
    (folder / "q.yaml").write_text(QUESTION.replace(f"{SOURCE}:2978 Bilag 10\n    formel",
                                                    f"{SOURCE}:{blank} Bilag 10\n    formel"), "utf-8")
    assert main(["validate", str(folder)]) == 1
    assert "peger kun på tomme linjer" in capsys.readouterr().err


def test_a_short_name_means_one_text_everywhere(tmp_path, capsys):
    write_ruleset(tmp_path, id="a-2021", region="a")
    write_ruleset(tmp_path, id="b-2021", region="b")
    header = tmp_path / "b-2021" / "regelsaet.yaml"
    header.write_text(header.read_text("utf-8").replace("syddanmark-rammeaftale-2021-2022.txt",
                                                        "syddanmark-rammeaftale-2025-2026.txt"), "utf-8")
    assert main(["validate", str(tmp_path)]) == 1
    assert "kortnavnet 'ra2021' står for syddanmark-rammeaftale-2025-2026.txt her" in capsys.readouterr().err


@pytest.mark.parametrize("kilde", ["ra2021:1879 Bilag 5", "ra2021:1879-1884 Bilag 5", "ra2021:1879, Bilag 5"])
def test_the_citation_grammar(kilde):
    match = KILDE_PATTERN.match(kilde)
    assert match and match["navn"] == "ra2021" and match["fra"] == "1879"


def test_the_distribution_ships_the_texts():
    """The wheel's package data must take the texts along (an installed report quotes them)."""
    import tomllib
    from pathlib import Path
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))
    data = project["tool"]["setuptools"]["package-data"]["rammeaftale_rulesets"]
    assert "kilder/*.txt" in data and "**/*.md" in data
