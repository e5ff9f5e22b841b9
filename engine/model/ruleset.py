"""The compiled model: a ruleset (region + period) and its questions.

These objects are built once by :mod:`engine.compiler` and are read-only
afterwards; evaluating a case never touches YAML again.
"""

from __future__ import annotations

import datetime as _dt
import threading
from time import monotonic
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..load.yamlload import Document
from .catalogue import Question
from ..formula.expr import Expression
from .lowering import Program, lower_question
from .readings import Point
from .steps import Meta, Step
from .trace import Context, ResultWarning

#: Held while a question is lowered on first use, so two threads never lower it twice.
_LOWERING = threading.Lock()


@dataclass(frozen=True)
class Parameter:
    """A named value from the agreement (a rate, a threshold), with its source.

    Its :class:`Meta` carries the citation, legal text, interpretation and
    status like any rule's; a step that uses the parameter inherits its
    warnings (see :meth:`engine.compiler.Scope.expression`).
    """

    name: str
    value: Any
    meta: Meta
    point: "Point | None" = None        # readings of the value (``laesninger``), if declared

    @property
    def kilde(self) -> str:
        return self.meta.kilde

    @property
    def description(self) -> str | None:
        return self.meta.title

    @property
    def note(self) -> str | None:
        return self.meta.note

    @property
    def status(self) -> str | None:
        return self.meta.status


@dataclass(eq=False)
class RuleQuestion:
    """One question as one ruleset answers it."""

    name: str
    meta: Meta
    spec: Question
    steps: list[Step]
    outputs: dict[str, Expression]
    parameters: dict[str, Parameter]
    month_rule: str
    owner: str                                   # id of the ruleset that defines it
    valid_from: _dt.date | None = None
    valid_to: _dt.date | None = None
    #: Every point of alternative readings this question can reach, by id (its rules' and the parameters it uses).
    points: dict[str, Point] = field(default_factory=dict)
    #: Points declared at parameters this question uses: every case of the question reaches them.
    param_points: tuple[Point, ...] = ()

    def __post_init__(self) -> None:
        # Computed once here rather than lazily, so a compiled question is never written to after load.
        self._parameter_values = {n: p.value for n, p in self.parameters.items()}
        self._warnings = self.meta.warnings
        self._program: Program | None = None

    @property
    def program(self) -> Program:
        """The question compiled to one Python function (:mod:`.lowering`), on first use.

        Lowering on first use keeps loading cheap (a CLI call answers one
        question of one ruleset).  It is the one write to a compiled question
        after load: done once, under a lock, and the program never changes.
        """
        program = self._program
        if program is None:
            with _LOWERING:
                program = self._program
                if program is None:
                    program = self._program = lower_question(self.steps, self.outputs, self.meta,
                                                             f"{self.owner}/{self.name}", self.month_rule)
        return program

    def run(self, values: dict[str, Any], trace: bool, seconds: float | None = None,
            readings: dict[str, str] | None = None,
            deadline: float | None = None) -> tuple[dict[str, Any], Context]:
        """Evaluate the question over ``values`` (already-coerced inputs): (raw outputs, the call's context).

        Everything the call changes lives in its namespace and the returned
        :class:`Context`; this object is only read, so threads may share it.
        ``seconds`` bounds the wall time (checked before every step).  The
        caller runs it inside the engine's Decimal context
        (:meth:`rammeaftale.Engine.evaluate` does, around coercion and output
        typing too).  ``readings`` (point id -> reading id) replaces the
        followed reading where the caller chose another; ``deadline`` (a
        ``time.monotonic()`` value) overrides ``seconds``, so re-runs under
        alternative readings share one time budget.
        """
        program = self.program          # lowered (on first use) before the clock starts
        namespace = {**self._parameter_values, **values}
        if self.param_points and readings:
            for point in self.param_points:
                if point.id in readings:
                    namespace[point.rule] = point.by_id[readings[point.id]].override
        if deadline is None:
            deadline = monotonic() + seconds if seconds is not None else float("inf")
        ctx = Context(trace, case=values, readings=readings)
        if self.param_points:
            ctx.touched.extend(self.param_points)
        if self._warnings:
            ctx.warn_all(self._warnings)
        return program.run(namespace, ctx, ctx.trace, deadline), ctx

    def rerun(self, first: Context, point: Point, readings: dict[str, str], deadline: float) -> dict[str, Any]:
        """The raw outputs of the case ``first`` evaluated, under ``readings`` (no trace).

        Where the case reached ``point`` inside a step, the run resumes at
        that step from what ``first`` recorded there (:meth:`Point.pick`):
        every earlier step ran the same under any reading of the point.  A
        point at a parameter is felt from the start, so that case runs whole.
        """
        resume = first.resume.get(point.id)
        if resume is None:
            return self.run(dict(first.case), False, readings=readings, deadline=deadline)[0]
        step, namespace, weight = resume
        ctx = Context(False, case=first.case, readings=readings)
        ctx.weight = weight
        return self.program.run(dict(namespace), ctx, None, deadline, step)


@dataclass(eq=False)
class Ruleset:
    """One agreement period of one region (or a library of shared rules)."""

    id: str
    region: str
    name: str
    kind: str
    valid_from: _dt.date
    valid_to: _dt.date
    status: str
    month_rule: str
    folder: Path
    sources: dict[str, dict[str, Any]]                          # kilder by short name: {fil, titel, status}
    data: dict[str, Any] = field(default_factory=dict)      # regelsaet.yaml as written
    parameters: dict[str, Parameter] = field(default_factory=dict)
    questions: dict[str, RuleQuestion] = field(default_factory=dict)
    unregulated: dict[str, dict[str, str]] = field(default_factory=dict)
    header: Document | None = field(default=None, repr=False)  # regelsaet.yaml as read: data and lines
    #: ``sha256:…`` of every rule file's bytes and the libraries reused (set by the compiler).
    digest: str = ""
    #: Every point of alternative readings declared in this ruleset's own files, by id.
    points: dict[str, Point] = field(default_factory=dict)
    #: ``file:line: message`` for each old form of the format still accepted (``validate`` prints them).
    format_warnings: list[str] = field(default_factory=list)

    def where(self, path: tuple[Any, ...] = ()) -> str:
        """``file:line`` of ``path`` in ``regelsaet.yaml`` (e.g. ``("genbrug", 0)``)."""
        if self.header is None:
            return f"{self.id}/regelsaet.yaml:1"
        return self.header.where(path)

    def covers(self, day: _dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to

    @property
    def status_reason(self) -> str | None:
        return self.data.get("status_begrundelse")

    @cached_property
    def status_warnings(self) -> tuple[ResultWarning, ...]:
        """The warning every result from a draft or proposal carries."""
        if self.status == "vedtaget":
            return ()
        reason = f" {self.status_reason}" if self.status_reason else ""
        return (ResultWarning(f"Regelsættet {self.id} har status '{self.status}': resultatet bygger på en "
                              f"tekst, der ikke er endeligt vedtaget.{reason}", None, "status"),)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "region": self.region, "navn": self.name, "type": self.kind,
            "gyldig_fra": self.valid_from.isoformat(), "gyldig_til": self.valid_to.isoformat(),
            "status": self.status, "digest": self.digest,
            "spoergsmaal": sorted(self.questions),
            "ikke_reguleret": sorted(self.unregulated),
        }
