"""Plugins: extend the engine without editing it (pluggy, project "rammeaftale").

A region or a vendor may need a function the core does not have (a price
index), another output format (an HTML page), or rulesets kept elsewhere.
They ship that as a plugin instead of a fork.  Plugins are found

* through the entry-point group ``rammeaftale`` of installed distributions, and
* as modules (``*.py``, not starting with ``_``) in the project's top-level
  ``plugins/`` folder and in the folders listed in ``$RAMMEAFTALE_PLUGINS``
  (separated by ``os.pathsep``).

``RAMMEAFTALE_NO_PLUGINS=1`` turns discovery off.  A plugin that fails to
import, or whose hook raises, is reported by name (``rammeaftale plugins``)
and skipped: one broken plugin never takes the engine down.

A plugin module implements any of the hooks below with ``@hookimpl``::

    from engine.plugins import hookimpl

    @hookimpl
    def rammeaftale_functions():
        return {"min_funktion": lambda x: x}
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

PROJECT = "rammeaftale"
ENTRY_POINT_GROUP = "rammeaftale"
PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins"
ENV_DIRS, ENV_OFF = "RAMMEAFTALE_PLUGINS", "RAMMEAFTALE_NO_PLUGINS"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


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


@dataclass
class Plugin:
    name: str
    origin: str
    hooks: list[str] = field(default_factory=list)


@dataclass
class Plugins:
    """The loaded plugins, what they contribute, and what went wrong."""

    manager: pluggy.PluginManager
    loaded: list[Plugin] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    _functions: dict[frozenset[str], dict[str, Callable[..., Any]]] = field(default_factory=dict, repr=False)

    # -- what plugins contribute ---------------------------------------------------

    def functions(self, reserved: Iterable[str] = ()) -> dict[str, Callable[..., Any]]:
        """Plugin functions, minus any name that would shadow a built-in or a catalogue field.

        Computed once per set of reserved names: the compiler asks for every question file.
        """
        key = frozenset(reserved)
        if key not in self._functions:
            self._functions[key] = self._collect_functions(key)
        return dict(self._functions[key])

    def _collect_functions(self, reserved: frozenset[str]) -> dict[str, Callable[..., Any]]:
        taken = set(reserved) | _catalogue_names()
        out: dict[str, Callable[..., Any]] = {}
        for name, fn in self._merged("rammeaftale_functions", "function"):
            if name in taken or name in out:
                self._fail(name, f"funktionen '{name}' findes allerede og springes over")
            elif not callable(fn) or not name.isidentifier():
                self._fail(name, f"'{name}' er ikke en funktion med et gyldigt navn")
            else:
                out[name] = fn
        return out

    def formatters(self) -> dict[str, Callable[[dict[str, Any]], str]]:
        return dict(self._merged("rammeaftale_formatters", "formatter"))

    def step_kinds(self) -> dict[str, Any]:
        return dict(self._merged("rammeaftale_step_kinds", "step kind"))

    def ruleset_sources(self) -> list[Path]:
        out = []
        for plugin, result in self._results("rammeaftale_ruleset_sources"):
            for folder in result or []:
                path = Path(folder)
                if path.is_dir():
                    out.append(path)
                else:
                    self._fail(plugin, f"regelsætmappen {path} findes ikke")
        return out

    # -- plumbing ------------------------------------------------------------------

    def _results(self, hook_name: str) -> list[tuple[str, Any]]:
        """Each plugin's answer to a hook, calling them one by one so one failure stays local."""
        out = []
        for impl in reversed(getattr(self.manager.hook, hook_name).get_hookimpls()):
            try:
                out.append((impl.plugin_name, impl.function()))
            except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not fatal
                self._fail(impl.plugin_name, f"{hook_name} fejlede: {type(exc).__name__}: {exc}")
        return out

    def _merged(self, hook_name: str, what: str) -> list[tuple[str, Any]]:
        items = []
        for plugin, result in self._results(hook_name):
            if not isinstance(result, dict):
                self._fail(plugin, f"{hook_name} skal returnere et dict ({what}s), fik {type(result).__name__}")
                continue
            items.extend((str(k), v) for k, v in result.items())
        return items

    def _fail(self, name: str, message: str) -> None:
        entry = {"name": name, "error": message}
        if entry not in self.failures:
            self.failures.append(entry)

    def report(self) -> dict[str, Any]:
        """What ``rammeaftale plugins --json`` prints."""
        functions, formatters = self.functions(_builtin_names()), self.formatters()
        return {
            "plugins": [{"name": p.name, "origin": p.origin, "hooks": p.hooks} for p in self.loaded],
            "functions": sorted(functions), "formatters": sorted(formatters),
            "step_kinds": sorted(self.step_kinds()),
            "ruleset_sources": [str(p) for p in self.ruleset_sources()],
            "failures": list(self.failures),
        }


def discover(folders: Iterable[Path] | None = None, entry_points: bool = True) -> Plugins:
    """Load every plugin (entry points, then plugin folders), recording failures."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(Specs)
    found = Plugins(manager)
    if os.environ.get(ENV_OFF):
        return found
    if entry_points and _may_declare_entry_points():
        from importlib import metadata
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            _register(found, ep.name, f"entry point {ep.value}", ep.load)
    for folder in (folders if folders is not None else plugin_folders()):
        for path in sorted(Path(folder).glob("*.py")):
            if not path.name.startswith("_"):
                _register(found, path.stem, str(path), lambda p=path: _import(p))
    return found


def plugin_folders() -> list[Path]:
    """The project's ``plugins/`` folder plus ``$RAMMEAFTALE_PLUGINS``."""
    extra = [Path(p) for p in os.environ.get(ENV_DIRS, "").split(os.pathsep) if p]
    # Only the project checkout's own plugins/ (an installed engine sits in site-packages,
    # whose sibling "plugins" folder, if any, is somebody else's).
    project = [PLUGIN_DIR] if (PLUGIN_DIR.parent / "pyproject.toml").is_file() else []
    return [*project, *extra]


def _register(found: Plugins, name: str, origin: str, load: Callable[[], Any]) -> None:
    if found.manager.has_plugin(name):
        found._fail(name, f"et plugin med navnet '{name}' er allerede indlæst; {origin} springes over")
        return
    try:
        module = load()
        found.manager.register(module, name=name)
    except Exception as exc:  # noqa: BLE001 - report by name, keep the engine running
        found._fail(name, f"kunne ikke indlæses fra {origin}: {type(exc).__name__}: {exc}")
        return
    hooks = [h.name for h in found.manager.get_hookcallers(module) or []]
    found.loaded.append(Plugin(name, origin, sorted(hooks)))


def _import(path: Path) -> ModuleType:
    module_name = f"rammeaftale_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"kan ikke importere {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _may_declare_entry_points() -> bool:
    """False only when no installed distribution can declare our entry points.

    ``importlib.metadata`` costs 50-150 ms to import (email, zipfile, csv …),
    a third of a CLI call, and almost always finds nothing.  Distributions
    declare entry points in ``*.dist-info/entry_points.txt`` or
    ``*.egg-info/entry_points.txt`` on ``sys.path``; a quick look for the group's
    header there decides whether the real lookup is needed.  A zip file on
    the path cannot be looked into cheaply, so it always means yes.
    """
    header = f"[{ENTRY_POINT_GROUP}]"
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_file():
            return True
        for path in folder.glob("*-info/entry_points.txt"):
            try:
                if header in path.read_text("utf-8", errors="replace"):
                    return True
            except OSError:
                continue
    return False


@cache
def plugins() -> Plugins:
    """The plugins of this process, discovered once on first use."""
    return discover()


def expression_functions(reserved: Iterable[str]) -> dict[str, Callable[..., Any]]:
    """Hook for :func:`engine.functions.function_table`: plugin functions to merge."""
    return plugins().functions(reserved)


def step_kinds() -> dict[str, Callable[[dict[str, Any]], Callable[..., Any]]]:
    """Hook for :mod:`engine.compiler`: the building blocks plugins add."""
    return plugins().step_kinds()


def format_result(name: str, result: dict[str, Any]) -> str:
    """``result`` (``Result.to_dict()``) in the plugin format ``name``."""
    from ..errors import InvalidCase
    formatters = plugins().formatters()
    if name not in formatters:
        raise InvalidCase(f"ukendt format '{name}'; kendte: {', '.join(sorted(formatters)) or 'ingen'} "
                          "(se 'rammeaftale plugins')", path="format")
    return formatters[name](result)


def _catalogue_names() -> set[str]:
    from ..model.catalogue import catalogue
    return {n for q in catalogue().values() for n in (*q.inputs, *q.outputs)}


def _builtin_names() -> set[str]:
    from ..formula.functions import FUNCTION_NAMES
    return set(FUNCTION_NAMES)
