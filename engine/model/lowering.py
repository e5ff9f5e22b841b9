"""A question lowered to one Python function: the engine's one runtime.

A ruleset is static, so each question (its steps, guards, tables, readings
and ``resultat``) is written out once as the source of a single Python
function — the formulas inline as Python expressions over the call's
namespace, each step's guard as an ``if``, each variant as a branch — and
compiled.  Evaluating a case is then one call of that function: no walk over
step objects, no per-formula ``eval``.

There is no second interpreter.  Traced and trace-free calls run the same
function; the trace is a list the function appends a
:class:`~.trace.TraceStep` to when the caller passed one (``tr``), built by
the step's own ``traced`` method, so the values the trace shows are the
values the answer used.  Each kind of step writes its own code
(``Step.lower`` in :mod:`.steps`): the kind's data and what it does live in
one place.  This module holds what all kinds share: the writer, the error
sites, and the failure mapping.

The generated function keeps no state: everything one call changes is in its
arguments (the namespace ``ns``, the call's :class:`~.trace.Context`, the
trace list), so one compiled question serves any number of threads.  Its
globals are the documented functions, exact literals, bounded operators and
the compiled objects it reads (tables, points, steps) — nothing from the
caller, and no builtins.

Failures name their rule: before each formula and each step the function
sets ``at`` to an index into :attr:`Program.sites`, and a runtime error is
turned into ``invalid_case`` with the rule, its location, its kilde and the
values the formula read (:func:`failure`), exactly once, in one place.
"""

from __future__ import annotations

import ast
import datetime as _dt
import decimal
import re
import warnings
from contextlib import contextmanager
from decimal import Decimal
from time import monotonic
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, Sequence

from ..errors import EngineError, InvalidCase
from ..formula.expr import Expression, LimitExceeded

from .trace import TraceStep

if TYPE_CHECKING:  # pragma: no cover
    from .trace import Context


class Rule(Protocol):
    """What an error message needs of a rule (:class:`~.steps.Meta` has it)."""

    id: str
    where: str
    kilde: str


class Lowerable(Protocol):
    """A step: it writes its own code (:class:`~.steps.Step`)."""

    def lower(self, w: "Writer") -> None: ...

    def points(self) -> tuple[Any, ...]: ...

#: Result types that can never be over a size bound: the generated code skips weighing them.
SMALL_TYPES = frozenset({Decimal, _dt.date, bool, type(None)})

# AttributeError: a function handed the wrong kind of value (``uden(5, 'a')`` calls 5.items());
# formulas themselves cannot reach attributes.
RUNTIME_ERRORS = (ArithmeticError, ValueError, TypeError, KeyError, IndexError, AttributeError)

#: What an alternative reading's probe may fail with: then it is not known to agree, so it is re-run.
PROBE_ERRORS = (EngineError, RecursionError, *RUNTIME_ERRORS)

#: One place an error can arise: the rule, and the data names its code reads (for the message).
Site = tuple[Rule, tuple[str, ...]]


class Program:
    """One question's compiled function, its source (for reading and debugging) and its error sites."""

    __slots__ = ("run", "source", "sites")

    def __init__(self, run: Callable[..., dict[str, Any]], source: str, sites: Sequence[Site]) -> None:
        self.run = run
        self.source = source
        self.sites = tuple(sites)


class Writer:
    """Writes the source of one generated module: functions, their lines, their globals.

    ``bind`` gives any object the generated code needs a global name; the
    steps' ``lower`` methods call :meth:`emit`, :meth:`site`,
    :meth:`formula` and :meth:`weigh` to write their part.
    """

    def __init__(self, month_rule: str = "") -> None:
        #: The question's end-of-month rule, for the trace notes of date formulas.
        self.month_rule = month_rule
        # No builtins: formulas reach only what is bound here; the code itself needs these.
        self.env: dict[str, Any] = {"__builtins__": {}, "dict": dict, "zip": zip,
                                    "Exception": Exception}
        self.sites: list[Site] = []
        self.functions: list[list[str]] = []
        self._tail: list[str] = []                 # module-level definitions after the functions
        self._lines: list[str] = []
        self._indent = 0
        self._bound: dict[int, str] = {}
        self._count = 0

    # -- names --------------------------------------------------------------

    def bind(self, obj: Any, hint: str = "k") -> str:
        """The global name of ``obj`` in the generated module (one per object)."""
        name = self._bound.get(id(obj))
        if name is None:
            self._count += 1
            name = f"_{re.sub(r'[^0-9A-Za-z_]', '_', hint)}_{self._count}"
            self.env[name] = obj
            self._bound[id(obj)] = name
        return name

    def name(self, hint: str) -> str:
        """A fresh global name (for a generated function or table)."""
        self._count += 1
        return f"_{hint}_{self._count}"

    def define(self, name: str, source: str) -> None:
        """``name = source`` at module level, after every function (so it may name them)."""
        self._tail.append(f"{name} = {source}")

    def guard(self, guard: Any) -> str:
        """A step's guard as a Python expression: a formula, or a condition row's ``lower``."""
        return self.formula(guard) if isinstance(guard, Expression) else guard.lower(self)

    def formula(self, expr: Expression) -> str:
        """``expr`` as a Python expression over ``ns`` (parenthesised, ready to embed)."""
        direct = expr.direct
        if direct is not None and direct[0] == "name":
            return f"ns[{direct[1]!r}]"
        return f"({ast.unparse(expr.lower(self.bind, _read))})"

    # -- lines --------------------------------------------------------------

    def emit(self, line: str) -> None:
        self._lines.append("    " * self._indent + line)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        """``header:`` and the lines written inside the ``with``, one level deeper."""
        self.emit(header)
        self._indent += 1
        before = len(self._lines)
        try:
            yield
        finally:
            if len(self._lines) == before:
                self.emit("pass")
            self._indent -= 1

    def site(self, meta: Rule, names: Sequence[str] = ()) -> int:
        """Record an error site and set ``at`` to it in the generated code."""
        self.sites.append((meta, tuple(names)))
        index = len(self.sites) - 1
        self.emit(f"at = {index}")
        return index

    def weigh(self, variable: str) -> None:
        """Add ``variable``'s weight to the call's budget unless its type can never be over a bound."""
        self.emit(f"if {variable}.__class__ not in _SMALL: ctx.weigh({variable})")

    def trace(self, rule: str, kind: str, result: str, kilde: str | None, title: str | None, values: str,
              notes: str = "[]") -> None:
        """Write: when the caller asked for a trace, append a :class:`~.trace.TraceStep`.

        ``rule``, ``kind``, ``kilde`` and ``title`` are the step's own (static)
        texts; ``result``, ``values`` and ``notes`` are code (see :meth:`values`).
        """
        with self.block("if tr is not None:"):
            self.emit(f"tr.append(_TraceStep({rule!r}, {kind!r}, {result}, {kilde!r}, {title!r}, {values}, {notes}))")

    @staticmethod
    def values(names: Sequence[str]) -> str:
        """Code for the values a trace step shows: ``{name: ns.get(name), ...}``."""
        return "{" + ", ".join(f"{n!r}: ns.get({n!r})" for n in names) + "}"

    def notes(self, static: Sequence[str], *dynamic: str, after: Sequence[str] = ()) -> str:
        """Code for a trace step's notes: the static ones, then ``dynamic`` (code), then ``after``."""
        parts = ([f"*{self.bind(tuple(static), 'noter')}"] if static else []) + list(dynamic) + \
            ([f"*{self.bind(tuple(after), 'noter')}"] if after else [])
        return "[" + ", ".join(parts) + "]"

    def deadline(self, meta: Rule) -> None:
        """The call's time bound, checked before every step (:class:`~rammeaftale.Limits`)."""
        self.site(meta)
        self.emit("if _now() > deadline: raise _late(at)")

    def steps(self, steps: Sequence[Lowerable]) -> None:
        for step in steps:
            step.lower(self)

    @contextmanager
    def function(self, name: str, params: str) -> Iterator[None]:
        """A generated function ``name(params)`` whose failures are mapped by :func:`failure`."""
        outer, outer_indent = self._lines, self._indent
        self._lines, self._indent = [], 0
        with self.block(f"def {name}({params}):"):
            self.emit("at = 0")
            with self.block("try:"):
                yield
            with self.block("except _EngineError:"):
                self.emit("raise")
            with self.block("except Exception as exc:"):
                self.emit("raise _fail(exc, at, ns, ctx) from None")
        self.functions.append(self._lines)
        self._lines, self._indent = outer, outer_indent

    # -- the module ---------------------------------------------------------

    def compile(self, entry: str, label: str) -> Program:
        """Compile every function written; the program runs ``entry``."""
        sites = self.sites
        self.env.update({
            "_SMALL": SMALL_TYPES, "_EngineError": EngineError, "_PROBE_ERRORS": PROBE_ERRORS,
            "_now": monotonic, "_TraceStep": TraceStep, "_late": lambda at: limit_error(sites[at][0], TIME_LIMIT),
            "_fail": lambda exc, at, ns, ctx: failure(exc, sites[at], ns, ctx),
        })
        source = "\n".join(["\n".join(lines) for lines in self.functions] + self._tail) + "\n"
        with warnings.catch_warnings():
            # "'bool' object is not subscriptable; perhaps you missed a comma?" for True[0]: the
            # formula fails at run time; under -W error it must not fail the load.
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, f"<{label}>", "exec")
        exec(code, self.env)  # noqa: S102 - source written above from checked trees and bound objects
        return Program(self.env[entry], source, sites)


def lower_question(steps: Sequence[Lowerable], outputs: Mapping[str, Expression], meta: Rule,
                   label: str, month_rule: str = "afkort") -> Program:
    """The question's steps and ``resultat`` as one compiled function.

    ``(ns, ctx, tr, deadline, start=0) -> outputs``: ``start`` resumes at a
    top-level step, for an alternative reading of a point the case reached
    there (:meth:`~rammeaftale.model.ruleset.RuleQuestion.rerun`); the steps
    before it are skipped, their results already in ``ns``.  A step that
    holds a point tells the context so as the case enters it.
    """
    w = Writer(month_rule)
    holding = [i for i, step in enumerate(steps) if step.points()]
    with w.function("_question", "ns, ctx, tr, deadline, start=0"):
        for i, step in enumerate(steps):
            if i in holding:
                w.emit(f"ctx.step = {i}")
                w.emit("ctx.step_weight = ctx.weight")
            if holding and i <= holding[-1]:
                with w.block(f"if start <= {i}:"):
                    step.lower(w)
            else:
                step.lower(w)
        parts = []
        for i, (name, expr) in enumerate(outputs.items()):
            if expr.direct is not None and expr.direct[0] == "name":
                parts.append(f"{name!r}: ns[{expr.direct[1]!r}]")
                continue
            w.site(meta, expr.names)
            w.emit(f"o{i} = {w.formula(expr)}")
            w.weigh(f"o{i}")
            parts.append(f"{name!r}: o{i}")
        w.emit("return {" + ", ".join(parts) + "}")
    return w.compile("_question", label)


def _read(name: str) -> ast.expr:
    """A data name as the generated code reads it: ``ns['name']``."""
    return ast.Subscript(value=ast.Name(id="ns", ctx=ast.Load()), slice=ast.Constant(name), ctx=ast.Load())


TIME_LIMIT = "evalueringen brugte mere end den tilladte tid"


def limit_error(meta: Rule, what: str) -> InvalidCase:
    return InvalidCase(f"reglen '{meta.id}' ({meta.where}, {meta.kilde}) overskred en grænse for "
                       f"beregningen: {what}", details={"regel": meta.id, "graense": what})


def failure(exc: BaseException, site: Site, ns: dict[str, Any], ctx: "Context") -> BaseException:
    """The engine error for ``exc`` raised at ``site``; ``exc`` itself when it is not the case's fault.

    A bound of the evaluation ends in ``invalid_case`` naming the bound; a
    formula that cannot be computed with the case's values ends in
    ``invalid_case`` naming the rule and the values it read; anything else
    (a bug, memory) is not dressed up as the case's fault.
    """
    meta, names = site
    if isinstance(exc, LimitExceeded):
        return limit_error(meta, str(exc))
    if isinstance(exc, RecursionError):
        return limit_error(meta, "beregningen er for dybt indlejret")
    if not isinstance(exc, RUNTIME_ERRORS):
        return exc
    used = ", ".join(f"{n}={_clip(ns.get(n))}" for n in names)
    fields = [n for n in names if n in ctx.case]
    return InvalidCase(
        f"reglen '{meta.id}' ({meta.where}, {meta.kilde}) kunne ikke beregnes med sagens værdier: "
        f"{explain(exc)}" + (f" [{used}]" if used else ""),
        # Only a formula that reads nothing but that one field can blame it: one that also reads a
        # parameter or an earlier result may have failed on that value, not on the kommune's data.
        path=fields[0] if len(fields) == 1 and len(names) == 1 else None,
        details={"regel": meta.id, "felter": fields})


def _clip(value: Any, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def explain(exc: BaseException) -> str:
    """A runtime error in Danish words."""
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
