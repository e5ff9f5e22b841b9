"""Decision tables: rows of conditions over named columns, with a hit policy.

A cell is one of

* a value — the column must equal it;
* a list — the column must equal one of them;
* ``{fra: a, over: a, til: b, under: b}`` — a numeric interval
  (``fra``/``til`` include the bound, ``over``/``under`` exclude it);
* ``{omfatter: [a, b]}`` — a hierarchy: each named identifier *and everything
  under it*, where "under" means a longer identifier that starts with the
  named one followed by ``-`` (``SEL-66-1`` covers ``SEL-66-1-6``, not
  ``SEL-66-10``).  Used for ``paragraf`` columns: a stk. or nr. belongs to
  the row that names its paragraph;
* ``"-"`` or an absent column — anything.

Under the ``unik`` hit policy two rows that could match the same input are an
error found when the ruleset loads, so overlaps are fixed by the author, not
discovered by a citizen.  ``foerste`` takes the first matching row in order.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import combinations
from typing import Any, Callable, Mapping, Sequence

ANY = "-"
_BOUND_KEYS = {"fra", "over", "til", "under"}
HIERARCHY_KEY = "omfatter"
_SEPARATOR = "-"


def ancestors(value: str) -> list[str]:
    """``"SEL-66-1-6"`` → ``["SEL-66-1-6", "SEL-66-1", "SEL-66"]`` (itself first; never the bare law)."""
    parts = value.split(_SEPARATOR)
    return [_SEPARATOR.join(parts[:i]) for i in range(len(parts), 1, -1)]


@dataclass(frozen=True)
class Cell:
    """A predicate on one column: a set of values, an interval, or anything."""

    values: frozenset[Any] | None = None          # equality / membership
    roots: frozenset[str] | None = None           # hierarchy: a root and everything under it
    low: Decimal | None = None
    low_open: bool = False
    high: Decimal | None = None
    high_open: bool = False

    @property
    def is_any(self) -> bool:
        return self.values is None and self.roots is None and self.low is None and self.high is None

    @property
    def is_interval(self) -> bool:
        return self.values is None and self.roots is None and not self.is_any

    @cached_property
    def test(self) -> Callable[[Any], bool]:
        """:meth:`matches` specialised to this cell's kind, made once (the hot path of every table)."""
        values, roots = self.values, self.roots
        if values is not None:
            def member(value: Any) -> bool:
                try:
                    return value in values
                except TypeError:          # unhashable (a list or a map): never equal to a cell's value
                    return False
            return member
        if roots is not None:
            return lambda value: isinstance(value, str) and any(a in roots for a in ancestors(value))
        return self.matches

    def matches(self, value: Any) -> bool:
        if self.values is not None:
            return value in self.values if value.__hash__ is not None else False
        if self.roots is not None:
            return isinstance(value, str) and any(a in self.roots for a in ancestors(value))
        if self.is_any:
            return True
        if value is None or isinstance(value, (bool, str, _dt.date)):
            return False
        return self._in_interval(Decimal(value))

    def _in_interval(self, value: Decimal) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True

    def overlaps(self, other: "Cell") -> bool:
        if self.is_any or other.is_any:
            return True
        if self.roots is not None and other.roots is not None:
            return any(self.matches(r) or other.matches(s) for r in other.roots for s in self.roots)
        if self.roots is not None:
            return other.values is not None and any(self.matches(v) for v in other.values)
        if other.roots is not None:
            return self.values is not None and any(other.matches(v) for v in self.values)
        if self.values is not None and other.values is not None:
            return bool(self.values & other.values)
        if self.values is not None:
            return any(other.matches(v) for v in self.values)
        if other.values is not None:
            return any(self.matches(v) for v in other.values)
        return _intervals_overlap(self, other)

    def describe(self) -> str:
        if self.is_any:
            return "alle"
        if self.values is not None:
            return " | ".join(sorted(map(str, self.values)))
        if self.roots is not None:
            return " | ".join(f"{r} (med underpunkter)" for r in sorted(self.roots))
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '≥'} {self.low}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '≤'} {self.high}")
        return " og ".join(parts)


def _intervals_overlap(a: Cell, b: Cell) -> bool:
    low, low_open = _max_low(a, b)
    high, high_open = _min_high(a, b)
    if low is None or high is None:
        return True
    return low < high or (low == high and not low_open and not high_open)


def _max_low(a: Cell, b: Cell) -> tuple[Decimal | None, bool]:
    if a.low is None:
        return b.low, b.low_open
    if b.low is None or a.low > b.low:
        return a.low, a.low_open
    if b.low > a.low:
        return b.low, b.low_open
    return a.low, a.low_open or b.low_open


def _min_high(a: Cell, b: Cell) -> tuple[Decimal | None, bool]:
    if a.high is None:
        return b.high, b.high_open
    if b.high is None or a.high < b.high:
        return a.high, a.high_open
    if b.high < a.high:
        return b.high, b.high_open
    return a.high, a.high_open or b.high_open


def parse_cell(raw: Any) -> Cell:
    """Build a :class:`Cell` from its YAML form; raises ValueError."""
    if raw == ANY:
        return Cell()
    if isinstance(raw, list):
        return Cell(values=frozenset(_normalise(v) for v in raw))
    if isinstance(raw, Mapping) and HIERARCHY_KEY in raw:
        if len(raw) != 1:
            raise ValueError(f"'{HIERARCHY_KEY}' kan ikke kombineres med andre nøgler i samme celle")
        roots = raw[HIERARCHY_KEY]
        roots = roots if isinstance(roots, list) else [roots]
        if not roots or not all(isinstance(r, str) and r for r in roots):
            raise ValueError(f"'{HIERARCHY_KEY}' skal være en eller flere betegnelser (tekst)")
        return Cell(roots=frozenset(roots))
    if isinstance(raw, Mapping):
        unknown = set(raw) - _BOUND_KEYS
        if unknown:
            raise ValueError(f"ukendt grænse '{sorted(unknown)[0]}' (brug fra, over, til, under eller omfatter)")
        if "fra" in raw and "over" in raw or "til" in raw and "under" in raw:
            raise ValueError("brug enten fra eller over, og enten til eller under")
        low = raw.get("fra", raw.get("over"))
        high = raw.get("til", raw.get("under"))
        return Cell(low=None if low is None else Decimal(low), low_open="over" in raw,
                    high=None if high is None else Decimal(high), high_open="under" in raw)
    return Cell(values=frozenset([_normalise(raw)]))


def _normalise(value: Any) -> Any:
    """Numbers compare as Decimal whatever YAML made of them."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    return value


@dataclass(frozen=True)
class Row:
    """One row: its id, its cells (one per table column) and the raw row data."""

    id: str
    cells: tuple[Cell, ...]


class Conditions:
    """Rows over named columns with a hit policy — shared by tables and variants."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Row], policy: str) -> None:
        self.columns = tuple(columns)
        self.rows = tuple(rows)
        self.policy = policy
        self._key, self._index, self._open = _index(self.rows, len(self.columns))
        # Per row the cells that restrict something ("-" cells are skipped), as (column, predicate);
        # a row found through the index column need not test that column again.
        self._all = self._plan(range(len(self.rows))) if self._key is None else ()
        self._open_plan = self._plan(self._open)
        self._keyed: dict[Any, Plan] = {}
        self._under: dict[str, Plan] = {}       # root -> its rows, for a paragraph no row names itself
        if self._key is not None:
            for kind, value in self._index:
                self._keyed.setdefault(value, self._plan(self._candidates(value), skip=self._key))
                if kind == "<":
                    self._under[value] = self._plan(self._index[(kind, value)], skip=self._key)

    def _plan(self, positions: Sequence[int], skip: int | None = None) -> "Plan":
        return tuple((position, self.rows[position], tuple(
            (i, cell.test) for i, cell in enumerate(self.rows[position].cells) if not cell.is_any and i != skip))
            for position in positions)

    def overlapping_pairs(self, most: int | None = None) -> list[tuple[Row, Row]]:
        """Pairs of rows that some input could match both of (at most ``most``), in row order.

        Rows are first split by the column that names values in the most
        rows (:func:`_index`): two rows whose cells there share no value —
        or, for paragraphs, no law paragraph — cannot overlap, so only rows
        in the same group (or with an open cell there) are compared.  A
        10,000-row table of distinct values is then linear, not 50 million
        comparisons.
        """
        found: list[tuple[Row, Row]] = []
        if self._key is None:
            groups: list[list[int]] = [list(range(len(self.rows)))]
        else:
            groups = [sorted(set(members) | set(self._open)) for members in self._groups().values()] or []
            if not groups or self._open:
                groups.append(list(self._open))
        seen: set[tuple[int, int]] = set()
        groups.sort(key=lambda members: members[:1])        # report in row order, as a full scan would
        for members in groups:
            for x, y in combinations(members, 2):
                if (x, y) in seen:
                    continue
                seen.add((x, y))
                a, b = self.rows[x], self.rows[y]
                if all(c.overlaps(d) for c, d in zip(a.cells, b.cells)):
                    found.append((a, b))
                    if most is not None and len(found) >= most:
                        return found
        return found

    def _groups(self) -> dict[Any, list[int]]:
        """Rows by the value (or law paragraph, for hierarchy cells) they name in the index column."""
        groups: dict[Any, list[int]] = {}
        for position, row in enumerate(self.rows):
            cell = row.cells[self._key]
            for value in (cell.values or ()):
                groups.setdefault(_family(value), []).append(position)
            for root in (cell.roots or ()):
                groups.setdefault(_family(root), []).append(position)
        return {key: sorted(set(members)) for key, members in groups.items()}

    def match(self, values: Sequence[Any]) -> Row | None:
        """The matching row (the first one in row order under ``foerste``), or None.

        Rows that name the input's value in the index column (worked out at
        load for every value a row names) are tried first, then the rows open
        in that column; the earlier of the two first hits is the answer, so
        the hit policy means what a full scan in row order would.
        """
        if float in map(type, values):          # only a plugin makes floats: compare them as their text
            values = [_normalise(v) if type(v) is float else v for v in values]
        if self._key is None:
            found = _first(self._all, values)
            return found[1] if found is not None else None
        value = values[self._key]
        try:
            keyed = self._keyed.get(value)
        except TypeError:                       # unhashable: no row names it
            keyed = ()
        if keyed is None:   # a value no row names: a sub-paragraph of one that a row names, or nothing
            keyed = self._below(value) if isinstance(value, str) and value.count(_SEPARATOR) > 1 else ()
        found = _first(keyed, values)
        if self._open_plan:
            other = _first(self._open_plan, values)
            if other is not None and (found is None or other[0] < found[0]):
                found = other
        return found[1] if found is not None else None

    def _below(self, value: str) -> "Plan":
        """The rows of the paragraphs above ``value`` (``SEL-107-2`` is under a row naming ``SEL-107``)."""
        plans = [plan for plan in map(self._under.get, ancestors(value)[1:]) if plan]
        if not plans:
            return ()
        if len(plans) == 1:
            return plans[0]
        return tuple(sorted((entry for plan in plans for entry in plan), key=lambda entry: entry[0]))

    def _candidates(self, value: Any) -> list[int]:
        """Positions of the rows that name ``value`` (or, for a paragraph, a paragraph above it) in the
        index column, in row order."""
        hits = self._index.get(("=", value), ())
        if isinstance(value, str) and _SEPARATOR in value:
            for ancestor in ancestors(value):
                hits = (*hits, *self._index.get(("<", ancestor), ()))
        return sorted(set(hits))

    def known_values(self, column: str) -> list[str]:
        """Values named for ``column`` in any row (for 'kendte værdier' messages)."""
        index = self.columns.index(column)
        found: set[str] = set()
        for row in self.rows:
            cell = row.cells[index]
            if cell.values is not None:
                found.update(str(v) for v in cell.values)
            if cell.roots is not None:
                found.update(f"{r} (med underpunkter)" for r in cell.roots)
        return sorted(found)


#: Rows to try, in row order: (position, row, (column, predicate) for each cell to test).
Plan = tuple[tuple[int, Row, tuple[tuple[int, Callable[[Any], bool]], ...]], ...]


def _first(plan: Plan, values: Sequence[Any]) -> tuple[int, Row] | None:
    for position, row, tests in plan:
        for index, test in tests:
            if not test(values[index]):
                break
        else:
            return position, row
    return None


def _index(rows: Sequence[Row], width: int) -> tuple[int | None, dict[tuple[str, Any], tuple[int, ...]], tuple[int, ...]]:
    """(column, value -> row positions, rows open in that column) for the most selective column.

    ``("=", value)`` keys rows whose cell lists the value; ``("<", root)`` keys
    rows whose hierarchy cell names the root; rows with an interval or "-"
    there are "open" and always candidates.  Matching then checks only the
    candidates, in row order, so a hit policy means the same as a full scan.
    """
    best, best_score = None, 1.0
    for column in range(width):
        keys: set[Any] = set()
        open_count = 0
        for row in rows:
            cell = row.cells[column]
            if cell.values is not None:
                keys.update(("=", v) for v in cell.values)
            elif cell.roots is not None:
                keys.update(("<", r) for r in cell.roots)
            else:
                open_count += 1
        score = len(keys) / (1 + open_count)          # most selective: many keys, few rows open to all
        if score > best_score:
            best, best_score = column, score
    if best is None:
        return None, {}, ()
    index: dict[tuple[str, Any], list[int]] = {}
    open_rows: list[int] = []
    for position, row in enumerate(rows):
        cell = row.cells[best]
        if cell.values is not None:
            for value in cell.values:
                index.setdefault(("=", value), []).append(position)
        elif cell.roots is not None:
            for root in cell.roots:
                index.setdefault(("<", root), []).append(position)
        else:
            open_rows.append(position)
    return best, {key: tuple(positions) for key, positions in index.items()}, tuple(open_rows)


def _family(value: Any) -> Any:
    """What two index values must share to possibly overlap: the law paragraph of a paragraph
    (``SEL-66-1-6`` → ``SEL-66``: a hierarchy cell reaches only its own descendants), else the value."""
    if isinstance(value, str) and _SEPARATOR in value:
        return _SEPARATOR.join(value.split(_SEPARATOR)[:2])
    return value
