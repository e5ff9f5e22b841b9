"""The typed result of one evaluation and its JSON form.

``Result.output`` holds Python values (``Decimal`` amounts rounded to øre,
``datetime.date``), so library callers get exact money; ``to_dict()`` turns
them into the catalogue's JSON conventions (amounts as ``"1320000.00"``,
dates as ``"YYYY-MM-DD"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from ..model.catalogue import Field
from ..errors import InvalidRuleset
from ..formula.money import round_to
from ..model.trace import TraceStep
from ..model.values import to_json


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


#: JSON-ready form of any value the engine produces; the one formatter's JSON mode.
dump = to_json
