"""One case under several rulesets, side by side: the comparison itself.

The point of a shared question catalogue is that a caseworker can ask "what
would this closure have cost under last period's agreement, or in the
neighbouring region?".  :func:`compare` evaluates the same case under each
ruleset, keeps every ruleset's answer *or* its error (``not_regulated`` is an
answer too), and lists the output fields whose values differ.  Rendering it
for people is :mod:`rammeaftale.tools.compare`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from ..errors import EngineError, InvalidCase
from ..model.catalogue import catalogue
from .registry import Registry
from .result import Result


class _Engine(Protocol):
    """What a comparison needs of an engine (so this module need not import :mod:`.api`)."""

    registry: Registry

    def evaluate(self, question: str, case: Mapping[str, Any], *, ruleset: str | None = None,
                 trace: bool = True) -> Result: ...

NOT_REGULATED = "not_regulated"


@dataclass
class Comparison:
    """Every ruleset's answer (or error) and the fields where they disagree."""

    question: str
    results: list[dict[str, Any]]
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rulesets(self) -> list[str]:
        return [r["ruleset"] for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "results": self.results, "differences": self.differences}


def compare(engine: _Engine, question: str, case: Mapping[str, Any],
            rulesets: Sequence[str] | None = None) -> Comparison:
    """Evaluate ``case`` under each ruleset id (default: every agreement)."""
    spec = catalogue().get(question)
    if spec is None:
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    spec.coerce_case(case)  # a malformed case is the caller's error once, not once per ruleset
    ids = list(rulesets) if rulesets else [r.id for r in engine.registry.agreements()]
    results = [_one(engine, question, case, rid) for rid in ids]
    return Comparison(question, results, differences(results))


def _one(engine: _Engine, question: str, case: Mapping[str, Any], ruleset: str) -> dict[str, Any]:
    try:
        result = engine.evaluate(question, case, ruleset=ruleset, trace=False)
    except EngineError as exc:
        return {"ruleset": ruleset, "error": {"kind": exc.kind, "message": str(exc)}}
    data = result.to_dict()
    return {"ruleset": ruleset, "status": data["status"], "output": data["output"], "warnings": data["warnings"]}


def cell(entry: Mapping[str, Any], name: str) -> Any:
    """What one ruleset says about one output field (an error stands for every field)."""
    if "error" in entry:
        return {"error": entry["error"]["kind"]}
    return entry["output"].get(name)


def field_names(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Output fields in first-seen order across all answers."""
    names: list[str] = []
    for entry in results:
        for name in entry.get("output", {}):
            if name not in names:
                names.append(name)
    return names


def differences(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``[{"field", "values": {ruleset: value}}]`` for every field not equal everywhere."""
    out = []
    for name in field_names(results):
        values = {e["ruleset"]: cell(e, name) for e in results}
        if len({json.dumps(v, sort_keys=True, ensure_ascii=False) for v in values.values()}) > 1:
            out.append({"field": name, "values": values})
    return out
