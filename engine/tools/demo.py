"""The README's first command: one real case per question, in words a caseworker reads.

For every question of the catalogue the demo takes one worked example a
ruleset ships — the agreement's own printed example where there is one, from
an adopted (vedtaget) agreement before a draft — evaluates it and shows the
case and the answer with Danish labels, amounts as ``1.320.000,00 kr.``,
shares as ``33,00 %`` and dates as ``14.03.2021`` (all through the one value
formatter, :mod:`rammeaftale.model.values`).  The first answer also shows how
it was found, step by step with citations, in the same notation.  Questions
answered only by drafts come last, marked UDKAST.  It ends with the count of
examples that reproduce, so a newcomer sees both the engine and its proof.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Mapping

from . import examples
from ..errors import EngineError
from ..model.catalogue import catalogue
from ..model.labels import label
from ..model.ruleset import Ruleset
from ..model.values import ANDEL, field_kind, to_text
from ..run.api import Engine
from ..run.explain import explain_error
from ..run.result import Result

WIDTH = 78
#: Catalogue fields (decimal) that hold a share or rate as a fraction.
SHARE_HINTS = ("noegle", "andel", "sats")
DRAFT = "udkast"


def run_demo(engine: Engine) -> int:
    found = list(examples.discover(engine))
    picks = []
    for name, spec in catalogue().items():
        pick = _pick(engine, found, name)
        if pick is not None:
            picks.append(pick)
    picks.sort(key=lambda p: p[0].status == DRAFT)            # drafts last (stable: catalogue order otherwise)
    print("Rammeaftalerne som data: én rigtig sag pr. spørgsmål".center(WIDTH))
    print("(sager fra aftalernes egne eksempler; udkast står sidst og er mærket UDKAST)".center(WIDTH))
    explained = False
    for ruleset, example in picks:
        explained |= _show(engine, ruleset, example, explain=not explained)
    outcomes = [examples.run(engine, ex) for ex in found]
    failed = [o for o in outcomes if not o.passed]
    print()
    print("=" * WIDTH)
    print(f"Regelsættenes egne eksempler: {len(outcomes) - len(failed)} passed, {len(failed)} failed")
    print("Flere svar: rammeaftale spoergsmaal · en sag at udfylde: rammeaftale skabelon SPØRGSMÅL")
    return 0 if not failed else 1


def _pick(engine: Engine, found: list[examples.Example], question: str) -> tuple[Ruleset, examples.Example] | None:
    """The best example of ``question``: adopted before draft, the agreement's own before hand-made."""
    candidates = []
    for ex in found:
        if ex.question != question or "forventet" not in ex.data:
            continue
        ruleset = engine.ruleset(ex.ruleset)
        if ruleset.kind != "aftale":
            continue
        rank = (ruleset.status == DRAFT, ex.data.get("art") != "aftalens_eksempel", -ruleset.valid_from.toordinal())
        candidates.append((rank, ruleset, ex))
    if not candidates:
        return None
    _, ruleset, example = min(candidates, key=lambda c: c[0])
    return ruleset, example


def _show(engine: Engine, ruleset: Ruleset, example: examples.Example, explain: bool) -> bool:
    spec = catalogue()[example.question]
    draft = ruleset.status == DRAFT
    print()
    print("=" * WIDTH)
    print(f"{label(spec.name)}{' – UDKAST' if draft else ''}: {spec.title}")
    print(f"Regelsæt: {ruleset.name} ({ruleset.id}), {to_text(ruleset.valid_from)}–{to_text(ruleset.valid_to)}, "
          f"status {ruleset.status}")
    print(f"Sag: {example.name}")
    print("-" * WIDTH)
    case = example.data["sag"]
    for name, value in case.items():
        field = spec.inputs.get(name)
        _print_value(label(name), _plain_case_value(value, field.spec if field else {}),
                     _kind(name, field.spec if field else None, value), "  ")
    try:
        result = engine.evaluate(example.question, case, ruleset=ruleset.id)
    except EngineError as exc:
        print(f"  {explain_error(exc)}")
        return False
    print("Svar:")
    for name, value in result.output.items():
        field = spec.outputs.get(name)
        _print_value(label(name), value, _kind(name, field.spec if field else None, value), "  ")
    if draft:
        print("  ! Bygger på et udkast: teksten er ikke endeligt vedtaget.")
    if explain:
        _trace(result, spec)
    return explain


def _plain_case_value(value: Any, spec: Mapping[str, Any]) -> Any:
    """A case value as the engine reads it, for display: "2021-01-14" → a date, "1320000.00" → an amount."""
    kind = spec.get("type")
    if isinstance(value, str) and kind == "dato":
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, (int, float, str)) and not isinstance(value, bool) and kind in ("beloeb", "decimal"):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return value
    if isinstance(value, dict):
        inner = spec.get("af")
        inner = inner if isinstance(inner, Mapping) else {"type": inner}
        return {k: _plain_case_value(v, inner) for k, v in value.items()}
    return value


def _kind(name: str, spec: Mapping[str, Any] | None, value: Any) -> str | None:
    """How to show a value: the catalogue's type, a share for fractions, an amount for large decimals."""
    if spec is not None:
        while spec.get("type") in ("kort", "liste") and isinstance(spec.get("af"), Mapping):
            spec = spec["af"]                     # a map of maps of amounts: the leaves' type
        kind = field_kind(spec)
        if kind == "decimal" and any(h in name for h in SHARE_HINTS):
            return ANDEL
        return kind
    sample = next(iter(value.values()), None) if isinstance(value, Mapping) and value else value
    if isinstance(sample, Decimal) and not isinstance(sample, bool):
        if any(h in name for h in SHARE_HINTS) or (abs(sample) < 1 and sample != sample.to_integral_value()):
            return ANDEL
        if abs(sample) >= 1000:
            return "beloeb"
    return None


def _print_value(title: str, value: Any, kind: str | None, indent: str) -> None:
    if isinstance(value, Mapping) and value:
        print(f"{indent}{title}:")
        for key, inner in value.items():
            name = label(key) if isinstance(key, str) and key.isidentifier() and key.islower() and "_" in key else str(key)
            _print_value(name, inner, kind, indent + "    ")
    else:
        print(f"{indent}{title}: {to_text(value, kind)}")


def _trace(result: Result, spec: Any) -> None:
    fields = {**spec.inputs, **spec.outputs}
    print("Sådan er svaret fundet (trin, der ikke var relevante for sagen, er udeladt):")
    number = 0
    for step in result.trace:
        if any(note.startswith("sprunget over") for note in step.notes):
            continue
        number += 1
        print(f"  {number}. {step.title or label(step.rule.rsplit('/', 1)[-1])}")
        if step.values:
            used = ", ".join(f"{label(k)} = {to_text(v, _kind(k, fields[k].spec if k in fields else None, v))}"
                             for k, v in step.values.items())
            print(f"       brugte: {used}")
        print(f"       gav: {to_text(step.result, _kind(step.rule, None, step.result))}")
        if step.kilde:
            print(f"       kilde: {step.kilde}")
