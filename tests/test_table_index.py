"""Issue 14: decision tables are matched through an index and checked for overlaps in near-linear time.

The index must not change what a table means: for any table and any value,
the indexed match is the row a full scan in row order finds.  And the
overlap check of a ``unik`` table must not compare every pair of rows.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rammeaftale.model.tables import Cell, Conditions, Row, parse_cell

PARAGRAPHS = ["SEL-66", "SEL-66-1", "SEL-66-1-6", "SEL-107", "SEL-107-2", "SEL-108", "ABL-105", "FSL-20-2"]
raw_cells = st.one_of(
    st.just("-"),
    st.sampled_from(PARAGRAPHS),
    st.lists(st.sampled_from(PARAGRAPHS), min_size=1, max_size=3),
    st.builds(lambda roots: {"omfatter": roots}, st.lists(st.sampled_from(PARAGRAPHS[:2] + PARAGRAPHS[3:4]),
                                                          min_size=1, max_size=2)),
    st.sampled_from([1, 2, 3]),
    st.builds(lambda a, b: {"fra": min(a, b), "til": max(a, b)}, st.integers(0, 5), st.integers(0, 5)),
)


def _scan(conditions: Conditions, values: list) -> Row | None:
    """The meaning of a table: the first row, in order, all of whose cells match."""
    for row in conditions.rows:
        if all(cell.matches(value) for cell, value in zip(row.cells, values)):
            return row
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(raw_cells, raw_cells), min_size=1, max_size=12),
       st.sampled_from(PARAGRAPHS + ["SEL-66-2", "BL-1", None, 1, 2, Decimal("2.5")]),
       st.sampled_from([None, 0, 1, 2, 3, Decimal("4.5"), "SEL-66-1-6"]))
def test_the_indexed_match_is_the_first_matching_row(cells, first, second):
    rows = [Row(f"r{i}", (parse_cell(a), parse_cell(b))) for i, (a, b) in enumerate(cells)]
    conditions = Conditions(["a", "b"], rows, "foerste")
    assert conditions.match([first, second]) == _scan(conditions, [first, second])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(raw_cells, raw_cells), min_size=2, max_size=10))
def test_the_bucketed_overlap_check_finds_exactly_the_overlapping_pairs(cells):
    rows = [Row(f"r{i}", (parse_cell(a), parse_cell(b))) for i, (a, b) in enumerate(cells)]
    conditions = Conditions(["a", "b"], rows, "unik")
    every = {(x.id, y.id) for i, x in enumerate(rows) for y in rows[i + 1:]
             if all(c.overlaps(d) for c, d in zip(x.cells, y.cells))}
    assert {(a.id, b.id) for a, b in conditions.overlapping_pairs()} == every


def test_ten_thousand_distinct_rows_are_not_compared_pairwise(monkeypatch):
    rows = [Row(f"r{i}", (parse_cell(f"SEL-{1000 + i}"), parse_cell("-"))) for i in range(10_000)]
    calls = 0
    real = Cell.overlaps

    def counting(self: Cell, other: Cell) -> bool:
        nonlocal calls
        calls += 1
        return real(self, other)

    monkeypatch.setattr(Cell, "overlaps", counting)
    conditions = Conditions(["paragraf", "x"], rows, "unik")
    assert conditions.overlapping_pairs() == []
    assert calls < 30_000                          # a full scan would be 49,995,000 pairs
    assert conditions.match(["SEL-5000", None]).id == "r4000"


def test_reported_overlaps_are_capped():
    rows = [Row(f"r{i}", (parse_cell("SEL-1"),)) for i in range(2_000)]
    assert len(Conditions(["p"], rows, "unik").overlapping_pairs(most=20)) == 20
