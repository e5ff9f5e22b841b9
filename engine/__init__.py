"""rammeaftale-engine: the Danish rammeaftaler as data, evaluated by a small engine.

The flow is visible in the modules: :mod:`~engine.yamlload` (load) →
:mod:`~engine.schemas` and :mod:`~engine.compiler` (validate, compile) →
:mod:`~engine.registry` (resolve region + date) → :mod:`~engine.steps`
(evaluate) → :mod:`~engine.result` and :mod:`~engine.explain` (explain).
"""

from .api import Engine
from .errors import EngineError, InvalidCase, InvalidRuleset, NoRuleset, NotRegulated
from .result import Result

__all__ = ["Engine", "EngineError", "InvalidCase", "InvalidRuleset", "NoRuleset", "NotRegulated", "Result"]
__version__ = "0.1.0"
