"""Every citation in every ruleset points at real, non-blank lines of its source.

The sources live outside the repository (``../shared/seeds``); where they are
not present the test is skipped with a message, so an installed package can
still run the rest of the suite.
"""

from pathlib import Path

import pytest

from rammeaftale.run.api import embedded_rulesets
from rammeaftale.model.compiler import KILDE_PATTERN
from rammeaftale.load.yamlload import load_file

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _citations(value, where):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "kilde" and isinstance(inner, str):
                yield where, inner
            else:
                yield from _citations(inner, where)
    elif isinstance(value, list):
        for inner in value:
            yield from _citations(inner, where)


def _all_citations():
    for path in sorted(embedded_rulesets().glob("*/**/*.yaml")):
        doc = load_file(path, str(path.relative_to(embedded_rulesets())))
        yield from _citations(doc.data, doc.file)


CITATIONS = list(_all_citations())


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"kildeteksterne findes ikke i {SEEDS}")
def test_every_citation_points_at_existing_non_blank_lines():
    # grep -n counts "\n" only; str.splitlines would also split on form feeds.
    lines = {p.name: p.read_text("utf-8").split("\n") for p in SEEDS.glob("*.txt")}
    problems = []
    for where, kilde in CITATIONS:
        match = KILDE_PATTERN.match(kilde)
        if not match:
            problems.append(f"{where}: '{kilde}' har ikke formen FIL:LINJE")
            continue
        text = lines.get(match["fil"])
        start, end = int(match["fra"]), int(match["til"] or match["fra"])
        if text is None:
            problems.append(f"{where}: ukendt kildefil {match['fil']}")
        elif end > len(text):
            problems.append(f"{where}: {kilde} går ud over filens {len(text)} linjer")
        elif not any(line.strip() for line in text[start - 1:end]):
            problems.append(f"{where}: {kilde} peger kun på tomme linjer")
    assert not problems, "\n".join(problems)


def test_there_are_citations_to_check():
    assert len(CITATIONS) > 100


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"kildeteksterne findes ikke i {SEEDS}")
def test_report_quotes_the_line_grep_would_show():
    """The seeds contain form feeds; a quote must still be the grep -n line."""
    from rammeaftale.tools.report import Sources
    quoted = Sources(SEEDS).quote("004_85e6f331934d1c71.txt:1985 Opsigelsesvarsler")
    assert quoted == [(1985, "Opsigelsesvarsel er løbende måned plus 30 dage, medmindre andet er aftalt.")]
