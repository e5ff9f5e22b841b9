"""One case under several rulesets, side by side: rendering for people (text, CSV).

The comparison itself is :mod:`rammeaftale.run.compare` (re-exported here).
"""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from ..model.catalogue import catalogue
from ..model.values import field_kind, to_text
from ..run.compare import NOT_REGULATED, Comparison, cell, compare, differences, field_names

__all__ = ["NOT_REGULATED", "Comparison", "cell", "compare", "differences", "field_names", "render_csv",
           "render_text", "rows"]


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
        label = entry.get("column", entry["ruleset"])
        if "error" in entry:
            notes.append(f"{label}: {entry['error']['kind']}: {entry['error']['message']}")
        for warning in entry.get("warnings", []):
            if "fortolkninger" in entry and warning.get("art") in ("fortolkning_alternativ", "fortolkning_valgt"):
                continue    # a reading's own column shows its answer; its reading warnings repeat the table
            notes.append(f"{label}: advarsel: {warning['tekst']}")
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
