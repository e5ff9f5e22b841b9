"""Every rule of a ruleset as a flat, citable list, read from the compiled model.

``diff`` (what changed between two periods), ``ny-periode`` (which rules must
be re-verified) and ``report`` (the printable page) all need the same view of
a ruleset: one entry per rule the secretariat can point at — a parameter, a
question, a step, a table row, a variant — with a stable id, its substance
and its citation.  The ids are paths (``opsigelse/varsel/botilbud``), so the
same rule in two periods has the same id.

Each compiled rule keeps the mapping the secretariat wrote (``Meta.source``)
and where (``Meta.where``), and the ruleset keeps its header, so this is a walk
over the model — no YAML is read again.  The step kinds and which of them
hold child rules come from :data:`rammeaftale.model.kinds.STEP_KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from ..model.kinds import STEP_KINDS, kind_of
from ..model.ruleset import Parameter, RuleQuestion, Ruleset
from ..model.steps import Meta, Step, Table, Variants

#: Keys that describe a rule rather than decide it; a change in them alone is
#: not a change of the rule's value.
DESCRIPTIVE = frozenset({"id", "kilde", "titel", "tekst", "fortolkning", "beskrivelse"})


@dataclass(frozen=True)
class Rule:
    """One citable rule: a stable id, what it decides, and where it comes from."""

    id: str
    kind: str
    value: Any
    kilde: str | None
    where: str
    title: str | None = None
    text: str | None = None


def rules(ruleset: Ruleset, lookup: Callable[[str], Ruleset] | None = None) -> dict[str, Rule]:
    """All rules of ``ruleset`` by id, in document order.

    ``lookup`` says reused questions (``genbrug``) should be included with the
    rules of the library they live in; without it they appear only as their
    ``genbrug`` entry.
    """
    out: dict[str, Rule] = {}
    for rule in _header_rules(ruleset):
        out[rule.id] = rule
    for name, question in answered(ruleset, lookup).items():
        for rule in _question_rules(name, question):
            out[rule.id] = rule
    return out


def answered(ruleset: Ruleset, lookup: Callable[[str], Ruleset] | None = None) -> dict[str, RuleQuestion]:
    """The questions the ruleset answers, by name (reused ones only with ``lookup``)."""
    return {name: question for name, question in sorted(ruleset.questions.items())
            if question.owner == ruleset.id or lookup is not None}


def _header_rules(ruleset: Ruleset) -> Iterator[Rule]:
    data = ruleset.data
    for name in data.get("parametre", {}):
        yield _param(f"parametre/{name}", ruleset.parameters[name])
    for i, item in enumerate(data.get("genbrug", [])):
        yield Rule(f"{item['spoergsmaal']}/genbrug", "genbrug", {"bibliotek": item["bibliotek"]},
                   item.get("kilde"), ruleset.where(("genbrug", i)))
    for name, spec in data.get("ikke_reguleret", {}).items():
        yield Rule(name, "ikke_reguleret", {"ikke_reguleret": spec["begrundelse"]}, spec.get("kilde"),
                   ruleset.where(("ikke_reguleret", name)))


def _param(ident: str, parameter: Parameter) -> Rule:
    spec = parameter.meta.source
    value = {"vaerdi": spec["vaerdi"]} | ({"status": spec["status"]} if "status" in spec else {})
    return Rule(ident, "parameter", value, spec.get("kilde"), parameter.meta.where,
                spec.get("beskrivelse"), spec.get("tekst"))


def _question_rules(name: str, question: RuleQuestion) -> Iterator[Rule]:
    data = question.meta.source
    value = {k: data[k] for k in ("status", "gyldig_fra", "gyldig_til", "resultat") if k in data}
    yield Rule(name, "spoergsmaal", value, data.get("kilde"), question.meta.where, data.get("titel"),
               data.get("tekst"))
    for pname in data.get("parametre", {}):
        yield _param(f"{name}/parametre/{pname}", question.parameters[pname])
    yield from _steps(name, question.steps)


def _steps(prefix: str, steps: list[Step]) -> Iterator[Rule]:
    for step in steps:
        meta = step.meta
        ident, kind = f"{prefix}/{meta.id}", meta.kind
        yield _rule(ident, kind, meta, step_value(meta.source))
        if isinstance(step, Table):
            for row_id, action in step.actions.items():
                yield _leaf(f"{ident}/{row_id}", action.meta)
        elif isinstance(step, Variants):
            for variant_id, variant in step.variants.items():
                vid = f"{ident}/{variant_id}"
                yield _leaf(vid, variant.meta, exclude=("trin",))
                yield from _steps(vid, variant.steps)


def step_value(step: Mapping[str, Any]) -> dict[str, Any]:
    """What a step decides: its mapping without descriptions and without its child rules."""
    kind = STEP_KINDS.get(kind_of(step) or "")
    if kind is None or kind.children is None:
        return {k: v for k, v in step.items() if k not in DESCRIPTIVE}
    value = {k: v for k, v in step.items() if k not in DESCRIPTIVE and k != kind.key}
    value[kind.key] = {k: v for k, v in step[kind.key].items() if k != kind.children}
    return value


def _rule(ident: str, kind: str, meta: Meta, value: Any) -> Rule:
    data = meta.source
    return Rule(ident, kind, value, data.get("kilde"), meta.where, data.get("titel"), data.get("tekst"))


def _leaf(ident: str, meta: Meta, exclude: tuple[str, ...] = ()) -> Rule:
    value = {k: v for k, v in meta.source.items() if k not in DESCRIPTIVE and k not in exclude}
    return _rule(ident, meta.kind, meta, value)
