"""The evaluation context and its record: values, trace steps, warnings.

Explainability is a requirement, not a debug aid: every step that runs adds a
:class:`TraceStep` saying which rule ran, with which values, what it gave and
where in the agreement it comes from.  A caller that only wants the number
can switch the trace off (``trace=False``) and pay nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from ..formula.expr import MAX_EVALUATION_WEIGHT, LimitExceeded, check_size



class ResultWarning(str):
    """A warning a result carries: its text, plus where it comes from and what kind it is.

    A ``str`` (the text), so ``"udkast" in warning`` keeps working for
    library callers, with two fields more; JSON gets ``{"tekst", "kilde", "art"}``.
    ``art`` is one of :data:`WARNING_KINDS`.
    """

    __slots__ = ("kilde", "art")
    kilde: str | None
    art: str

    def __new__(cls, tekst: str, kilde: str | None = None, art: str = "advarsel") -> "ResultWarning":
        self = super().__new__(cls, tekst)
        self.kilde, self.art = kilde, art
        return self

    @property
    def tekst(self) -> str:
        return str.__str__(self)

    def to_dict(self) -> dict[str, Any]:
        return {"tekst": self.tekst, "kilde": self.kilde, "art": self.art}

    def __reduce__(self) -> tuple[Any, ...]:       # pickled across batch worker processes
        return (ResultWarning, (self.tekst, self.kilde, self.art))


#: What a warning can be about (the ``art`` field; part of the JSON contract).
WARNING_KINDS = {
    "status": "regelsættet er ikke endeligt vedtaget (udkast/forslag)",
    "regel_status": "en regel eller parameter, svaret bygger på, er ikke vedtaget",
    "fortolkning": "svaret bygger på en fortolkning af en uklar tekst",
    "advarsel": "reglerne selv advarer om sagen",
    "bibliotek": "spørgsmålet besvares af fælles regler i et bibliotek",
    "periode": "regelsættet gælder ikke på sagens dato",
    "fortolkning_alternativ": "teksten kan læses på en anden måde, og den læsning giver et andet svar",
    "fortolkning_valgt": "svaret bygger på en læsning, kalderen har valgt i stedet for den regelsættet følger",
}


def warning_dict(warning: str) -> dict[str, Any]:
    """The JSON form of a warning (a plain text from a plugin becomes art 'advarsel')."""
    return warning.to_dict() if isinstance(warning, ResultWarning) else {"tekst": str(warning), "kilde": None,
                                                                        "art": "advarsel"}


@dataclass
class TraceStep:
    rule: str
    kind: str
    result: Any
    kilde: str | None = None
    title: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self, dump: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "kind": self.kind}
        if self.title:
            out["title"] = self.title
        out["values"] = {k: dump(v) for k, v in self.values.items()}
        out["result"] = dump(self.result)
        if self.kilde:
            out["kilde"] = self.kilde
        if self.notes:
            out["notes"] = list(self.notes)
        return out


_NO_READINGS: Mapping[str, str] = MappingProxyType({})


class Context:
    """Everything that belongs to one evaluation besides its namespace, and nothing shared.

    Built per call by :meth:`rammeaftale.model.ruleset.RuleQuestion.run` and
    handed to the question's compiled function (:mod:`.lowering`) with the
    call's namespace: the trace, the warnings, the weight budget and the
    readings.  The compiled question holds no per-call state, which is what
    makes one compiled ruleset safe to evaluate from many threads.
    """

    __slots__ = ("moot", "weight", "case", "trace", "warnings", "readings", "touched", "resume",
                 "step", "step_weight")

    def __init__(self, trace: bool, case: Mapping[str, Any] | None = None,
                 readings: Mapping[str, str] | None = None) -> None:
        self.case = case or {}          # the coerced case fields, so a runtime error can name its field
        self.trace: list[TraceStep] | None = [] if trace else None
        self.warnings: list[ResultWarning] = []
        self.weight = 0                 # what the computed values weigh so far (see formula.expr.check_size)
        #: (point id, reading id) pairs whose reading gave the same value where the case reached the point,
        #: so re-running the case under it cannot change the answer (see model.steps.Formula._lower_readings)
        self.moot: set[tuple[str, str]] = set()
        self.readings = readings or _NO_READINGS   # point id -> reading id the caller chose
        self.touched: list[Any] = []    # the points (model.readings.Point) the case reached, in order
        #: point id -> (top-level step, namespace, weight) where the case reached it (see Point.pick)
        self.resume: dict[str, tuple[int, dict[str, Any], int]] = {}
        self.step = 0                   # the top-level step that holds a point, set as the case enters it
        self.step_weight = 0            # the weight when the case entered that step

    def warn(self, message: ResultWarning) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def warn_all(self, messages: Iterable[ResultWarning]) -> None:
        for message in messages:
            if message not in self.warnings:
                self.warnings.append(message)

    def weigh(self, value: Any) -> None:
        """Add ``value``'s weight to the evaluation's budget; :class:`LimitExceeded` past a bound."""
        self.weight += check_size(value)
        if self.weight > MAX_EVALUATION_WEIGHT:
            raise LimitExceeded(f"evalueringens værdier fylder over {MAX_EVALUATION_WEIGHT} tegn og elementer")
