"""Run a ruleset's own examples (``eksempler/*.yaml``) as tests.

Each agreement's worked examples (beregningseksempler) are data next to the
rules they test, like OpenFisca's YAML tests.  An example gives a case and
either the expected outputs (a subset is enough) or the expected error.
Where the source prints whole kroner, ``afrundet_til: kr`` compares the
engine's øre-exact amounts rounded to whole kroner; otherwise the comparison
is exact to the øre.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

from ..load import schemas
from ..run.api import Engine
from ..model.compiler import EXAMPLES_DIR
from ..errors import EngineError, InvalidRuleset, RulesetErrors
from ..formula.money import round_to
from ..run.result import dump
from ..load.yamlload import Document, load_file
from ..model.ruleset import Ruleset


@dataclass
class Example:
    ruleset: str
    name: str
    question: str
    where: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.ruleset}::{self.name}"


@dataclass
class Outcome:
    example: Example
    passed: bool
    problems: list[str]


def discover(engine: Engine) -> Iterator[Example]:
    """Every example of every loaded ruleset, in file order."""
    for ruleset in sorted(engine.rulesets(), key=lambda r: r.id):
        for path in example_files(ruleset):
            doc = load_examples(ruleset, path)
            for i, data in enumerate(doc.data["eksempler"]):
                yield Example(ruleset.id, data["navn"], data["spoergsmaal"], doc.where(("eksempler", i)), data)


def example_files(ruleset: Ruleset) -> list[Path]:
    """The ruleset's examples files (``eksempler/*.yaml``), sorted."""
    return sorted((ruleset.folder / EXAMPLES_DIR).glob("*.yaml"))


def load_examples(ruleset: Ruleset, path: Path) -> Document:
    """One examples file, read through :mod:`rammeaftale.load.files` (a regular file inside the ruleset
    folder, bounded) and schema-checked; raises ``InvalidRuleset``/``RulesetErrors`` at file:line.
    ``rammeaftale test`` and ``rammeaftale validate`` both read them here."""
    doc = load_file(path, f"{ruleset.id}/{EXAMPLES_DIR}/{path.name}", root=ruleset.folder)
    problems = schemas.check(doc, "examples.schema.json")
    if problems:
        raise RulesetErrors(problems)
    return doc


def run(engine: Engine, example: Example) -> Outcome:
    """Evaluate one example and compare with what it expects."""
    data = example.data
    try:
        result = engine.evaluate(example.question, data["sag"], ruleset=example.ruleset,
                                 fortolkninger=data.get("fortolkninger"))
    except InvalidRuleset:
        raise
    except EngineError as exc:
        return Outcome(example, *_expected_error(data, exc))
    if "forventet_fejl" in data:
        return Outcome(example, False, [f"forventede fejlen {data['forventet_fejl']['kind']}, men fik et resultat"])
    problems = []
    kroner = data.get("afrundet_til") == "kr"
    actual = {k: v for k, v in result.output.items()}
    for key, expected in data["forventet"].items():
        if key not in actual:
            problems.append(f"output '{key}' mangler i resultatet")
            continue
        problems.extend(_compare(key, expected, actual[key], kroner))
    wanted = data.get("forventet_advarsel")
    if wanted and not any(wanted in w for w in result.warnings):
        problems.append(f"ingen advarsel indeholder '{wanted}'")
    if "forventet_alternativer" in data:
        problems.extend(_compare_alternatives(data["forventet_alternativer"], result.alternatives, kroner))
    return Outcome(example, not problems, problems)


def _compare_alternatives(expected: list[dict[str, Any]], actual: list[Any], kroner: bool) -> list[str]:
    """Exactly the expected alternative readings, each with the expected differing outputs (or error kind)."""
    got = {(a.point, a.reading): a for a in actual}
    wanted = {(e["punkt"], e["fortolkning"]): e for e in expected}
    problems = [f"uventet alternativ læsning {p}/{r}" for p, r in got if (p, r) not in wanted]
    for key, entry in wanted.items():
        alternative = got.get(key)
        if alternative is None:
            problems.append(f"den alternative læsning {key[0]}/{key[1]} giver ikke et andet svar")
        elif "fejl" in entry:
            kind = (alternative.error or {}).get("kind")
            if kind != entry["fejl"]:
                problems.append(f"{key[0]}/{key[1]}: forventede fejlen {entry['fejl']}, fik {kind or 'et svar'}")
        elif "output" in entry:
            problems.extend(_compare(f"{key[0]}/{key[1]}", entry["output"], alternative.output, kroner))
    return problems


def _expected_error(data: dict[str, Any], exc: EngineError) -> tuple[bool, list[str]]:
    expected = data.get("forventet_fejl")
    if expected is None:
        return False, [f"uventet fejl {exc.kind}: {exc}"]
    problems = []
    if exc.kind != expected["kind"]:
        problems.append(f"forventede fejlen {expected['kind']}, fik {exc.kind}: {exc}")
    if "path" in expected and exc.path != expected["path"]:
        problems.append(f"forventede fejl i feltet '{expected['path']}', fik '{exc.path}'")
    if "indeholder" in expected and expected["indeholder"] not in str(exc):
        problems.append(f"fejlbeskeden indeholder ikke '{expected['indeholder']}': {exc}")
    return not problems, problems


def _compare(path: str, expected: Any, actual: Any, kroner: bool) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: forventede et objekt, fik {dump(actual)!r}"]
        problems = [f"{path}: uventet nøgle '{k}'" for k in actual if k not in expected]
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key} mangler")
            else:
                problems.extend(_compare(f"{path}.{key}", value, actual[key], kroner))
        return problems
    if isinstance(actual, Decimal):
        try:
            wanted = Decimal(str(expected))
        except InvalidOperation:
            return [f"{path}: forventet værdi {expected!r} er ikke et tal"]
        got = round_to(actual, 0) if kroner else actual
        ok = got == (round_to(wanted, 0) if kroner else wanted)
        return [] if ok else [f"{path}: forventede {expected}, fik {dump(actual)}" + (" (afrundet til kr)" if kroner else "")]
    if isinstance(actual, _dt.date):
        expected = expected.isoformat() if isinstance(expected, _dt.date) else expected
        return [] if actual.isoformat() == str(expected) else [f"{path}: forventede {expected}, fik {actual.isoformat()}"]
    return [] if dump(actual) == dump(expected) else [f"{path}: forventede {dump(expected)!r}, fik {dump(actual)!r}"]


def run_all(engine: Engine) -> list[Outcome]:
    return [run(engine, example) for example in discover(engine)]
