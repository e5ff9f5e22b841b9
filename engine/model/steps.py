"""The building blocks a question is made of, compiled and ready to run.

A question is a list of steps evaluated in order over one namespace (the
case's inputs, the ruleset's parameters and every earlier step's result):

* :class:`Formula`  — ``formel``: one expression;
* :class:`Table`    — ``tabel``: a decision table with a hit policy;
* :class:`Require`  — ``kraev``: inputs this situation needs (``invalid_case``);
* :class:`Unregulated` — ``ikke_reguleret``: the text is silent here;
* :class:`Warning`  — ``advarsel``: a warning the result must carry;
* :class:`Variants` — ``varianter``: one of several step lists, chosen by
  conditions like a table row (the agreement's "model A / model B");
* :class:`PluginStep` — ``blok``: a building block a plugin supplies.

Every step may have a guard (``naar``); a step whose guard is false binds its
names to ``None`` and says so in the trace.

Each kind writes its own part of the question's one compiled function
(``lower``, see :mod:`.lowering`) and its own trace steps,
so what a kind means is written here, once.  The objects are read-only once
compiled; what a call changes lives in its namespace and its context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from ..errors import EngineError, InvalidCase, NotRegulated
from ..formula.expr import Expression, LimitExceeded
from ..formula.functions import MONTH_RULE_FUNCTIONS
from .guards import BothGuards, ConditionGuard
from .lowering import RUNTIME_ERRORS, Writer, explain, limit_error
from .readings import Point, Reading
from .tables import Conditions, Row
from .trace import Context, ResultWarning, TraceStep

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass
class Meta:
    """What every rule carries: identity, citation, legal text, notes, status."""

    id: str
    kind: str
    where: str
    kilde: str
    title: str | None = None
    text: str | None = None
    note: str | None = None
    status: str | None = None
    inherited: list[ResultWarning] = field(default_factory=list)      # from parameters the rule uses
    #: The YAML mapping the secretariat wrote for this rule (read-only view; ``where`` is its file:line).
    source: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @cached_property
    def warnings(self) -> tuple[ResultWarning, ...]:
        """Warnings this rule attaches to any result that used it."""
        out = []
        if self.note:
            out.append(ResultWarning(f"Fortolkning ({self.id}): {self.note}", self.kilde, "fortolkning"))
        if self.status and self.status != "vedtaget":
            out.append(ResultWarning(f"Reglen {self.id} har status '{self.status}' i kilden ({self.kilde}); "
                                     f"resultatet bygger på en regel, der ikke er vedtaget.", self.kilde,
                                     "regel_status"))
        return tuple(out + [w for w in self.inherited if w not in out])

    def notes(self) -> list[str]:
        return [f"Fortolkning: {self.note}"] if self.note else []


def warn(w: Writer, warnings: Sequence[ResultWarning]) -> None:
    """Write: add ``warnings`` to the call's result (nothing when there are none)."""
    if warnings:
        w.emit(f"ctx.warn_all({w.bind(tuple(warnings), 'advarsler')})")


Guard = Expression | ConditionGuard | BothGuards


@dataclass
class Step:
    meta: Meta
    guard: Guard | None = None

    def defines(self) -> tuple[str, ...]:
        return ()

    def points(self) -> tuple[Point, ...]:
        """The points of alternative readings a case can reach inside this step."""
        return ()

    def lower(self, w: Writer) -> None:
        """Write this step: the time bound, the guard, then what the kind does (:meth:`lower_body`)."""
        w.deadline(self.meta)
        if self.guard is None:
            self.lower_body(w)
            return
        w.site(self.meta, self.guard.names)
        w.emit(f"g = {w.guard(self.guard)}")
        w.weigh("g")
        with w.block("if g:"):
            self.lower_body(w)
        with w.block("else:"):
            for name in self.defines():
                w.emit(f"ns[{name!r}] = None")
            w.trace(self.meta.id, self.meta.kind, "None", self.meta.kilde, self.meta.title,
                    w.values(self.guard.names),
                    w.notes([f"sprunget over: betingelsen '{self.guard.source}' er ikke opfyldt"]))

    def lower_body(self, w: Writer) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Formula(Step):
    expr: Expression | None = None
    #: The readings declared at this formula (``laesninger``), if any; see :mod:`.readings`.
    point: Point | None = None

    def defines(self) -> tuple[str, ...]:
        return (self.meta.id,)

    def points(self) -> tuple[Point, ...]:
        return (self.point,) if self.point is not None else ()

    def lower_body(self, w: Writer) -> None:
        assert self.expr is not None
        if self.point is None:
            w.site(self.meta, self.expr.names)
            w.emit(f"r = {w.formula(self.expr)}")
            w.weigh("r")
        else:
            self._lower_readings(w, self.point)
        w.emit(f"ns[{self.meta.id!r}] = r")
        warn(w, self.meta.warnings)
        if self.point is None:
            w.trace(self.meta.id, "formel", "r", self.meta.kilde, self.meta.title, w.values(self.expr.names),
                    w.notes(self.meta.notes(), after=self._month_note(self.expr, w.month_rule)))
        else:        # the names read and the notes depend on the reading used
            with w.block("if tr is not None:"):
                w.emit(f"tr.append({w.bind(self, 'trin')}.traced(ns, r, rd, {w.month_rule!r}))")

    @staticmethod
    def _month_note(expr: Expression, month_rule: str) -> list[str]:
        return [f"månedsregel: {month_rule}"] if MONTH_RULE_FUNCTIONS.intersection(expr.functions) else []

    def _lower_readings(self, w: Writer, point: Point) -> None:
        """The reading the call uses, then a probe of the others.

        The probe marks each other reading that gives this step the same
        value as moot: every step before this one ran the same way under any
        reading of this point, so the rest of the evaluation would be the
        same too, and re-running the case under it
        (:meth:`rammeaftale.Engine.evaluate`) would only find what is known.
        A reading that fails here where ours did not is a difference: re-run.
        """
        w.emit(f"rd = {w.bind(point, 'punkt')}.pick(ctx, ns)")
        readings = point.readings
        for i, reading in enumerate(readings):
            header = "else:" if i == len(readings) - 1 else \
                f"{'if' if i == 0 else 'elif'} rd is {w.bind(reading, 'laesning')}:"
            with w.block(header):
                w.site(self.meta, reading.override.names)
                w.emit(f"r = {w.formula(reading.override)}")
                w.weigh("r")
        for reading in readings:
            with w.block(f"if rd is not {w.bind(reading, 'laesning')}:"):
                with w.block("try:"):
                    w.site(self.meta, reading.override.names)
                    w.emit(f"t = {w.formula(reading.override)}")
                    w.weigh("t")
                with w.block("except _PROBE_ERRORS:"):
                    w.emit("pass")
                with w.block("else:"):
                    with w.block("if t.__class__ is r.__class__ and t == r:"):
                        w.emit(f"ctx.moot.add(({point.id!r}, {reading.id!r}))")

    def traced(self, ns: Mapping[str, Any], result: Any, reading: Reading, month_rule: str) -> TraceStep:
        assert self.point is not None
        expr = reading.override
        notes = self.meta.notes() + [self.point.note(reading)] + self._month_note(expr, month_rule)
        return TraceStep(self.meta.id, "formel", result, self.meta.kilde, self.meta.title,
                         {n: ns.get(n) for n in expr.names}, notes)


@dataclass
class RowAction:
    """What a matched row does: literal values, formulas, required inputs."""

    meta: Meta
    literals: dict[str, Any] = field(default_factory=dict)
    formulas: dict[str, Expression] = field(default_factory=dict)
    requires: tuple[str, ...] = ()

    def applier(self, w: Writer, *, always: bool = False) -> str:
        """The generated name that applies this row to a namespace.

        A row of literals only is its mapping (``ns.update`` of it, inline);
        anything else, or ``always``, is a generated function
        ``(ns, ctx, deadline)`` — the namespace may be a probe's copy.
        """
        if not (self.requires or self.formulas or always):
            return w.bind(self.literals, "saet")
        name = w.name("raekke")
        with w.function(name, "ns, ctx, deadline"):
            if self.requires:
                missing = " or ".join(f"ns.get({n!r}) is None" for n in self.requires)
                with w.block(f"if {missing}:"):
                    w.emit(f"raise {w.bind(self, 'raekke')}.missing(ns)")
            if self.literals:
                w.emit(f"ns.update({w.bind(self.literals, 'saet')})")
            for output, expr in self.formulas.items():
                w.site(self.meta, expr.names)
                w.emit(f"v = {w.formula(expr)}")
                w.weigh("v")
                w.emit(f"ns[{output!r}] = v")
        return name

    def missing(self, ns: Mapping[str, Any]) -> InvalidCase:
        return required(self.requires, ns, self.meta)


def required(names: Sequence[str], ns: Mapping[str, Any], meta: Meta) -> InvalidCase:
    """The error for the first of ``names`` the case leaves empty (the caller knows one is)."""
    name = next(n for n in names if ns.get(n) is None)
    return InvalidCase(f"feltet '{name}' skal angives i denne situation: reglen '{meta.id}' "
                       f"({meta.kilde}) bygger på det", path=name)


def no_match(spec: dict[str, Any] | None, what: str, described: str, known: list[str]) -> EngineError:
    """The error for 'no row / variant applies', as the ruleset declared it."""
    if spec is None:
        return NotRegulated(f"Ingen regel i '{what}' dækker situationen ({described}); "
                            "aftaleteksten regulerer ikke dette tilfælde.",
                            details={"begrundelse": "ingen regel dækker situationen", "kilde": None,
                                     "regel": what})
    message = spec["besked"] + (f" (kilde: {spec['kilde']})" if spec.get("kilde") else "")
    if spec["fejl"] == "invalid_case":
        if known:
            message += f". Kendte værdier: {', '.join(known)}"
        return InvalidCase(message, path=spec.get("felt"))
    return NotRegulated(message, details={"begrundelse": spec["besked"], "kilde": spec.get("kilde"), "regel": what})


def _match(w: Writer, me: str, conditions: Conditions) -> None:
    """Write: ``key`` (the condition columns' values) and ``row``, the matching row, or the step's no-match error."""
    columns = "".join(f"ns.get({c!r}), " for c in conditions.columns)
    w.emit(f"key = ({columns})")
    w.emit(f"row = {w.bind(conditions.match, 'match')}(key)")
    with w.block("if row is None:"):
        w.emit(f"raise {me}.unmatched(key)")


@dataclass
class Table(Step):
    conditions: Conditions | None = None
    outputs: tuple[str, ...] = ()
    actions: dict[str, RowAction] = field(default_factory=dict)
    no_match: dict[str, Any] | None = None
    #: Readings declared at rows of this table (row id -> point); empty for almost every table.
    row_points: dict[str, Point] = field(default_factory=dict)

    def defines(self) -> tuple[str, ...]:
        return self.outputs + (self.rule_name,)

    def points(self) -> tuple[Point, ...]:
        return tuple(self.row_points.values())

    @cached_property
    def rule_name(self) -> str:
        """The name the matched row's id is bound to (``<tabel-id>_regel``)."""
        return f"{self.meta.id}_regel"

    def lower_body(self, w: Writer) -> None:
        assert self.conditions is not None
        me = w.bind(self, "tabel")
        _match(w, me, self.conditions)
        w.emit("rid = row.id")
        appliers = "{" + ", ".join(f"{rid!r}: {action.applier(w)}" for rid, action in self.actions.items()) + "}"
        table = w.name("udfald")
        w.define(table, appliers)
        if self.row_points:
            readings = "{" + ", ".join(f"{w.bind(reading, 'laesning')}: {reading.override.applier(w, always=True)}"
                                       for point in self.row_points.values() for reading in point.readings) + "}"
            by_reading = w.name("laesninger")
            w.define(by_reading, readings)
            with w.block(f"if rid in {w.bind(self.row_points, 'punkter')}:"):
                w.emit(f"rd = {me}.apply_reading(rid, ns, ctx, deadline, {by_reading})")
            with w.block("else:"):
                self._lower_apply(w, table)
        else:
            self._lower_apply(w, table)
        w.emit(f"ns[{self.rule_name!r}] = rid")
        warnings = {rid: action.meta.warnings + self.meta.warnings
                    for rid, action in self.actions.items() if action.meta.warnings or self.meta.warnings}
        if warnings:
            w.emit(f"ws = {w.bind(warnings, 'advarsler')}.get(rid)")
            with w.block("if ws:"):
                w.emit("ctx.warn_all(ws)")
        texts = {rid: self._row_texts(action) for rid, action in self.actions.items()}
        with w.block("if tr is not None:"):
            w.emit(f"tr.append({me}.traced(ns, row, key, rd, {w.bind(texts, 'tekster')}[rid]))")

    def _row_texts(self, action: RowAction) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What a row's trace step says besides its values: (notes, names its formulas read)."""
        assert self.conditions is not None
        notes = (f"regel {action.meta.id} i tabellen (hitpolitik {self.conditions.policy})", *action.meta.notes())
        return notes, tuple(dict.fromkeys(n for expr in action.formulas.values() for n in expr.names))

    @staticmethod
    def _lower_apply(w: Writer, table: str) -> None:
        w.emit("rd = None")
        w.emit(f"x = {table}[rid]")
        with w.block("if x.__class__ is dict:"):
            w.emit("ns.update(x)")
        with w.block("else:"):
            w.emit("x(ns, ctx, deadline)")

    def apply_reading(self, rid: str, ns: dict[str, Any], ctx: Context, deadline: float,
                      appliers: Mapping[Reading, Callable[..., None]]) -> Reading:
        """Apply the reading of row ``rid`` the call uses, then probe the others (as :class:`Formula`)."""
        point = self.row_points[rid]
        used = point.pick(ctx, ns)
        before = dict(ns)
        appliers[used](ns, ctx, deadline)
        ours = {n: ns.get(n) for n in self.outputs}
        for other in point.readings:
            if other is used:
                continue
            theirs_values = dict(before)
            try:
                appliers[other](theirs_values, ctx, deadline)
            except EngineError:
                continue
            theirs = {n: theirs_values.get(n) for n in self.outputs}
            if all(type(theirs[n]) is type(ours[n]) and theirs[n] == ours[n] for n in self.outputs):
                ctx.moot.add((point.id, other.id))
        return used

    def traced(self, ns: Mapping[str, Any], row: Row, key: Sequence[Any], reading: Reading | None,
               texts: tuple[tuple[str, ...], tuple[str, ...]]) -> TraceStep:
        assert self.conditions is not None
        action = reading.override if reading is not None else self.actions[row.id]
        if reading is not None:
            texts = self._row_texts(action)
        used = dict(zip(self.conditions.columns, key))
        for name in texts[1]:
            used[name] = ns.get(name)
        notes = list(texts[0])
        if reading is not None:
            notes.append(self.row_points[row.id].note(reading))
        return TraceStep(f"{self.meta.id}/{row.id}", "tabel", {n: ns[n] for n in self.outputs},
                         action.meta.kilde, action.meta.title or self.meta.title, used, notes)

    def unmatched(self, key: Sequence[Any]) -> EngineError:
        assert self.conditions is not None
        described = ", ".join(f"{c}={v}" for c, v in zip(self.conditions.columns, key))
        field_ = (self.no_match or {}).get("felt")
        known = self.conditions.known_values(field_) if field_ in self.conditions.columns else []
        return no_match(self.no_match, self.meta.id, described, known)


@dataclass
class Require(Step):
    names: tuple[str, ...] = ()

    def lower_body(self, w: Writer) -> None:
        me = w.bind(self, "krav")
        missing = " or ".join(f"ns.get({n!r}) is None" for n in self.names)
        with w.block(f"if {missing}:"):
            w.emit(f"raise {me}.missing(ns)")
        w.trace(self.meta.id, "kraev", "True", self.meta.kilde, self.meta.title, w.values(self.names))

    def missing(self, ns: Mapping[str, Any]) -> InvalidCase:
        return required(self.names, ns, self.meta)



@dataclass
class Unregulated(Step):
    reason: str = ""

    def lower_body(self, w: Writer) -> None:
        w.emit(f"raise {w.bind(self, 'ikke_reguleret')}.error()")

    def error(self) -> NotRegulated:
        return NotRegulated(f"{self.reason} (kilde: {self.meta.kilde})",
                            details={"begrundelse": self.reason, "kilde": self.meta.kilde, "regel": self.meta.id})


@dataclass
class Warning(Step):
    message: str = ""

    def lower_body(self, w: Writer) -> None:
        warn(w, (ResultWarning(f"{self.message} ({self.meta.kilde})", self.meta.kilde, "advarsel"),
                 *self.meta.warnings))
        w.trace(self.meta.id, "advarsel", repr(self.message), self.meta.kilde, self.meta.title, "{}")


@dataclass
class PluginStep(Step):
    """A ``blok`` step: a building block supplied by a plugin."""

    function: Callable[[Mapping[str, Any]], Any] | None = None
    reads: tuple[str, ...] = ()

    def defines(self) -> tuple[str, ...]:
        return (self.meta.id,)

    def lower_body(self, w: Writer) -> None:
        me = w.bind(self, "blok")
        w.emit(f"r = {me}.call(ns, ctx)")
        w.emit(f"ns[{self.meta.id!r}] = r")
        warn(w, self.meta.warnings)
        w.trace(self.meta.id, "blok", "r", self.meta.kilde, self.meta.title, w.values(self.reads),
                w.notes(self.meta.notes()))

    def call(self, ns: dict[str, Any], ctx: Context) -> Any:
        """The plugin's result over a read-only view of the namespace, checked like a formula's."""
        assert self.function is not None
        try:
            result = self.function(MappingProxyType(ns))
        except EngineError:
            raise
        except RUNTIME_ERRORS as exc:
            raise InvalidCase(f"reglen '{self.meta.id}' ({self.meta.where}, {self.meta.kilde}) kunne ikke "
                              f"beregnes med sagens værdier: {explain(exc)}") from None
        try:
            ctx.weigh(result)
        except LimitExceeded as exc:
            raise limit_error(self.meta, str(exc)) from None
        return result



@dataclass
class Variant:
    meta: Meta
    steps: list[Step]


@dataclass
class Variants(Step):
    conditions: Conditions | None = None
    variants: dict[str, Variant] = field(default_factory=dict)
    shared: tuple[str, ...] = ()
    no_match: dict[str, Any] | None = None

    def defines(self) -> tuple[str, ...]:
        return self.shared + (self.meta.id,)

    def points(self) -> tuple[Point, ...]:
        return tuple(p for variant in self.variants.values() for step in variant.steps for p in step.points())

    def lower_body(self, w: Writer) -> None:
        assert self.conditions is not None
        me = w.bind(self, "varianter")
        _match(w, me, self.conditions)
        w.emit(f"ns[{self.meta.id!r}] = row.id")
        columns = w.bind(self.conditions.columns, "kolonner")
        for i, (vid, variant) in enumerate(self.variants.items()):
            with w.block(f"{'if' if i == 0 else 'elif'} row.id == {vid!r}:"):
                w.trace(self.meta.id, "variant", repr(vid), variant.meta.kilde, variant.meta.title,
                        f"dict(zip({columns}, key))", w.notes(variant.meta.notes()))
                warn(w, variant.meta.warnings)
                w.steps(variant.steps)

    def unmatched(self, key: Sequence[Any]) -> EngineError:
        assert self.conditions is not None
        described = ", ".join(f"{c}={v}" for c, v in zip(self.conditions.columns, key))
        return no_match(self.no_match, self.meta.id, described, [])
