"""The typed result of one evaluation and its JSON form.

``Result.output`` holds Python values (``Decimal`` amounts rounded to øre,
``datetime.date``), so library callers get exact money; ``to_dict()`` turns
them into the catalogue's JSON conventions (amounts as ``"1320000.00"``,
dates as ``"YYYY-MM-DD"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Output typing lives with the catalogue's types; evaluation imports it from here, beside the Result it fills.
from ..model.catalogue import typed_output as typed_output
from .._version import __version__
from ..model.trace import ResultWarning, TraceStep, warning_dict
from ..model.values import to_json


@dataclass
class Alternative:
    """What the answer would have been under another reading of one point (``Result.alternatives``).

    ``output`` holds only the outputs that differ from the answer's (typed
    Python values, like ``Result.output``); ``error`` is set instead when the
    case has no answer under that reading (``{"kind", "message"}``).
    """

    point: str
    reading: str
    text: str
    kilde: str
    rule: str
    followed: bool = False               # True: the ruleset's own reading (the caller chose another)
    title: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"punkt": self.point, "fortolkning": self.reading, "fulgt": self.followed,
                               "tekst": self.text, "kilde": self.kilde, "regel": self.rule}
        if self.title:
            out["titel"] = self.title
        if self.error is not None:
            out["fejl"] = dict(self.error)
        else:
            out["output"] = {k: dump(v) for k, v in self.output.items()}
        return out


@dataclass
class Result:
    """One answer, with what it takes to trace it back to the exact rules that gave it.

    ``ruleset_digest`` covers every file of the ruleset (and the libraries it
    reuses); with ``engine_version`` and ``catalogue_version`` a stored
    decision can be reproduced, or shown to need re-evaluation.
    """

    question: str
    ruleset: str
    status: str
    output: dict[str, Any]
    trace: list[TraceStep] = field(default_factory=list)
    warnings: list[ResultWarning] = field(default_factory=list)
    ruleset_digest: str = ""
    engine_version: str = __version__
    catalogue_version: int = 0
    #: Other readings of points the case reached whose answer differs (empty: no reading decides this case).
    alternatives: list[Alternative] = field(default_factory=list)
    #: The readings the caller chose (point id -> reading id); empty when the ruleset's own were used.
    readings: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form.  ``alternativer`` and ``fortolkninger`` appear only when non-empty."""
        out = {
            "question": self.question,
            "ruleset": self.ruleset,
            "status": self.status,
            "output": {k: dump(v) for k, v in self.output.items()},
            "trace": [step.to_dict(dump) for step in self.trace],
            "warnings": [warning_dict(w) for w in self.warnings],
            "ruleset_digest": self.ruleset_digest,
            "engine_version": self.engine_version,
            "catalogue_version": self.catalogue_version,
        }
        if self.alternatives:
            out["alternativer"] = [a.to_dict() for a in self.alternatives]
        if self.readings:
            out["fortolkninger"] = dict(self.readings)
        return out


#: JSON-ready form of any value the engine produces; the one formatter's JSON mode.
dump = to_json
