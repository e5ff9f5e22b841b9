"""Exact money: Decimal arithmetic, explicit rounding, allocations that add up.

All amounts are ``Decimal``.  Rounding happens only where a rule or an output
says so, always ROUND_HALF_UP (the ordinary Danish "afrunding"), and
allocations distribute whole øre by the largest-remainder method so that the
parts always sum exactly to the amount allocated.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

ØRE = Decimal("0.01")

#: The context every evaluation runs in: wide enough for any amount the
#: agreements deal with, and loud on the operations that would hide an error.
#: Emax 999 bounds every computed number below 1e1000, so ``int()`` of a
#: result (a day count, a year, an exponent) is always instant; with a
#: million-digit Emax a hostile formula could make ``int()`` run for minutes.
CONTEXT = decimal.Context(
    prec=34, rounding=ROUND_HALF_UP, Emax=999, Emin=-999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def to_decimal(value: object) -> Decimal:
    """Decimal from int, str, Decimal or float (floats via their shortest repr)."""
    if isinstance(value, bool):
        raise TypeError("en sandhedsværdi er ikke et tal")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, str)):
        return Decimal(value)
    raise TypeError(f"{type(value).__name__} er ikke et tal")


def round_to(value: Decimal, places: int = 2) -> Decimal:
    """Round half up to ``places`` decimals (2 = øre, 0 = hele kroner)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=CONTEXT)


def allocate(amount: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split ``amount`` (rounded to øre) over ``weights`` so the parts sum exactly.

    Each part gets ``amount * weight / total`` rounded down to whole øre; the øre
    left over go one at a time to the largest remainders, ties broken by name so
    the result never depends on dict order.  Negative amounts are split as
    their absolute value and given back their sign.
    """
    from fractions import Fraction   # only allocations need it; not every process that loads the engine
    if not weights:
        raise ValueError("fordelingsnøglen er tom")
    if any(w < 0 for w in weights.values()):
        raise ValueError("en fordelingsnøgle må ikke have negative vægte")
    total = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if total == 0:
        raise ValueError("fordelingsnøglen summerer til nul")
    rounded = round_to(amount)
    sign = -1 if rounded < 0 else 1
    cents = int(abs(rounded) * 100)
    exact = {k: Fraction(cents) * Fraction(w) / total for k, w in weights.items()}
    floors = {k: int(v) for k, v in exact.items()}
    left = cents - sum(floors.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - floors[k]), str(k)))
    for k in order[:left]:
        floors[k] += 1
    return {k: (Decimal(sign * floors[k]) / 100).quantize(ØRE) for k in weights}


def shares(weights: Mapping[str, Decimal], places: int = 6) -> dict[str, Decimal]:
    """Each weight's fraction of the total, rounded for display only."""
    total = sum(weights.values(), Decimal(0))
    if total == 0:
        raise ValueError("fordelingsnøglen summerer til nul")
    return {k: round_to(Decimal(w) / total, places) for k, w in weights.items()}


def format_kr(value: Decimal) -> str:
    """Danish notation: ``1.320.000,00 kr.``"""
    text = f"{round_to(value):,.2f}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".") + " kr."
