"""Small builders for tests that need a ruleset folder of their own."""

from __future__ import annotations

import textwrap
from pathlib import Path

SOURCE = "ra2021"                                # short name of the text under kilder
SOURCE_FILE = "syddanmark-rammeaftale-2021-2022.txt"   # in rulesets/kilder/

HEADER = f"""\
id: {{id}}
region: {{region}}
navn: Testaftale
gyldig_fra: {{fra}}
gyldig_til: {{til}}
status: vedtaget
maanedsregel: afkort
kilder:
  {SOURCE}:
    fil: {SOURCE_FILE}
    titel: Testkilde
parametre:
  sats:
    vaerdi: 0.05
    kilde: {SOURCE}:1879 Bilag 5
"""

QUESTION = f"""\
spoergsmaal: objektiv_finansiering
titel: Fordeling efter befolkning
kilde: {SOURCE}:2978 Bilag 10
trin:
  - id: fordeling
    kilde: {SOURCE}:2978 Bilag 10
    formel: fordel(udgift, befolkning)
resultat:
  - fordeling
"""


def write_ruleset(root: Path, files: dict[str, str] | None = None, *, id: str = "test-2021",
                  region: str = "test", fra: str = "2021-01-01", til: str = "2022-12-31",
                  extra_header: str = "") -> Path:
    """A minimal valid ruleset folder (one question, the rest not regulated) with overrides."""
    folder = root / id
    folder.mkdir(parents=True)
    header = HEADER.format(id=id, region=region, fra=fra, til=til) + extra_header
    header += "ikke_reguleret:\n" + "".join(
        f"  {q}:\n    begrundelse: Ikke med i denne testaftale.\n" for q in _unregulated(files))
    (folder / "regelsaet.yaml").write_text(header, "utf-8")
    for name, text in (files if files is not None else {"objektiv_finansiering.yaml": QUESTION}).items():
        (folder / name).write_text(textwrap.dedent(text), "utf-8")
    return folder


def _unregulated(files: dict[str, str] | None) -> list[str]:
    from rammeaftale.model.catalogue import catalogue
    answered = set()
    for text in (files if files is not None else {"x": QUESTION}).values():
        for line in text.splitlines():
            if line.startswith("spoergsmaal:"):
                answered.add(line.split(":", 1)[1].strip())
    return [q for q in catalogue() if q not in answered]


# --- formulas: the engine's runtime and the reference interpreter ------------------------

def formulas(month_rule: str = "afkort"):
    """The formula language with the built-in functions, as a compile session has it."""
    from rammeaftale.formula.expr import Formulas
    from rammeaftale.formula.functions import builtin_functions
    return Formulas(builtin_functions(month_rule))


def reference_evaluate(source: str, names: dict, functions) -> object:
    """``source`` walked by simpleeval: the reference interpreter the compiled runtime must agree with.

    The tree gets the same load-time treatment as in the engine (whitelist,
    Decimal literals) and the same bounded operators; only the evaluation
    differs — simpleeval's tree walk instead of the compiled code object.
    """
    import ast

    import simpleeval

    from rammeaftale.formula import expr as _expr
    tree = ast.parse(source.strip(), mode="eval")
    _expr._check(tuple(ast.walk(tree)), source.strip(), functions)
    walker = simpleeval.EvalWithCompoundTypes(operators=dict(_expr._OPERATORS), functions=dict(functions),
                                              names=dict(names))
    return walker._eval(tree.body)
