"""The engine's error kinds.

Callers (other systems, the CLI) branch on ``kind``, never on the message
text, so the kinds are a closed, documented set taken from the question
catalogue: ``invalid_case``, ``no_ruleset``, ``not_regulated`` and
``invalid_ruleset``.  Every error can say *where*: ``path`` is the field path
in a case (``omsaetning.Vejle.2019``) and ``location`` is ``file:line`` in a
ruleset.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: every error the engine raises on purpose is one of these."""

    kind: str = "engine_error"

    def __init__(self, message: str, *, path: str | None = None,
                 location: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.location = location
        self.details = details or {}

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field = f" [{self.path}]" if self.path else ""
        return f"{where}{self.message}{field}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the contract: ``{"kind", "message", "path"?}``."""
        out: dict[str, Any] = {"kind": self.kind, "message": str(self)}
        if self.path:
            out["path"] = self.path
        out.update(self.details)
        return out


class InvalidCase(EngineError):
    """The case (the caller's input) is missing a field or has a bad value."""

    kind = "invalid_case"


class NoRuleset(EngineError):
    """No ruleset covers the region and date, or the id is unknown."""

    kind = "no_ruleset"


class NotRegulated(EngineError):
    """The agreement text does not regulate this question or situation."""

    kind = "not_regulated"


class InvalidRuleset(EngineError):
    """A ruleset file is malformed; ``location`` is ``file:line``."""

    kind = "invalid_ruleset"


class RulesetErrors(InvalidRuleset):
    """Several ruleset problems found in one load, reported together.

    The secretariat fixes a file faster when it sees every mistake at once
    rather than one per run.
    """

    def __init__(self, errors: list[InvalidRuleset]) -> None:
        self.errors = errors
        first = errors[0]
        more = f" (+{len(errors) - 1} flere fejl)" if len(errors) > 1 else ""
        super().__init__(first.message + more, location=first.location)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
