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
"""

from __future__ import annotations

import datetime as _dt
import decimal
from decimal import Decimal
from dataclasses import dataclass, field
from functools import cached_property
from time import monotonic
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from ..errors import EngineError, InvalidCase, InvalidRuleset, NotRegulated
from ..formula.expr import MAX_EVALUATION_WEIGHT, Expression, LimitExceeded, check_size
from ..formula.functions import MONTH_RULE_FUNCTIONS
from .readings import Point
from .tables import Conditions
from .trace import Context, ResultWarning, TraceStep

# AttributeError: a function handed the wrong kind of value (``uden(5, 'a')`` calls 5.items());
# formulas themselves cannot reach attributes.
_RUNTIME_ERRORS = (ArithmeticError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                   decimal.DecimalException)
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

    def warn(self, ctx: Context) -> None:
        """Warnings this rule attaches to any result that used it."""
        for message in self.warnings:
            ctx.warn(message)

    @cached_property
    def warnings(self) -> tuple[ResultWarning, ...]:
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


def evaluate(expr: Expression, ctx: Context, meta: Meta) -> Any:
    """Evaluate ``expr`` over the call's values; a failure names the rule and its location.

    The result's size is checked here, once per formula, so no chain of
    steps can grow a text, a list or a whole number past the named bounds in
    :mod:`rammeaftale.formula.expr`.
    """
    try:
        result = expr.evaluate(ctx.values)
        if type(result) not in _SMALL:
            _weigh(result, ctx)
        return result
    except EngineError:
        raise
    except LimitExceeded as exc:
        raise _limit_error(meta, str(exc)) from None
    except RecursionError:
        raise _limit_error(meta, "beregningen er for dybt indlejret") from None
    except NameError as exc:
        # Cannot happen for a ruleset the compiler accepted; if it does, it is the ruleset's fault.
        raise InvalidRuleset(f"reglen '{meta.id}' ({meta.kilde}) bruger et navn uden værdi: {exc}",
                             location=meta.where) from None
    except _RUNTIME_ERRORS as exc:
        used = ", ".join(f"{n}={_clip(ctx.values.get(n))}" for n in expr.names)
        fields = [n for n in expr.names if n in ctx.case]
        raise InvalidCase(
            f"reglen '{meta.id}' ({meta.where}, {meta.kilde}) kunne ikke beregnes med sagens værdier: "
            f"{_explain(exc)}" + (f" [{used}]" if used else ""),
            # Only a formula that reads nothing but that one field can blame it: one that also reads a
            # parameter or an earlier result may have failed on that value, not on the kommune's data.
            path=fields[0] if len(fields) == 1 and len(expr.names) == 1 else None,
            details={"regel": meta.id, "felter": fields}) from None


#: Result types that can never be over a size bound: skip the call to check_size on the hot path.
_SMALL = frozenset({Decimal, _dt.date, bool, type(None)})


def _evaluate_in(expr: Expression, values: dict[str, Any], ctx: Context, meta: Meta) -> Any:
    """:func:`evaluate` over ``values`` (the call's namespace or a probe's copy of it)."""
    if values is ctx.values:
        return evaluate(expr, ctx, meta)
    saved = ctx.values
    ctx.values = values
    try:
        return evaluate(expr, ctx, meta)
    finally:
        ctx.values = saved


def _weigh(result: Any, ctx: Context) -> None:
    """Add ``result``'s weight to the evaluation's budget; :class:`LimitExceeded` past a bound."""
    ctx.weight += check_size(result)
    if ctx.weight > MAX_EVALUATION_WEIGHT:
        raise LimitExceeded(f"evalueringens værdier fylder over {MAX_EVALUATION_WEIGHT} tegn og elementer")


def _limit_error(meta: Meta, what: str) -> InvalidCase:
    return InvalidCase(f"reglen '{meta.id}' ({meta.where}, {meta.kilde}) overskred en grænse for "
                       f"beregningen: {what}", details={"regel": meta.id, "graense": what})


def _clip(value: Any, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _explain(exc: Exception) -> str:
    if isinstance(exc, (decimal.DivisionByZero, ZeroDivisionError)):
        return "division med nul"
    if isinstance(exc, KeyError):
        return f"nøglen {exc} findes ikke"
    if isinstance(exc, decimal.Overflow):        # str() is "[<class 'decimal.Overflow'>]"
        return "et tal blev for stort (over 1e999, motorens grænse)"
    if isinstance(exc, decimal.Underflow):
        return "et tal blev for tæt på nul (under 1e-999, motorens grænse)"
    if isinstance(exc, decimal.InvalidOperation):
        return "regnestykket er ikke defineret for disse værdier"
    if isinstance(exc, decimal.DecimalException):
        return "regnestykket kunne ikke udføres med motorens præcision"
    text = str(exc)
    if "Exceeds the limit" in text and "digits" in text:
        return "et helt tal fik over 4300 cifre"
    return text or type(exc).__name__


@dataclass
class Step:
    meta: Meta
    guard: Expression | None = None

    def defines(self) -> tuple[str, ...]:
        return ()

    def run(self, ctx: Context) -> None:
        if monotonic() > ctx.deadline:
            raise _limit_error(self.meta, "evalueringen brugte mere end den tilladte tid")
        if self.guard is not None and not evaluate(self.guard, ctx, self.meta):
            for name in self.defines():
                ctx.values[name] = None
            if ctx.trace is not None:
                ctx.record(TraceStep(self.meta.id, self.meta.kind, None, self.meta.kilde, self.meta.title,
                                     {n: ctx.values.get(n) for n in self.guard.names},
                                     [f"sprunget over: betingelsen '{self.guard.source}' er ikke opfyldt"]))
            return
        self.execute(ctx)

    def execute(self, ctx: Context) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Formula(Step):
    expr: Expression | None = None
    #: The readings declared at this formula (``laesninger``), if any; see :mod:`.readings`.
    point: Point | None = None

    def defines(self) -> tuple[str, ...]:
        return (self.meta.id,)

    def execute(self, ctx: Context) -> None:
        expr, reading = self.expr, None
        if self.point is not None:
            reading = self.point.pick(ctx)
            expr = reading.override
        result = evaluate(expr, ctx, self.meta)
        if reading is not None:
            self._probe(ctx, reading, result)
        ctx.values[self.meta.id] = result
        self.meta.warn(ctx)
        if ctx.trace is not None:
            notes = self.meta.notes()
            if reading is not None:
                notes.append(self.point.note(reading))
            if MONTH_RULE_FUNCTIONS.intersection(expr.functions):
                notes.append(f"månedsregel: {ctx.month_rule}")
            ctx.record(TraceStep(self.meta.id, "formel", result, self.meta.kilde, self.meta.title,
                                 {n: ctx.values.get(n) for n in expr.names}, notes))


    def _probe(self, ctx: Context, used: Any, result: Any) -> None:
        """Mark the other readings that give this step the same value: they cannot change the answer.

        Every step before this one ran the same way under any reading of this
        point, so if another reading binds the same value here, the rest of
        the evaluation is the same too, and re-running the case under it
        (:meth:`rammeaftale.Engine.evaluate`) would only find what is known.
        """
        assert self.point is not None
        for other in self.point.readings:
            if other is used:
                continue
            try:
                theirs = evaluate(other.override, ctx, self.meta)
            except EngineError:
                continue                       # it fails where ours did not: a difference, re-run it
            if type(theirs) is type(result) and theirs == result:
                ctx.moot.add((self.point.id, other.id))


@dataclass
class RowAction:
    """What a matched row does: literal values, formulas, required inputs."""

    meta: Meta
    literals: dict[str, Any] = field(default_factory=dict)
    formulas: dict[str, Expression] = field(default_factory=dict)
    requires: tuple[str, ...] = ()


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

    @cached_property
    def rule_name(self) -> str:
        """The name the matched row's id is bound to (``<tabel-id>_regel``)."""
        return f"{self.meta.id}_regel"

    def execute(self, ctx: Context) -> None:
        key = [ctx.values.get(c) for c in self.conditions.columns]
        row = self.conditions.match(key)
        if row is None:
            raise self._no_match(key)
        action, reading = self.actions[row.id], None
        before: dict[str, Any] | None = None
        if self.row_points and row.id in self.row_points:
            reading = self.row_points[row.id].pick(ctx)
            action = reading.override
            before = dict(ctx.values)
        self._apply(action, ctx.values, ctx)
        values = ctx.values
        if before is not None:
            self._probe(ctx, self.row_points[row.id], reading, before)
        values[self.rule_name] = row.id
        if action.meta.warnings or self.meta.warnings:
            action.meta.warn(ctx)
            self.meta.warn(ctx)
        if ctx.trace is not None:
            used = dict(zip(self.conditions.columns, key))
            for expr in action.formulas.values():
                used.update({n: values.get(n) for n in expr.names})
            notes = [f"regel {row.id} i tabellen (hitpolitik {self.conditions.policy})"] + action.meta.notes()
            if reading is not None:
                notes.append(self.row_points[row.id].note(reading))
            ctx.record(TraceStep(f"{self.meta.id}/{row.id}", "tabel", {n: values[n] for n in self.outputs},
                                 action.meta.kilde, action.meta.title or self.meta.title, used, notes))

    def _apply(self, action: RowAction, values: dict[str, Any], ctx: Context) -> None:
        """Bind the row's outcome in ``values`` (the call's namespace, or a copy when probing)."""
        if action.requires:
            _require(action.requires, values, action.meta)
        values.update(action.literals)
        for name, expr in action.formulas.items():
            values[name] = _evaluate_in(expr, values, ctx, action.meta)

    def _probe(self, ctx: Context, point: Point, used: Any, before: dict[str, Any]) -> None:
        """As :meth:`Formula._probe`, for a row: an outcome equal to ours cannot change the answer."""
        ours = {n: ctx.values.get(n) for n in self.outputs}
        for other in point.readings:
            if other is used:
                continue
            theirs_values = dict(before)
            try:
                self._apply(other.override, theirs_values, ctx)
            except EngineError:
                continue
            theirs = {n: theirs_values.get(n) for n in self.outputs}
            if all(type(theirs[n]) is type(ours[n]) and theirs[n] == ours[n] for n in self.outputs):
                ctx.moot.add((point.id, other.id))

    def _no_match(self, key: Sequence[Any]) -> EngineError:
        described = ", ".join(f"{c}={v}" for c, v in zip(self.conditions.columns, key))
        field_ = (self.no_match or {}).get("felt")
        known = self.conditions.known_values(field_) if field_ in self.conditions.columns else []
        return no_match(self.no_match, self.meta.id, described, known)


def _require(names: Sequence[str], values: Mapping[str, Any], meta: Meta) -> None:
    for name in names:
        if values.get(name) is None:
            raise InvalidCase(f"feltet '{name}' skal angives i denne situation: reglen '{meta.id}' "
                              f"({meta.kilde}) bygger på det", path=name)


@dataclass
class Require(Step):
    names: tuple[str, ...] = ()

    def execute(self, ctx: Context) -> None:
        _require(self.names, ctx.values, self.meta)
        if ctx.trace is not None:
            ctx.record(TraceStep(self.meta.id, "kraev", True, self.meta.kilde, self.meta.title,
                                 {n: ctx.values.get(n) for n in self.names}))


@dataclass
class Unregulated(Step):
    reason: str = ""

    def execute(self, ctx: Context) -> None:
        raise NotRegulated(f"{self.reason} (kilde: {self.meta.kilde})",
                           details={"begrundelse": self.reason, "kilde": self.meta.kilde, "regel": self.meta.id})


@dataclass
class Warning(Step):
    message: str = ""

    def execute(self, ctx: Context) -> None:
        ctx.warn(ResultWarning(f"{self.message} ({self.meta.kilde})", self.meta.kilde, "advarsel"))
        self.meta.warn(ctx)
        if ctx.trace is not None:
            ctx.record(TraceStep(self.meta.id, "advarsel", self.message, self.meta.kilde, self.meta.title))


@dataclass
class PluginStep(Step):
    """A ``blok`` step: a building block supplied by a plugin."""

    function: Callable[[Mapping[str, Any]], Any] | None = None
    reads: tuple[str, ...] = ()

    def defines(self) -> tuple[str, ...]:
        return (self.meta.id,)

    def execute(self, ctx: Context) -> None:
        try:
            result = self.function(MappingProxyType(ctx.values))
        except EngineError:
            raise
        except _RUNTIME_ERRORS as exc:
            raise InvalidCase(f"reglen '{self.meta.id}' ({self.meta.where}, {self.meta.kilde}) kunne ikke "
                              f"beregnes med sagens værdier: {_explain(exc)}") from None
        try:
            _weigh(result, ctx)
        except LimitExceeded as exc:
            raise _limit_error(self.meta, str(exc)) from None
        ctx.values[self.meta.id] = result
        self.meta.warn(ctx)
        if ctx.trace is not None:
            ctx.record(TraceStep(self.meta.id, "blok", result, self.meta.kilde, self.meta.title,
                                 {n: ctx.values.get(n) for n in self.reads}, self.meta.notes()))


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

    def execute(self, ctx: Context) -> None:
        key = [ctx.values.get(c) for c in self.conditions.columns]
        row = self.conditions.match(key)
        if row is None:
            described = ", ".join(f"{c}={v}" for c, v in zip(self.conditions.columns, key))
            raise no_match(self.no_match, self.meta.id, described, [])
        variant = self.variants[row.id]
        ctx.values[self.meta.id] = row.id
        variant.meta.warn(ctx)
        if ctx.trace is not None:
            ctx.record(TraceStep(self.meta.id, "variant", row.id, variant.meta.kilde, variant.meta.title,
                                 dict(zip(self.conditions.columns, key)), variant.meta.notes()))
        for step in variant.steps:
            step.run(ctx)
