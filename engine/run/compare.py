"""One case under several rulesets, side by side: the comparison itself.

The point of a shared question catalogue is that a caseworker can ask "what
would this closure have cost under last period's agreement, or in the
neighbouring region?".  :func:`compare` evaluates the same case under each
ruleset, keeps every ruleset's answer *or* its error (``not_regulated`` is an
answer too), and lists the output fields whose values differ.  Rendering it
for people is :mod:`rammeaftale.tools.compare`.

Readings go side by side the same way: with ``readings=True`` every
ruleset's column is followed by one column per alternative reading its
question declares (one reading at a time, the others as the ruleset follows
them), labelled ``ruleset [punkt=læsning]``; ``fortolkninger`` evaluates
every column under chosen readings (a point a ruleset does not declare is
left out for that ruleset).  Each entry's ``column`` is its label, and
``differences`` are keyed by it; a plain column's label is the ruleset id.
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
                 trace: bool = True, fortolkninger: Mapping[str, str] | None = None) -> Result: ...

NOT_REGULATED = "not_regulated"


@dataclass
class Comparison:
    """Every ruleset's answer (or error) and the fields where they disagree."""

    question: str
    results: list[dict[str, Any]]
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rulesets(self) -> list[str]:
        """The column labels, in order (the ruleset id, plus ``[punkt=læsning]`` for a reading's column)."""
        return [r.get("column", r["ruleset"]) for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "results": self.results, "differences": self.differences}


def compare(engine: _Engine, question: str, case: Mapping[str, Any],
            rulesets: Sequence[str] | None = None, *, fortolkninger: Mapping[str, str] | None = None,
            readings: bool = False) -> Comparison:
    """Evaluate ``case`` under each ruleset id (default: every agreement), and under readings if asked."""
    spec = catalogue().get(question)
    if spec is None:
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    spec.coerce_case(case)  # a malformed case is the caller's error once, not once per ruleset
    ids = list(rulesets) if rulesets else [r.id for r in engine.registry.agreements()]
    chosen = dict(fortolkninger or {})
    results = []
    for rid in ids:
        points = _points(engine, rid, question)
        own = {p: r for p, r in chosen.items() if p in points}
        results.append(_one(engine, question, case, rid, own, _label(rid, own)))
        if readings:
            for point in points.values():
                for reading in point.readings:
                    if reading.id == own.get(point.id, point.followed.id):
                        continue
                    other = {**own, point.id: reading.id}
                    results.append(_one(engine, question, case, rid, other, _label(rid, {point.id: reading.id})))
    return Comparison(question, results, differences(results))


def _points(engine: _Engine, ruleset: str, question: str) -> dict[str, Any]:
    """The points of readings ``question`` has under ``ruleset`` (none if either is unknown)."""
    found = engine.registry.rulesets.get(ruleset)
    rule = found.questions.get(question) if found is not None else None
    return dict(rule.points) if rule is not None else {}


def _label(ruleset: str, readings: Mapping[str, str]) -> str:
    return ruleset + "".join(f" [{p}={r}]" for p, r in readings.items())


def _one(engine: _Engine, question: str, case: Mapping[str, Any], ruleset: str,
         readings: Mapping[str, str] | None = None, column: str | None = None) -> dict[str, Any]:
    head: dict[str, Any] = {"ruleset": ruleset, "column": column or ruleset}
    if readings:
        head["fortolkninger"] = dict(readings)
    try:
        result = engine.evaluate(question, case, ruleset=ruleset, trace=False, fortolkninger=readings or None)
    except EngineError as exc:
        return head | {"error": {"kind": exc.kind, "message": str(exc)}}
    data = result.to_dict()
    return head | {"status": data["status"], "output": data["output"], "warnings": data["warnings"]}


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
        values = {e.get("column", e["ruleset"]): cell(e, name) for e in results}
        if len({json.dumps(v, sort_keys=True, ensure_ascii=False) for v in values.values()}) > 1:
            out.append({"field": name, "values": values})
    return out
