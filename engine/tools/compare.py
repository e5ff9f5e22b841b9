"""One case under several rulesets, side by side.

The point of a shared question catalogue is that a caseworker can ask "what
would this closure have cost under last period's agreement, or in the
neighbouring region?".  :func:`compare` evaluates the same case under each
ruleset, keeps every ruleset's answer *or* its error (``not_regulated`` is an
answer too), and lists the output fields whose values differ.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..model.catalogue import catalogue
from ..errors import EngineError, InvalidCase
from ..model.values import field_kind, to_text

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

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


def compare(engine: "Engine", question: str, case: Mapping[str, Any],
            rulesets: Sequence[str] | None = None) -> Comparison:
    """Evaluate ``case`` under each ruleset id (default: every agreement)."""
    spec = catalogue().get(question)
    if spec is None:
        raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
    spec.coerce_case(case)  # a malformed case is the caller's error once, not once per ruleset
    ids = list(rulesets) if rulesets else [r.id for r in engine.registry.agreements()]
    results = [_one(engine, question, case, rid) for rid in ids]
    return Comparison(question, results, differences(results))


def _one(engine: "Engine", question: str, case: Mapping[str, Any], ruleset: str) -> dict[str, Any]:
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


# --- rendering ------------------------------------------------------------------

def _text(value: Any, kind: str | None = None) -> str:
    if isinstance(value, Mapping) and set(value) == {"error"}:
        return "ikke reguleret" if value["error"] == NOT_REGULATED else f"FEJL ({value['error']})"
    return to_text(value, kind)


def rows(comparison: Comparison) -> list[tuple[str, bool, list[str]]]:
    """``(field, differs, [text per ruleset])`` — the table both views print."""
    differing = {d["field"] for d in comparison.differences}
    outputs = catalogue()[comparison.question].outputs
    statuses = [e.get("status") or _text(cell(e, "")) for e in comparison.results]
    table = [("status", len(set(statuses)) > 1, statuses)]
    for name in field_names(comparison.results):
        kind = field_kind(outputs[name].spec) if name in outputs else None
        table.append((name, name in differing, [_text(cell(e, name), kind) for e in comparison.results]))
    return table


def render_text(comparison: Comparison, width: int = 38) -> str:
    """A terminal table: one column per ruleset, ``*`` marks a differing row."""
    header = ["", "felt"] + comparison.rulesets
    lines = [[mark, name] + [_clip(v, width) for v in values]
             for name, differs, values in rows(comparison) for mark in ["*" if differs else " "]]
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [f"Spørgsmål: {comparison.question}", fmt(header), fmt(["-" * w for w in widths])]
    out += [fmt(r) for r in lines]
    out += _notes(comparison)
    out.append(f"* = forskellige værdier ({len(comparison.differences)} felter)")
    return "\n".join(out)


def _notes(comparison: Comparison) -> list[str]:
    notes = []
    for entry in comparison.results:
        if "error" in entry:
            notes.append(f"{entry['ruleset']}: {entry['error']['kind']}: {entry['error']['message']}")
        for warning in entry.get("warnings", []):
            notes.append(f"{entry['ruleset']}: advarsel: {warning}")
    return [""] + notes if notes else []


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_csv(comparison: Comparison) -> str:
    """``felt,<ruleset…>,forskel`` — one row per output field, full values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["felt"] + comparison.rulesets + ["forskel"])
    for name, differs, values in rows(comparison):
        writer.writerow([name] + values + ["ja" if differs else "nej"])
    return buffer.getvalue()
