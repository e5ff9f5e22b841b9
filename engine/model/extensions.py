"""What plugins add to the rule language, as one read-only value.

The engine that owns a plugin manager turns it into an :class:`Extensions`
and hands it to the compiler; the compiler and the runtime never look for
plugins themselves.  Two engines with different plugin sets therefore never
see each other's functions or building blocks, and a compiled ruleset holds
everything it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..formula.expr import Formulas
from ..formula.functions import builtin_functions

__all__ = ["Extensions", "CompileSession", "NO_EXTENSIONS"]

#: A building block's factory: called once at load with its YAML parameters,
#: returns the step's function of the evaluation's (read-only) values.
StepFactory = Callable[[dict[str, Any]], Callable[[Mapping[str, Any]], Any]]


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Extensions:
    """Plugin functions, building blocks and output formats (each ``{name: callable}``)."""

    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    step_kinds: Mapping[str, StepFactory] = field(default_factory=dict)
    formatters: Mapping[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("functions", "step_kinds", "formatters"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))


NO_EXTENSIONS = Extensions()


class CompileSession:
    """One load of rulesets: the extensions in force and one formula memo per month rule.

    Built per :meth:`rammeaftale.run.registry.Registry.load` and dropped with
    it, so no formula memo outlives the load that filled it.
    """

    def __init__(self, extensions: Extensions = NO_EXTENSIONS) -> None:
        self.extensions = extensions
        self._formulas: dict[str, Formulas] = {}

    def formulas(self, month_rule: str) -> Formulas:
        """The formula language with the built-ins bound to ``month_rule``, plus plugin functions."""
        found = self._formulas.get(month_rule)
        if found is None:
            functions = dict(self.extensions.functions)
            functions.update(builtin_functions(month_rule))   # a built-in always wins
            found = self._formulas[month_rule] = Formulas(functions)
        return found
