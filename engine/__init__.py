"""rammeaftale-engine: the Danish rammeaftaler as data, evaluated by a small engine.

The flow is visible in the folders, each importing only from those before it:

* :mod:`~rammeaftale.formula` — the rule language: checked, compiled formulas,
  functions, dates, exact money;
* :mod:`~rammeaftale.load` — files to located documents: strict YAML, case
  JSON, JSON Schemas, the parse cache;
* :mod:`~rammeaftale.model` — the compiled model: catalogue, step kinds,
  tables, the compiler;
* :mod:`~rammeaftale.run` — resolve (registry) → evaluate (:class:`Engine`)
  → explain (:class:`Result`, trace, text); plugins;
* :mod:`~rammeaftale.tools` — compare, diff, new period, batch, report, examples;
* :mod:`~rammeaftale.cli` — every command; the only place that prints or exits.

The public API is what ``__all__`` names; plugin authors import from
:mod:`rammeaftale.plugin_api`.
"""

from ._version import __version__
from .errors import EngineError, InvalidCase, InvalidRuleset, NoRuleset, NotRegulated, RulesetErrors
from .model.trace import TraceStep
from .run.api import Engine, Limits
from .run.result import Result

__all__ = ["Engine", "EngineError", "InvalidCase", "InvalidRuleset", "Limits", "NoRuleset", "NotRegulated",
           "Result", "RulesetErrors", "TraceStep", "__version__"]
