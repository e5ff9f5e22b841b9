"""Rule formulas: a small, checked expression language with one runtime.

Formulas are written in a Python-like syntax (``0.05 * budget``,
``'underskud' if akkumuleret_resultat < 0 else 'overskud'``).  Each distinct
formula text is parsed once, when the ruleset loads, and checked against a
whitelist: only the node types below, only names the rule may know, only
documented functions, no attributes, no comprehensions, bounded size.  A
hostile or mistyped formula is therefore an ``invalid_ruleset`` error with
file:line at load time, never a surprise during evaluation.  Number literals
become ``Decimal`` taken from the source text, so ``0.05`` is exactly five
hundredths.

The checked tree is the formula's one form: the lowering of a question
(:mod:`rammeaftale.model.lowering`) places it, via :meth:`Expression.lower`,
inside the one Python function the whole question compiles to, with the
documented functions, the literals and the bounded operators (``**``, ``*``,
``/``, ``%`` go through the functions below) as that function's only globals.
Traced and trace-free evaluations run that same code.  An
:class:`Expression` is immutable once built and keeps no per-call state, so
any number of threads may use it at once.  simpleeval, the reference
interpreter, checks this runtime in the tests.
"""

from __future__ import annotations

import ast
import copy
import datetime as _dt
import decimal
import operator
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

from .money import CONTEXT

MAX_SOURCE = 2000
MAX_NODES = 400
MAX_STRING = 500
MAX_EXPONENT = 100
MAX_LITERAL_EXPONENT = 100  # number literals lie within 1e-100 … 1e100
_MAX_INT_BITS = 4000  # whole-number products and powers beyond ~1200 digits are computed as Decimal
#: What one value computed during an evaluation may hold.  Number sizes are
#: bounded by the Decimal context (Emax 999) and by _MAX_INT_BITS; text and
#: collections by these, checked on every step's result, so a chain of steps
#: that doubles a text or a list stops at the first step over the bound.
MAX_TEXT_VALUE = 10_000       # characters in a computed text
MAX_COLLECTION_VALUE = 10_000  # items in a computed list or mapping, nested ones included
MAX_COLLECTION_TEXT = 100_000  # characters of text inside one computed collection
MAX_NESTING = 32               # levels of lists and mappings inside one another
#: What all the values one evaluation computes may weigh together (characters + items):
#: the trace holds them all, so this bounds the memory and the JSON of one answer.
MAX_EVALUATION_WEIGHT = 2_000_000


class LimitExceeded(ArithmeticError):
    """A value grew past a named bound during evaluation."""


def check_size(value: Any) -> int:
    """The weight of ``value`` (characters of text plus items of collections); raise
    :class:`LimitExceeded` when it is over a bound.

    Numbers, dates and short texts cost one type check.  A collection is
    walked with a budget of :data:`MAX_COLLECTION_VALUE` items and
    :data:`MAX_COLLECTION_TEXT` characters in all, nested ones included, and at
    most :data:`MAX_NESTING` levels deep, so the check itself is bounded too; a
    flat collection of numbers (the usual ``{kommune: beløb}``) is one pass in C.
    The caller adds the weight to the evaluation's budget
    (:data:`MAX_EVALUATION_WEIGHT`), which bounds the whole trace.
    """
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT_VALUE:
            raise LimitExceeded(f"en beregnet tekst har {len(value)} tegn (højst {MAX_TEXT_VALUE})")
        return len(value)
    if kind is int:
        if value.bit_length() > _MAX_INT_BITS:
            raise LimitExceeded(f"et beregnet heltal har {value.bit_length()} bit (højst {_MAX_INT_BITS})")
        return 1
    if kind in _COLLECTION_TYPES:
        if len(value) > MAX_COLLECTION_VALUE:
            raise LimitExceeded(f"en beregnet samling har over {MAX_COLLECTION_VALUE} elementer i alt")
        items = value.values() if kind is dict else value
        if _SCALAR_TYPES.issuperset(map(type, items)):
            return len(value) + 1
        return _check_nested(value)
    if isinstance(value, (str, int, *_COLLECTIONS)):   # a subclass: take the careful path
        return _check_nested([value])
    return 1


def _check_nested(value: Any) -> int:
    pending, seen, text = [(value, 1)], 0, 0
    while pending:
        items, depth = pending.pop()
        if depth > MAX_NESTING:
            raise LimitExceeded(f"en beregnet samling er indlejret mere end {MAX_NESTING} niveauer")
        seen += len(items)
        if seen > MAX_COLLECTION_VALUE:
            raise LimitExceeded(f"en beregnet samling har over {MAX_COLLECTION_VALUE} elementer i alt")
        for item in (items.items() if isinstance(items, dict) else items):
            for part in (item if isinstance(items, dict) else (item,)):
                if isinstance(part, _COLLECTIONS):
                    pending.append((part, depth + 1))
                elif isinstance(part, str):
                    text += len(part)
                    if len(part) > MAX_TEXT_VALUE or text > MAX_COLLECTION_TEXT:
                        raise LimitExceeded(f"en beregnet samling rummer over {MAX_COLLECTION_TEXT} tegn tekst")
                elif isinstance(part, int) and part.bit_length() > _MAX_INT_BITS:
                    raise LimitExceeded(f"et beregnet heltal har {part.bit_length()} bit (højst {_MAX_INT_BITS})")
    return seen + text + 1


_COLLECTIONS = (list, tuple, dict, set, frozenset)
_COLLECTION_TYPES = frozenset(_COLLECTIONS)
#: Values that are never over a bound by themselves (short texts are checked by the flat pass below).
_SCALAR_TYPES = frozenset({Decimal, bool, type(None), _dt.date})

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
    """Numbers only: ``'tekst' * n`` and ``[..] * n`` are not arithmetic on money.

    Two whole numbers multiply as whole numbers while the product stays small;
    a larger product is computed as Decimal, whose context bounds it (a chain
    of ``pladser * pladser * …`` would otherwise grow without limit).
    """
    if type(a) is int and type(b) is int and a.bit_length() + b.bit_length() <= _MAX_INT_BITS:
        return a * b
    return _number(a) * _number(b)


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


class Formulas:
    """The formula language bound to one function table, for one load of rulesets.

    The same formula text recurs across questions and periods; each distinct
    text is parsed, checked, folded and compiled once per instance.  The
    instance belongs to the compile session that made it (no process-wide
    memo), and the function table it holds is read-only.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.functions: Mapping[str, Callable[..., Any]] = MappingProxyType(dict(functions))
        self._prepared: dict[str, _Prepared] = {}

    def expression(self, source: Any, known_names: Iterable[str]) -> "Expression":
        """``source`` checked against ``known_names``; raises :class:`ExpressionError`."""
        text = source if isinstance(source, str) else str(source)
        if len(text) > MAX_SOURCE:
            raise ExpressionError(f"formlen er for lang ({len(text)} tegn; højst {MAX_SOURCE})")
        text = text.strip()
        prepared = self._prepared.get(text)
        if prepared is None:
            prepared = self._prepared[text] = _prepare(text, self.functions)
        return Expression(prepared, known_names)


class _Prepared:
    """What a formula text compiles to, independent of the rule that uses it."""

    __slots__ = ("source", "names", "functions", "calls", "direct", "tree", "library")

    def __init__(self, source: str, names: tuple[str, ...], functions: tuple[str, ...],
                 calls: tuple["Call", ...], direct: tuple[str, Any] | None, tree: ast.expr,
                 library: Mapping[str, Callable[..., Any]]) -> None:
        self.source, self.names, self.functions, self.calls = source, names, functions, calls
        self.direct, self.tree, self.library = direct, tree, library


#: One function call in a formula: its name and, per argument, ``("value", literal)``,
#: ``("name", data name)`` or ``None`` (anything computed) — what a load-time
#: check of a function's contract can see without running the formula.
Call = tuple[str, tuple[tuple[str, Any] | None, ...]]


def _calls(nodes: Iterable[ast.AST]) -> tuple[Call, ...]:
    def arg(node: ast.AST) -> tuple[str, Any] | None:
        if isinstance(node, ast.Constant):
            return ("value", node.value)
        return ("name", node.id) if isinstance(node, ast.Name) else None
    return tuple((node.func.id, tuple(arg(a) for a in node.args))
                 for node in nodes if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))


class Expression:
    """A checked formula; immutable, so it is safe to share between threads.

    It is not run by itself: :meth:`lower` hands its checked tree to the
    lowering of a whole question (:mod:`rammeaftale.model.lowering`), which
    compiles every step of the question into one Python function.
    """

    __slots__ = ("source", "names", "functions", "calls", "direct", "_tree", "_library")

    def __init__(self, prepared: _Prepared, known_names: Iterable[str]) -> None:
        known = known_names if isinstance(known_names, (set, frozenset, dict)) else set(known_names)
        for name in prepared.names:
            if name not in known:
                raise ExpressionError(f"ukendt navn '{name}' i formlen '{prepared.source}'" + _suggest(name, known))
        for name in prepared.functions:
            if name in known:  # a call would reach the data value, not the function
                raise ExpressionError(f"'{name}' er både en funktion og et navn i regelsættet ('{prepared.source}')")
        self.source = prepared.source
        self.names = prepared.names                    # data names read, in order
        self.functions = prepared.functions            # functions called
        self.calls = prepared.calls                    # each call's arguments, as far as seen at load
        #: ``("name", x)`` for a bare name, ``("value", v)`` for a literal (most ``resultat`` entries), else None.
        self.direct = prepared.direct
        self._tree, self._library = prepared.tree, prepared.library

    @property
    def library(self) -> Mapping[str, Callable[..., Any]]:
        """The functions this formula may call (the compile session's table, read-only)."""
        return self._library

    def lower(self, bind: Callable[[Any, str], str], data: Callable[[str], ast.expr]) -> ast.expr:
        """The formula as a Python expression tree to place inside generated code.

        ``bind(obj, hint)`` returns the global name under which the generated
        code reaches ``obj`` (a function, an exact number literal, a bounded
        operator); ``data(name)`` returns the expression that reads a data name
        (the question's namespace).  The checked tree is shared by every rule
        with the same text, so it is copied, never changed.  Number literals
        stay the exact ``Decimal`` of their source text, and ``**``, ``*``,
        ``/`` and ``%`` become calls of the bounded operators.
        """
        return _Lower(self._library, bind, data).visit(copy.deepcopy(self._tree))

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def _prepare(source: str, functions: Mapping[str, Callable[..., Any]]) -> _Prepared:
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(syntax_message(source, exc)) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, nesting the parser gives up on
        raise ExpressionError(f"formlen kan ikke læses ({type(exc).__name__})") from None
    nodes = tuple(ast.walk(tree))      # walked once for every check below (a third of the load time)
    _no_stray_tuples(nodes, source)
    names, called = _check(nodes, source, functions)
    if any(map(_computes_constants, nodes)):    # else there is nothing to fold: most formulas
        _fold(tree.body, source)
    body = tree.body
    direct: tuple[str, Any] | None = (
        ("name", body.id) if isinstance(body, ast.Name)
        else ("value", body.value) if isinstance(body, ast.Constant) else None)
    calls = _calls(nodes) if called else ()
    return _Prepared(source, names, called, calls, direct, body, functions)


#: Characters from word processors that look like operators, and what to type instead.
_LOOKALIKES = {"–": "-", "—": "-", "−": "-", "×": "*", "·": "*", "÷": "/", "≥": ">=", "≤": "<=", "≠": "!=",
               "“": "'", "”": "'", "„": "'", "‘": "'", "’": "'", "´": "'", "½": "0.5"}


def syntax_message(source: str, exc: SyntaxError) -> str:
    """A formula syntax error in Danish, with a hint for the usual slips (Python's own words are "invalid syntax")."""
    import re
    msg = exc.msg or ""
    head = f"syntaksfejl i formlen '{source}'"
    for char, instead in _LOOKALIKES.items():
        if char in source:
            return f"{head}: tegnet '{char}' er ikke et regnetegn; skriv {instead}"
    if re.search(r"\d,\d", source):
        return f"{head}: brug punktum som decimaltegn (fx 0.10); et komma adskiller værdier"
    if re.search(r"\d\.\d{3}\.\d{3}", source):
        return f"{head}: skriv tal uden tusindtalspunktum (1320000, ikke 1.320.000)"
    if "%" in source:
        return f"{head}: skriv procenter som decimaltal med punktum (5 % = 0.05)"
    if "was never closed" in msg:
        return f"{head}: en parentes eller klamme åbnes, men lukkes aldrig"
    if "unmatched" in msg or "does not match" in msg:
        return f"{head}: der er en lukkende parentes for meget eller på det forkerte sted"
    if "expected 'else'" in msg:
        return f"{head}: en betingelse skal have både if og else: A if BETINGELSE else B"
    if "unterminated string" in msg or "EOL while scanning" in msg:
        return f"{head}: en tekst mangler sit afsluttende anførselstegn"
    if "forgot a comma" in msg:
        return f"{head}: mangler der et komma mellem to argumenter?"
    if re.search(r"(?<![=!<>])=(?!=)", source):
        return f"{head}: brug == for at sammenligne (et enkelt = er ikke tilladt)"
    if re.search(r"[-+*/(,]\s*$", source):
        return f"{head}: formlen slutter midt i et regnestykke"
    position = f" ved tegn {exc.offset}" if exc.offset else ""
    return f"{head}{position}: tjek regnetegn, parenteser og anførselstegn"


def _leftmost(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.BinOp, ast.Compare, ast.Subscript)) or \
            (isinstance(node, ast.BoolOp) and node.values):
        node = node.left if isinstance(node, (ast.BinOp, ast.Compare)) else \
            node.value if isinstance(node, ast.Subscript) else node.values[0]
    return node


def _number_node(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


def _no_decimal_commas(nodes: Sequence[ast.AST], source: str) -> None:
    """``f(0,5 * x, y)``: two numbers joined by a comma with no space are a decimal comma, not two arguments."""
    lines = source.split("\n")
    for node in nodes:
        items = node.args if isinstance(node, ast.Call) else \
            node.elts if isinstance(node, (ast.Tuple, ast.List)) else None
        for a, b in zip(items or (), (items or ())[1:]):
            last, first = a, _leftmost(b)
            while isinstance(last, ast.BinOp):
                last = last.right
            if _number_node(last) and _number_node(first) and last.end_lineno == first.lineno \
                    and last.end_col_offset is not None \
                    and lines[first.lineno - 1][last.end_col_offset:first.col_offset] == ",":
                number = f"{ast.get_source_segment(source, last)}.{ast.get_source_segment(source, first)}"
                raise ExpressionError(f"formlen '{source}' indeholder et decimalkomma: brug punktum som "
                                      f"decimaltegn ({number}); skriv mellemrum efter kommaet, hvis det "
                                      "skiller to værdier")


def _no_stray_tuples(nodes: Sequence[ast.AST], source: str) -> None:
    """``0,1 * pladser`` parses as a pair of values: refuse it (a tuple is only allowed after ``in``)."""
    _no_decimal_commas(nodes, source)
    allowed: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    allowed.add(id(right))
    for node in nodes:
        if isinstance(node, ast.Tuple) and id(node) not in allowed:
            import re
            hint = ("brug punktum som decimaltegn (fx 0.1 * pladser)" if re.search(r"\d,\d", source)
                    else "et komma adskiller værdier og må kun stå i en liste efter 'in' eller mellem en funktions argumenter")
            raise ExpressionError(f"formlen '{source}' giver flere værdier adskilt af komma: {hint}")


def _check(nodes: Sequence[ast.AST], source: str,
           functions: Mapping[str, Callable[..., Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The whitelist; returns the names read and the functions called (names are checked by the caller)."""
    names: list[str] = []
    called: list[str] = []
    count = 0
    call_targets: set[int] = set()       # ast.walk visits a call before its function name
    for node in nodes:
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


def _computes_constants(node: ast.AST) -> bool:
    """An operator on literals only: the innermost part of any constant subtree :func:`_fold` computes."""
    if isinstance(node, ast.BinOp):
        return isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant)
    return isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)


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


class _Lower(ast.NodeTransformer):
    """Rewrite a copy of a checked tree for generated code (see :meth:`Expression.lower`)."""

    def __init__(self, library: Mapping[str, Callable[..., Any]], bind: Callable[[Any, str], str],
                 data: Callable[[str], ast.expr]) -> None:
        self.library, self.bind, self.data = library, bind, data

    def _name(self, obj: Any, hint: str, where: ast.AST) -> ast.expr:
        return ast.copy_location(ast.Name(id=self.bind(obj, hint), ctx=ast.Load()), where)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, Decimal):   # _literal made every number literal an exact Decimal
            return self._name(node.value, "tal", node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        function = self.library.get(node.id)
        if function is not None:       # _check: a called name is a function, and no function is a data name
            return self._name(function, node.id, node)
        return ast.copy_location(self.data(node.id), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, _BOUNDED):
            return node
        func = self._name(_OPERATORS[type(node.op)], type(node.op).__name__.lower(), node)
        return ast.copy_location(ast.Call(func=func, args=[node.left, node.right], keywords=[]), node)


#: Operators that go through the bounded functions above (``**``, ``*``, ``/``, ``%``).
_BOUNDED = (ast.Pow, ast.Mult, ast.Div, ast.Mod)


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f".{node.attr}"
    return type(node).__name__


def _suggest(name: str, known: set[str]) -> str:
    import difflib
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; mente du '{close[0]}'?" if close else ""
