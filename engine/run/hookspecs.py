"""The plugin author's contract: the hooks a plugin may implement (pluggy, project "rammeaftale").

A plugin module implements any of them with ``@hookimpl``::

    from rammeaftale.plugin_api import hookimpl

    @hookimpl
    def rammeaftale_functions():
        return {"min_funktion": lambda x: x}

A hook name that is not below (a misspelling such as
``rammeaftale_functoins``) is refused when the plugin is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pluggy

PROJECT = "rammeaftale"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "Specs", "hookimpl", "hookspec"]


class Specs:
    """The hook specifications: what a plugin can add."""

    @hookspec
    def rammeaftale_functions(self) -> dict[str, Callable[..., Any]]:
        """Extra functions rule formulas may call, ``{navn: funktion}``.

        Arguments arrive as the engine's values (``Decimal``, ``int``,
        ``datetime.date``, ``str``, ``dict``, ``list``); raise ``ValueError``
        with a Danish message on bad input — the engine turns it into an
        error naming the rule.  A name that is already a built-in function or
        a field of the question catalogue is refused (it would change the
        meaning of existing rules), as is a name another plugin took first.
        """

    @hookspec
    def rammeaftale_step_kinds(self) -> dict[str, Callable[[dict[str, Any]], Callable[..., Any]]]:
        """Extra building blocks for question files, ``{type: byggeklods}``.

        A ruleset uses one as a step ``blok: {type: <type>, ...parametre}``.
        The building block is called once, when the ruleset loads, with the
        parameters (everything but ``type``) and returns the step's function:
        it receives the evaluation's values (a read-only mapping) and returns
        the step's value, bound to the step's ``id``.  It may list the names
        it reads in an attribute ``reads`` (checked at load, shown in the
        trace).  Raise ``ValueError`` with a Danish message for bad
        parameters (→ ``invalid_ruleset`` at file:line) or bad values at run
        time (→ ``invalid_case`` naming the rule).
        """

    @hookspec
    def rammeaftale_formatters(self) -> dict[str, Callable[[dict[str, Any]], str]]:
        """Output formats for a result, ``{navn: funktion(result_dict) -> tekst}``.

        ``result_dict`` is exactly ``Result.to_dict()``; used by
        ``rammeaftale evaluate --format NAVN``.
        """

    @hookspec
    def rammeaftale_ruleset_sources(self) -> list[str | Path]:
        """Extra folders of rulesets, loaded with the embedded ones by the CLI."""
