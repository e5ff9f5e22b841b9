"""The HTTP service and the caseworkers' page (``rammeaftale serve``; needs the ``server`` extra).

A layer above :mod:`~rammeaftale.tools` and below :mod:`~rammeaftale.cli`:
:func:`create_app` builds the ASGI app around one immutable engine.  See
:mod:`.app` for the JSON API, :mod:`.pages` for the page, :mod:`.batch` for
streaming batches, :mod:`.openapi` for the generated OpenAPI document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .app import create_app
    from .core import ServiceLimits

__all__ = ["ServiceLimits", "create_app"]


def __getattr__(name: str) -> Any:
    # Late: importing the package must not require the server extra until it is used.
    if name in __all__:
        from . import app
        return getattr(app, name)
    raise AttributeError(name)
