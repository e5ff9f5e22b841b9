"""The typed result of one evaluation and its JSON form.

``Result.output`` holds Python values (``Decimal`` amounts rounded to øre,
``datetime.date``), so library callers get exact money; ``to_dict()`` turns
them into the catalogue's JSON conventions (amounts as ``"1320000.00"``,
dates as ``"YYYY-MM-DD"``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from ..model.catalogue import Field
from ..formula.dates import Frist
from ..errors import InvalidRuleset
from ..formula.money import round_to
from ..model.trace import TraceStep


@dataclass
class Result:
    question: str
    ruleset: str
    status: str
    output: dict[str, Any]
    trace: list[TraceStep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "ruleset": self.ruleset,
            "status": self.status,
            "output": {k: dump(v) for k, v in self.output.items()},
            "trace": [step.to_dict(dump) for step in self.trace],
            "warnings": list(self.warnings),
        }


def typed_output(fields: Mapping[str, Field], raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Apply the catalogue's output types: money to øre, shares as Decimal.

    A value that cannot take its output's type (text for an amount, a list
    for a map) is the ruleset's fault, whatever the case: ``invalid_ruleset``
    at ``where``, the question file's ``resultat``.
    """
    out = {}
    for name, value in raw.items():
        spec = fields[name].spec
        try:
            out[name] = _typed(spec, value)
        except (ArithmeticError, TypeError, ValueError, AttributeError):
            raise InvalidRuleset(f"resultatet '{name}' skal være af typen '{spec['type']}' (kataloget), "
                                 f"men reglerne gav {str(value)[:80]!r}", location=where,
                                 details={"resultat": name}) from None
    return out


def _typed(spec: Mapping[str, Any], value: Any) -> Any:
    if value is None:
        return None
    kind = spec["type"]
    if kind == "beloeb":
        return round_to(Decimal(value))
    if kind == "decimal":
        return Decimal(value).normalize() if Decimal(value) != 0 else Decimal(0)
    if kind == "heltal":
        return int(value)
    if kind in ("kort", "liste"):
        item = spec["af"] if isinstance(spec["af"], Mapping) else {"type": spec["af"]}
        if kind == "kort":
            return {str(k): _typed(item, v) for k, v in value.items()}
        return [_typed(item, v) for v in value]
    return value


def dump(value: Any) -> Any:
    """JSON-ready form of any value the engine produces."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Frist):
        return value.text
    if isinstance(value, Mapping):
        return {str(k): dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [dump(v) for v in value]
    return str(value)


def _decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value() and value.as_tuple().exponent >= 0:
        return str(int(value))
    return format(value, "f")
