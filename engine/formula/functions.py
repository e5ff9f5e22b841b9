"""The functions a rule formula may call — the whole list, documented.

Each is small, total on valid input and raises ``ValueError`` /
``ArithmeticError`` with a Danish message otherwise; the runtime turns those
into errors that name the rule.  Functions that depend on a ruleset setting
(the end-of-month rule) are bound per rule by :func:`builtin_functions`;
plugin functions are added by :class:`rammeaftale.model.extensions.CompileSession`.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from . import dates

from . import money

#: Functions whose result depends on the ruleset's end-of-month rule; the trace
#: names the rule whenever a formula calls one of them.
MONTH_RULE_FUNCTIONS = frozenset({"plus_maaneder", "frist_slut"})

#: Functions with an argument that is a notice period in the agreements' words
#: (name → argument index); a literal or row value there is parsed at load.
PERIOD_ARGUMENTS = {"frist_slut": 1}


def _date(value: Any, what: str) -> _dt.date:
    if not isinstance(value, _dt.date):
        raise ValueError(f"{what} skal være en dato (fik {value!r})")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise ValueError(f"{what} skal være et heltal (fik {value!r})")
    return int(value)


@lru_cache(maxsize=256)
def _parse_frist(text: str) -> dates.Frist:
    return dates.Frist(text)


def _frist(value: Any) -> dates.Frist:
    return value if isinstance(value, dates.Frist) else _parse_frist(str(value))


def afrund(value: Decimal, places: Any = 2) -> Decimal:
    """Round half up; ``afrund(x, 0)`` is whole kroner, ``afrund(x)`` øre."""
    return money.round_to(money.to_decimal(value), _int(places, "antal decimaler"))


def summer_aar(data: Mapping[str, Mapping[Any, Decimal]], years: Iterable[Any]) -> dict[str, Decimal]:
    """``{part: {år: beløb}}`` → ``{part: sum over the given years}``.

    Missing years count as 0; parts with nothing in those years are dropped.
    """
    wanted = {str(_int(y, "år")) for y in years}
    out: dict[str, Decimal] = {}
    for part, per_year in data.items():
        total = sum((Decimal(v) for y, v in per_year.items() if str(y) in wanted), Decimal(0))
        if total:
            out[part] = total
    return out


def fordel(amount: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Allocate ``amount`` by ``weights`` to the øre, summing exactly."""
    return money.allocate(money.to_decimal(amount), weights)


def andele(weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each weight's share of the total (six decimals, for display)."""
    return money.shares(weights)


def vaerdi(mapping: Mapping[str, Any], key: Any, default: Any = Decimal(0)) -> Any:
    """``mapping[key]`` or ``default`` when the key is absent."""
    return mapping.get(key, default)


def summer(values: Any) -> Decimal:
    """Sum of a list or of a mapping's values."""
    items = values.values() if isinstance(values, Mapping) else values
    return sum((money.to_decimal(v) for v in items), Decimal(0))


def uden(mapping: Mapping[str, Any], key: Any) -> dict[str, Any]:
    """A copy of ``mapping`` without ``key``."""
    return {k: v for k, v in mapping.items() if k != key}


def uden_alle(mapping: Mapping[str, Any], keys: Any) -> dict[str, Any]:
    """A copy of ``mapping`` without any of ``keys`` (a list; absent keys are ignored)."""
    if isinstance(keys, (str, bytes)) or not isinstance(keys, (list, tuple, set, frozenset)):
        raise ValueError(f"andet argument skal være en liste af nøgler (fik {keys!r})")
    drop = set(keys)
    return {k: v for k, v in mapping.items() if k not in drop}


def tekst(value: Any) -> str:
    """A value as plain text for labels: ``2026`` → ``"2026"``, a date → ``"2026-01-01"``."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"kan ikke skrive {value!r} som tekst")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")
    if isinstance(value, str):
        return value
    raise ValueError(f"kan ikke skrive {type(value).__name__} som tekst")


def builtin_functions(month_rule: str) -> dict[str, Callable[..., Any]]:
    """The engine's own functions, bound to a ruleset's month rule."""

    def plus_maaneder(day: Any, months: Any) -> _dt.date:
        return dates.add_months(_date(day, "første argument"), _int(months, "antal måneder"), month_rule)

    def frist_slut(day: Any, frist: Any) -> _dt.date:
        return _frist(frist).last_day(_date(day, "første argument"), month_rule)

    return {
        "min": min, "max": max, "abs": abs, "len": len,
        "afrund": afrund,
        "maanedsslut": lambda d: dates.month_end(_date(d, "argumentet")),
        "er_maanedsslut": lambda d: dates.is_month_end(_date(d, "argumentet")),
        "plus_maaneder": plus_maaneder,
        "plus_dage": lambda d, n: dates.add_days(_date(d, "første argument"), _int(n, "antal dage")),
        "frist_slut": frist_slut,
        "aar_af": lambda d: _date(d, "argumentet").year,
        "ny_dato": lambda y, m, d: _dt.date(_int(y, "år"), _int(m, "måned"), _int(d, "dag")),
        "dage_i_aar": lambda y: dates.days_in_year(_int(y, "år")),
        "dage_mellem": lambda a, b: (_date(b, "andet argument") - _date(a, "første argument")).days,
        "angivet": lambda v: v is not None,
        "summer_aar": summer_aar,
        "summer": summer,
        "fordel": fordel,
        "andele": andele,
        "vaerdi": vaerdi,
        "uden": uden,
        "uden_alle": uden_alle,
        "tekst": tekst,
    }


#: Names only, for documentation and validation messages.
FUNCTION_NAMES = tuple(sorted(builtin_functions("afkort")))
