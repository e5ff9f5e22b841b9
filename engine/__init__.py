"""rammeaftale-engine: the Danish rammeaftaler as data, evaluated by a small engine.

The flow is visible in the modules: :mod:`~engine.yamlload` (load) →
:mod:`~engine.schemas` and :mod:`~engine.compiler` (validate, compile) →
:mod:`~engine.registry` (resolve region + date) → :mod:`~engine.steps`
(evaluate) → :mod:`~engine.result` and :mod:`~engine.explain` (explain).
"""

from .run.api import Engine
from .errors import EngineError, InvalidCase, InvalidRuleset, NoRuleset, NotRegulated
from .run.result import Result

__all__ = ["Engine", "EngineError", "InvalidCase", "InvalidRuleset", "NoRuleset", "NotRegulated", "Result"]
from ._version import __version__
