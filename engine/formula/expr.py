"""Rule formulas: a small, checked, sandboxed expression language.

Formulas are written in a Python-like syntax (``0.05 * budget``,
``'underskud' if akkumuleret_resultat < 0 else 'overskud'``) and evaluated by
simpleeval (≥ 1.0.5).  Before simpleeval ever sees a formula we parse it once,
when the ruleset loads, and check it against a whitelist: only the node types
below, only names the rule may know, only documented functions, no
attributes, no comprehensions, bounded size.  A hostile or mistyped formula
is therefore an ``invalid_ruleset`` error with file:line at load time, never
a surprise during evaluation.  Number literals become ``Decimal`` taken from
the source text, so ``0.05`` is exactly five hundredths.

The checked tree is then evaluated two ways, with identical results (tested
on every shipped example and on random cases): simpleeval walks it when a
trace is wanted — the reference interpreter — and, for the trace-free fast
path used by batches, the same checked formula is compiled to a Python
code object whose only globals are the documented functions — on its first
trace-free evaluation, since a traced one never needs it.  Operators
that could blow up (``**``, ``*``, ``/``, ``%``) go through the bounded
functions below in both paths.
"""

from __future__ import annotations

import ast
import decimal
import operator
import warnings
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

import simpleeval

from .money import CONTEXT

MAX_SOURCE = 2000
MAX_NODES = 400
MAX_STRING = 500
MAX_EXPONENT = 100
MAX_LITERAL_EXPONENT = 100  # number literals lie within 1e-100 … 1e100
_MAX_INT_BITS = 4000  # whole-number powers beyond ~1200 digits are computed as Decimal

_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.List, ast.Tuple, ast.Dict,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)


class ExpressionError(ValueError):
    """A formula that breaks the language's rules (reported at load)."""


def _power(base: Any, exponent: Any) -> Any:
    # The size check comes first: int() of a huge Decimal (1e999999) takes minutes.
    if isinstance(exponent, bool) or not isinstance(exponent, (int, Decimal)) or not abs(exponent) <= MAX_EXPONENT \
            or exponent != int(exponent):
        raise ArithmeticError(f"potens med eksponent {exponent} er ikke tilladt (kun heltal op til {MAX_EXPONENT})")
    if exponent < 0 and not isinstance(base, bool) and isinstance(base, (int, Decimal)) and base == 0:
        raise ZeroDivisionError("0 opløftet i en negativ potens er division med nul")  # Decimal gives Infinity
    if isinstance(base, int) and not isinstance(base, bool) \
            and (exponent < 0 or base.bit_length() * int(exponent) > _MAX_INT_BITS):
        # Whole numbers have no Emax: ((n ** 100) ** 100) ** 100 would never finish, and
        # n ** -1 would be a float.  As Decimal the context's precision and traps apply.
        return Decimal(base) ** int(exponent)
    return base ** int(exponent)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"{value!r} er ikke et tal")
    return Decimal(value)


def _multiply(a: Any, b: Any) -> Any:
    """Numbers only: ``'tekst' * n`` and ``[..] * n`` are not arithmetic on money."""
    return _number(a) * _number(b) if not (isinstance(a, int) and isinstance(b, int)) else a * b


def _divide(a: Any, b: Any) -> Decimal:
    """Always Decimal division, also for two whole numbers (never float)."""
    return _number(a) / _number(b)


def _modulo(a: Any, b: Any) -> Any:
    """Numbers only: on text ``%`` would be string formatting."""
    return _number(a) % _number(b) if not (isinstance(a, int) and isinstance(b, int)) else a % b


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: _multiply,
    ast.Div: _divide, ast.Mod: _modulo, ast.Pow: _power,
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


class Expression:
    """A formula parsed and checked once; evaluate it many times."""

    __slots__ = ("source", "tree", "names", "functions", "direct", "table", "code", "scope")

    def __init__(self, source: str, known_names: Iterable[str], functions: Mapping[str, Callable[..., Any]]) -> None:
        if not isinstance(source, str):
            source = str(source)
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"formlen er for lang ({len(source)} tegn; højst {MAX_SOURCE})")
        self.source = source.strip()
        self.tree, names, self.functions = _memo(_PREPARED, self.source, functions, _prepare)
        self.table = functions
        known = known_names if isinstance(known_names, (set, frozenset, dict)) else set(known_names)
        for name in names:
            if name not in known:
                raise ExpressionError(f"ukendt navn '{name}' i formlen '{self.source}'" + _suggest(name, known))
        for name in self.functions:
            if name in known:  # a call would reach the data value in one evaluator and the function in the other
                raise ExpressionError(f"'{name}' er både en funktion og et navn i regelsættet ('{self.source}')")
        self.names = names
        # A bare name or literal (most ``resultat`` entries) needs no evaluator at all.
        self.direct: tuple[str, Any] | None = (
            ("name", self.tree.id) if isinstance(self.tree, ast.Name)
            else ("value", self.tree.value) if isinstance(self.tree, ast.Constant) else None)

    def __getattr__(self, name: str) -> Any:
        # ``code`` and ``scope``, the trace-free fast path, are compiled on first use:
        # a traced evaluation (the default, and every CLI call) never needs them.
        if name not in ("code", "scope"):
            raise AttributeError(name)
        self.code, self.scope = _memo(_COMPILED, self.source, self.table, _compile)
        return getattr(self, name)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


#: Checked and compiled formulas by (source, function table): the same formula
#: text recurs across questions and periods and is prepared once.
_PREPARED: dict[tuple[str, int], tuple[Any, ...]] = {}
_COMPILED: dict[tuple[str, int], tuple[Any, ...]] = {}
_MEMO_MAX = 20_000


def _memo(store: dict[tuple[str, int], tuple[Any, ...]], source: str,
          functions: Mapping[str, Callable[..., Any]],
          make: Callable[[str, Mapping[str, Callable[..., Any]]], tuple[Any, ...]]) -> tuple[Any, ...]:
    """``make(source, functions)``, once per formula text and function table."""
    key = (source, id(functions))
    entry = store.get(key)
    if entry is None or entry[-1] is not functions:   # an id can be reused after a table is freed
        entry = make(source, functions) + (functions,)
        if len(store) >= _MEMO_MAX:
            store.clear()
        store[key] = entry
    return entry[:-1]


def _prepare(source: str, functions: Mapping[str, Callable[..., Any]]) -> tuple[Any, ...]:
    """(tree, names read, functions called) for ``source``; raises ExpressionError."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntaksfejl i formlen '{source}': {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, nesting the parser gives up on
        raise ExpressionError(f"formlen kan ikke læses ({type(exc).__name__})") from None
    names, called = _check(tree, source, functions)
    _fold(tree.body, source)
    return tree.body, names, called


def _check(tree: ast.AST, source: str,
           functions: Mapping[str, Callable[..., Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The whitelist; returns the names read and the functions called (names are checked by the caller)."""
    names: list[str] = []
    called: list[str] = []
    count = 0
    call_targets: set[int] = set()       # ast.walk visits a call before its function name
    for node in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"formlen '{source[:60]}…' er for kompleks (højst {MAX_NODES} led)")
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"'{_describe(node)}' er ikke tilladt i formler ('{source}')")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ExpressionError(f"kun kald af navngivne funktioner uden nøgleord er tilladt ('{source}')")
            if node.func.id not in functions:
                known = functions.all() if hasattr(functions, "all") else functions
                raise ExpressionError(f"ukendt funktion '{node.func.id}' i '{source}' "
                                      f"(kendte: {', '.join(sorted(known))})")
            called.append(node.func.id)
            call_targets.add(id(node.func))
        elif isinstance(node, ast.Name):
            if id(node) in call_targets:
                continue
            names.append(node.id)
        elif isinstance(node, ast.Constant):
            _literal(node, source)
    return tuple(dict.fromkeys(names)), tuple(dict.fromkeys(called))


def _literal(node: ast.Constant, source: str) -> None:
    value = node.value
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ExpressionError(f"tekst i formel er for lang (højst {MAX_STRING} tegn)")
        return
    if isinstance(value, int):
        number = Decimal(value)  # exact; also right for 0x10 / 0o17 / 0b101, which Decimal('0x10') cannot read
    elif isinstance(value, float):
        text = _segment(source, node) or repr(value)
        try:
            number = Decimal(text.replace("_", ""))
        except decimal.InvalidOperation:  # an exponent beyond what Decimal can hold at all
            raise ExpressionError(f"tallet {_clip(text)} i formlen er for stort eller for småt") from None
    else:
        raise ExpressionError(f"konstanten {value!r} er ikke tilladt i formler")
    if not number.is_finite() or number and not -MAX_LITERAL_EXPONENT <= number.adjusted() <= MAX_LITERAL_EXPONENT:
        raise ExpressionError(f"tallet {_clip(str(number))} i formlen er for stort eller for småt "
                              f"(tilladt: 1e-{MAX_LITERAL_EXPONENT} til 1e{MAX_LITERAL_EXPONENT})")
    node.value = number


def _clip(text: str) -> str:
    return text if len(text) <= 30 else text[:27] + "..."


def _fold(node: ast.AST, source: str) -> None:
    """Reject at load a constant part of a formula that can never be computed.

    ``9 ** 9 ** 9``, ``1 / 0``, ``'x' * 5`` and ``-'x'`` fail for every case, so
    they are ruleset errors, not case errors.  Subtrees of literals and
    arithmetic are computed once here with the same bounded operators and
    Decimal context as at run time; anything with a name or a call is left to
    run time.
    """
    with decimal.localcontext(CONTEXT):
        _fold_node(node, source)


def _fold_node(node: ast.AST, source: str) -> tuple[bool, Any]:
    """(constant?, value) of ``node``, folding bottom-up in one pass."""
    if isinstance(node, ast.Constant):
        return True, node.value
    operator_ = _OPERATORS.get(type(getattr(node, "op", None)))
    if operator_ is not None and isinstance(node, (ast.BinOp, ast.UnaryOp)):
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.operand]
        folded = [_fold_node(child, source) for child in operands]
        if not all(constant for constant, _ in folded):
            return False, None
        try:
            return True, operator_(*(value for _, value in folded))
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise ExpressionError(f"'{_segment(source, node) or source}' kan aldrig beregnes: "
                                  f"{str(exc) or type(exc).__name__}") from None
    for child in ast.iter_child_nodes(node):
        _fold_node(child, source)
    return False, None


def _segment(source: str, node: ast.AST) -> str | None:
    """The source text of ``node``; a plain slice for one-line formulas.

    ``ast.get_source_segment`` splits the whole source into lines, character
    by character in Python, on every call (a third of the load time of all
    formulas).  Offsets are UTF-8 bytes, which equal characters only in ASCII.
    """
    if node.lineno == node.end_lineno == 1:
        if source.isascii():
            return source[node.col_offset:node.end_col_offset]
        return source.encode("utf-8")[node.col_offset:node.end_col_offset].decode("utf-8")
    return ast.get_source_segment(source, node)


_BOUNDED = {ast.Pow: "__potens", ast.Mult: "__gange", ast.Div: "__divider", ast.Mod: "__modulo"}


class _Lower(ast.NodeTransformer):
    """Rewrite a checked tree for ``compile``: literals and bounded operators become names."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.constants: dict[str, Any] = {}

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            name = f"__k{len(self.constants)}"
            text = _segment(self.source, node) or repr(node.value)
            # As _literal: ints exactly (0x1F has no Decimal text form), floats from their text.
            self.constants[name] = (Decimal(node.value) if isinstance(node.value, int)
                                    else Decimal(text.replace("_", "")))
            return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        helper = _BOUNDED.get(type(node.op))
        if helper is None:
            return node
        func = ast.copy_location(ast.Name(id=helper, ctx=ast.Load()), node)
        return ast.copy_location(ast.Call(func=func, args=[node.left, node.right], keywords=[]), node)


def _compile(source: str, functions: Mapping[str, Callable[..., Any]]) -> tuple[Any, dict[str, Any]]:
    """A fresh parse of the already-checked source, lowered and compiled."""
    lower = _Lower(source)
    lowered = lower.visit(ast.parse(source, mode="eval"))  # every new node has a location
    scope: dict[str, Any] = {"__builtins__": {}, **functions, **lower.constants}
    scope.update({name: _OPERATORS[op] for op, name in _BOUNDED.items()})
    with warnings.catch_warnings():
        # "'bool' object is not subscriptable; perhaps you missed a comma?" for True[0]: the
        # formula fails at run time like in the walker; under -W error it must not fail the load.
        warnings.simplefilter("ignore", SyntaxWarning)
        return compile(lowered, "<formel>", "eval"), scope


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f".{node.attr}"
    return type(node).__name__


def _suggest(name: str, known: set[str]) -> str:
    import difflib
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; mente du '{close[0]}'?" if close else ""


class _Walker(simpleeval.EvalWithCompoundTypes):
    """simpleeval without its per-node check of intermediate values.

    simpleeval inspects every intermediate result for modules and forbidden
    functions because, in general, a name may hold one.  Here none can: the
    load-time check admits only data names (inputs, parameters, step results)
    and lets function names appear only in call position, and the node types
    are whitelisted.  The check is therefore pure cost on the hot path.
    """

    def _eval(self, node: ast.AST) -> Any:
        return self.nodes[type(node)](node)


class Evaluator:
    """A simpleeval instance bound to one function table (one per ruleset).

    Callers run it inside :data:`engine.money.CONTEXT` (see
    :meth:`engine.ruleset.RuleQuestion.run`), so every formula computes with
    the same Decimal precision and traps.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self._eval = _Walker(operators=dict(_OPERATORS), functions=dict(functions), names={})

    def run(self, expression: Expression, values: Mapping[str, Any], fast: bool = False) -> Any:
        direct = expression.direct
        if direct is not None:
            return values[direct[1]] if direct[0] == "name" else direct[1]
        if fast:
            return eval(expression.code, expression.scope, values)  # noqa: S307 - checked tree
        self._eval.names = values
        self._eval.expr = expression.source
        return self._eval._eval(expression.tree)
