"""The step kinds of the ruleset format, written down once.

A question's ``trin`` is a list of steps; each step has exactly one key that
says what kind of building block it is (``formel``, ``tabel``, …, ``blok``).
:data:`STEP_KINDS` is the one list of those keys.  Everything else that
treats steps kind by kind is keyed from it:

* the JSON Schema (``question.schema.json``) lists the same keys in its
  ``oneOf`` — a test checks that they agree, and the schema error translator
  (:mod:`rammeaftale.load.schemas`, a lower layer) reads its list from there;
* the compiler dispatches on it (``compiler._COMPILE``) to build the runtime
  class named here;
* the rule map (:mod:`rammeaftale.tools.rulemap`) uses :attr:`StepKind.children`
  to split a table into its rows and a variant step into its variants;
* the printable report (:mod:`rammeaftale.tools.report`) renders each kind with
  a body registered under the same key.

Tests check that the compiler's and the report's dispatch tables cover exactly
these keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .steps import Formula, PluginStep, Require, Step, Table, Unregulated, Variants, Warning


@dataclass(frozen=True)
class StepKind:
    """One kind of step: its YAML key and what the engine does with it."""

    key: str                              # the YAML key that marks a step of this kind
    runtime: type[Step]                   # the compiled step class
    label: str                            # what a reader calls it (Danish)
    children: str | None = None           # key inside the step's mapping that lists child rules
    child_kind: str | None = None         # the rule-map kind of each child ("regel", "variant")


STEP_KINDS: dict[str, StepKind] = {kind.key: kind for kind in (
    StepKind("formel", Formula, "formel"),
    StepKind("tabel", Table, "beslutningstabel", children="regler", child_kind="regel"),
    StepKind("kraev", Require, "krav til sagens oplysninger"),
    StepKind("ikke_reguleret", Unregulated, "ikke reguleret"),
    StepKind("advarsel", Warning, "advarsel"),
    StepKind("varianter", Variants, "varianter", children="liste", child_kind="variant"),
    StepKind("blok", PluginStep, "byggeklods fra et plugin"),
)}


def kind_of(step: Mapping[str, Any]) -> str | None:
    """The kind key of a step mapping as written (the first of :data:`STEP_KINDS` it has)."""
    return next((key for key in STEP_KINDS if key in step), None)
