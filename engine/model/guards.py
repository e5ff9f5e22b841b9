"""A step's condition written as a table row (``naar: {omraade: botilbud}``), used as its guard.

A step's ``naar`` has the grammar of a row of a decision table: each column
a value, a list of values, an interval or a paragraph with what it covers
(:func:`~.tables.parse_cell`).  An expression guard is written under
``naar_formel`` instead.  A step may have both; then both must hold.

The compiled guard has what :class:`~.steps.Step` asks of a guard —
``lower(writer)`` (its code in the question's function), ``names`` and
``source`` (the text the trace shows when the step is skipped).
"""

from __future__ import annotations

from typing import Any, Mapping

from .tables import Cell
from .values import to_text


def cell_text(raw: Any) -> str:
    """One condition cell in words, as the trace shows it (``[a, b]`` → "a eller b")."""
    if isinstance(raw, list):
        items = [to_text(v) for v in raw]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " eller " + items[-1]
    if isinstance(raw, dict):
        if "omfatter" in raw:
            roots = raw["omfatter"] if isinstance(raw["omfatter"], list) else [raw["omfatter"]]
            return "omfattet af " + cell_text(roots)
        words = {"fra": "fra", "til": "til og med", "over": "over", "under": "under"}
        return " ".join(f"{words[k]} {raw[k]}" for k in ("fra", "over", "til", "under") if k in raw)
    return to_text(raw)


class ConditionGuard:
    """``naar`` as a table row: every named column matches its cell."""

    __slots__ = ("cells", "names", "source")

    def __init__(self, cells: Mapping[str, Cell], raw: Mapping[str, Any]) -> None:
        self.cells = tuple(cells.items())
        self.names = tuple(cells)
        self.source = " og ".join(f"{name} er {cell_text(raw[name])}" for name in cells)

    def lower(self, w: Any) -> str:
        """The row as a Python expression for the question's generated function (:mod:`.lowering`)."""
        return "(" + " and ".join(f"{w.bind(cell.matches, 'celle')}(ns.get({name!r}))"
                                  for name, cell in self.cells) + ")"


class BothGuards:
    """``naar`` and ``naar_formel`` on the same step: both must hold (the row first)."""

    __slots__ = ("first", "second", "names", "source")

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second
        self.names = tuple(dict.fromkeys(tuple(first.names) + tuple(second.names)))
        self.source = f"{first.source} og {second.source}"

    def lower(self, w: Any) -> str:
        return f"({w.guard(self.first)} and {w.guard(self.second)})"
