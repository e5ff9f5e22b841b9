"""The evaluation context and its record: values, trace steps, warnings.

Explainability is a requirement, not a debug aid: every step that runs adds a
:class:`TraceStep` saying which rule ran, with which values, what it gave and
where in the agreement it comes from.  A caller that only wants the number
can switch the trace off (``trace=False``) and pay nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping



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


class Context:
    """Everything that belongs to one evaluation, and nothing shared.

    Built per call by :meth:`rammeaftale.model.ruleset.RuleQuestion.run` and
    passed down to every step: the namespace, the trace, the warnings and the
    deadline.  The compiled steps themselves hold no per-call state, which
    is what makes one compiled ruleset safe to evaluate from many threads.
    """

    __slots__ = ("values", "case", "trace", "warnings", "month_rule", "deadline")

    def __init__(self, values: dict[str, Any], month_rule: str, trace: bool,
                 case: Mapping[str, Any] | None = None, deadline: float = float("inf")) -> None:
        self.values = values
        self.case = case or {}          # the coerced case fields, so a runtime error can name its field
        self.month_rule = month_rule
        self.trace: list[TraceStep] | None = [] if trace else None
        self.warnings: list[str] = []
        self.deadline = deadline        # time.monotonic() after which the evaluation stops

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def record(self, step: TraceStep) -> None:
        if self.trace is not None:
            self.trace.append(step)
