"""What a plugin may import: the stable surface for plugin authors.

Everything else in the package is internal and may move between minor
versions; a plugin that imports only from here keeps working.  Like the
CLI, this module sits on top of the layers: nothing in the engine imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formula.money import round_to, to_decimal
from .load.yamlload import load_file
from .model.catalogue import catalogue
from .model.values import field_kind, format_value, to_html, to_text
from .run.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from .tools.report import badge, esc, page

__all__ = ["badge", "catalogue", "esc", "field_kind", "format_value", "hookimpl", "load_file", "page", "round_to",
           "to_decimal", "to_html", "to_text"]

#: The report's HTML helpers, imported on first use: the report module brings the
#: source texts, the rule map and scaffolding along, which a CLI call that only
#: loads a plugin (every ``evaluate``) does not need.
_REPORT_HELPERS = ("badge", "esc", "page")


def __getattr__(name: str) -> Any:
    if name in _REPORT_HELPERS:
        from .tools import report
        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
