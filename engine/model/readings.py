"""Alternative readings ("fortolkninger") of a wording that can honestly be read two ways.

A ruleset declares, at the rule, table row or parameter a wording concerns, a
*point* (:class:`Point`): the reading the ruleset follows and one or more
alternatives, each with its text, its kilde and what it changes (a formula, a
row's outcome, a parameter's value).  Compiled, every reading carries its own
ready-to-run version of the thing it changes (``Reading.override``); the
followed reading carries the rule's own.

Nothing here holds per-call state.  Which reading a call uses, and which
points the case reached, live in the call's
:class:`~rammeaftale.model.trace.Context` (``readings`` and ``touched``), so a
compiled ruleset stays immutable and shared by threads.  Re-running a case
under each alternative and comparing the answers is the run layer's job
(:meth:`rammeaftale.Engine.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .trace import Context


@dataclass(frozen=True, eq=False)
class Reading:
    """One way to read the wording: its id, text, kilde and the compiled thing it puts in place."""

    id: str
    text: str
    kilde: str
    followed: bool
    override: Any = None        # an Expression (formel), a RowAction (tabelrække) or a value (parameter)
    change: str = ""            # what the reading changes, as written (for reports)


@dataclass(frozen=True, eq=False)
class Point:
    """A wording with several readings, declared at one rule (``laesninger``)."""

    id: str
    kind: str                   # "formel", "regel" (a table row) or "parameter"
    rule: str                   # the rule it is declared at (step id, "tabel/række" or parameter name)
    where: str                  # file:line of the declaration
    title: str | None
    followed: Reading
    alternatives: tuple[Reading, ...]
    by_id: dict[str, Reading] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({r.id: r for r in self.readings})

    @property
    def readings(self) -> tuple[Reading, ...]:
        return (self.followed,) + self.alternatives

    def pick(self, ctx: Context, ns: dict[str, Any]) -> Reading:
        """The reading this call uses here; records that the case reached the point, and where.

        What is recorded (the top-level step the case was in, the namespace
        and the weight) lets an alternative reading resume from that step
        instead of running the case from the start
        (:meth:`rammeaftale.model.ruleset.RuleQuestion.rerun`): every step
        before it ran the same way under any reading of this point.
        """
        if self not in ctx.touched:
            ctx.touched.append(self)
            ctx.resume[self.id] = (ctx.step, dict(ns), ctx.step_weight)
        chosen = ctx.readings.get(self.id)
        return self.followed if chosen is None else self.by_id[chosen]

    def note(self, reading: Reading) -> str:
        """The trace note saying which reading a step used."""
        if reading.followed:
            others = ", ".join(f"'{r.id}'" for r in self.alternatives)
            return (f"fortolkning {self.id}: læsningen '{reading.id}' (den regelsættet følger; "
                    f"alternativ: {others})")
        return (f"fortolkning {self.id}: læsningen '{reading.id}' (valgt af kalderen i stedet for "
                f"'{self.followed.id}', som regelsættet følger)")

    def summary(self) -> dict[str, Any]:
        """JSON form for listings and reports."""
        return {
            "punkt": self.id, "titel": self.title, "regel": self.rule, "art": self.kind, "sted": self.where,
            "fulgt": {"id": self.followed.id, "tekst": self.followed.text, "kilde": self.followed.kilde},
            "alternativer": [{"id": r.id, "tekst": r.text, "kilde": r.kilde, "aendrer": r.change}
                             for r in self.alternatives],
        }
