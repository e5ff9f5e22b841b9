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
"""

from __future__ import annotations

import ast
import decimal
import operator
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

import simpleeval

from .money import CONTEXT

MAX_SOURCE = 2000
MAX_NODES = 400
MAX_STRING = 500
MAX_EXPONENT = 100

_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.List, ast.Tuple, ast.Dict,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)


class ExpressionError(ValueError):
    """A formula that breaks the language's rules (reported at load)."""


def _power(base: Any, exponent: Any) -> Any:
    if not isinstance(exponent, (int, Decimal)) or exponent != int(exponent) or abs(exponent) > MAX_EXPONENT:
        raise ArithmeticError(f"potens med eksponent {exponent} er ikke tilladt (kun heltal op til {MAX_EXPONENT})")
    return base ** int(exponent)


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod, ast.Pow: _power,
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


class Expression:
    """A formula parsed and checked once; evaluate it many times."""

    __slots__ = ("source", "tree", "names", "functions")

    def __init__(self, source: str, known_names: Iterable[str], functions: Mapping[str, Callable[..., Any]]) -> None:
        if not isinstance(source, str):
            source = str(source)
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"formlen er for lang ({len(source)} tegn; højst {MAX_SOURCE})")
        self.source = source.strip()
        try:
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"syntaksfejl i formlen '{self.source}': {exc.msg}") from None
        self.names, self.functions = _check(tree, self.source, set(known_names), functions)
        self.tree = tree.body

    def evaluate(self, evaluator: "Evaluator", values: Mapping[str, Any]) -> Any:
        return evaluator.run(self, values)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def _check(tree: ast.AST, source: str, known: set[str],
           functions: Mapping[str, Callable[..., Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names: list[str] = []
    called: list[str] = []
    count = 0
    call_targets = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
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
                raise ExpressionError(f"ukendt funktion '{node.func.id}' i '{source}' "
                                      f"(kendte: {', '.join(sorted(functions))})")
            called.append(node.func.id)
        elif isinstance(node, ast.Name):
            if id(node) in call_targets:
                continue
            if node.id not in known:
                raise ExpressionError(f"ukendt navn '{node.id}' i formlen '{source}'"
                                      + _suggest(node.id, known))
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
    if isinstance(value, (int, float)):
        text = ast.get_source_segment(source, node) or repr(value)
        node.value = Decimal(text.replace("_", ""))
        return
    raise ExpressionError(f"konstanten {value!r} er ikke tilladt i formler")


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f".{node.attr}"
    return type(node).__name__


def _suggest(name: str, known: set[str]) -> str:
    import difflib
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; mente du '{close[0]}'?" if close else ""


class Evaluator:
    """A simpleeval instance bound to one function table (one per ruleset)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self._eval = simpleeval.EvalWithCompoundTypes(operators=dict(_OPERATORS),
                                                     functions=dict(functions), names={})

    def run(self, expression: Expression, values: Mapping[str, Any]) -> Any:
        self._eval.names = values
        self._eval.expr = expression.source
        with decimal.localcontext(CONTEXT):
            return self._eval._eval(expression.tree)
