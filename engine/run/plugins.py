"""Plugins: extend the engine without editing it.

A region or a vendor may need a function the core does not have (a price
index), another output format (an HTML page), or rulesets kept elsewhere.
They ship that as a plugin instead of a fork.  The hooks are in
:mod:`rammeaftale.run.hookspecs`.  Plugins are found

* through the entry-point group ``rammeaftale`` of installed distributions (the
  shipped ``prisindeks`` and ``html_rapport`` are declared there by this
  distribution, as the package ``rammeaftale_plugins``), and
* as modules (``*.py``, not starting with ``_``) in the project's top-level
  ``plugins/`` folder and in the folders listed in ``$RAMMEAFTALE_PLUGINS``
  (separated by ``os.pathsep``).

``RAMMEAFTALE_NO_PLUGINS=1`` turns discovery off.  A plugin that fails to
import, implements a hook that does not exist, or whose hook raises, is
reported by name (``rammeaftale plugins``) and skipped: one broken plugin
never takes the engine down.

Nothing here is process-wide: :func:`discover` returns a :class:`Plugins`
value owned by whoever asked (an :class:`~rammeaftale.Engine`, the CLI), and
:meth:`Plugins.extensions` is the read-only view the compiler receives.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

from ..errors import InvalidCase
from ..formula.functions import FUNCTION_NAMES
from ..model.catalogue import catalogue
from ..model.extensions import Extensions
from .hookspecs import PROJECT, Specs, hookimpl

__all__ = ["Plugin", "Plugins", "discover", "hookimpl", "plugin_folders"]

ENTRY_POINT_GROUP = "rammeaftale"
PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins"
ENV_DIRS, ENV_OFF = "RAMMEAFTALE_PLUGINS", "RAMMEAFTALE_NO_PLUGINS"


@dataclass
class Plugin:
    name: str
    origin: str
    hooks: list[str] = field(default_factory=list)


@dataclass
class Plugins:
    """The loaded plugins of one owner, what they contribute, and what went wrong.

    What the hooks return is collected once, in :func:`discover`; afterwards
    the object is only read.
    """

    manager: pluggy.PluginManager
    loaded: list[Plugin] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    formatters: dict[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)
    step_kinds: dict[str, Any] = field(default_factory=dict)
    ruleset_sources: list[Path] = field(default_factory=list)

    def extensions(self) -> Extensions:
        """The read-only view the compiler and the engine receive."""
        return Extensions(functions=self.functions, step_kinds=self.step_kinds, formatters=self.formatters)

    def format_result(self, name: str, result: dict[str, Any]) -> str:
        """``result`` (``Result.to_dict()``) in the plugin format ``name``."""
        if name not in self.formatters:
            raise InvalidCase(f"ukendt format '{name}'; kendte: {', '.join(sorted(self.formatters)) or 'ingen'} "
                              "(se 'rammeaftale plugins')", path="format")
        return self.formatters[name](result)

    def report(self) -> dict[str, Any]:
        """What ``rammeaftale plugins --json`` prints."""
        return {
            "plugins": [{"name": p.name, "origin": p.origin, "hooks": p.hooks} for p in self.loaded],
            "functions": sorted(self.functions), "formatters": sorted(self.formatters),
            "step_kinds": sorted(self.step_kinds),
            "ruleset_sources": [str(p) for p in self.ruleset_sources],
            "failures": list(self.failures),
        }

    # -- collecting, once ----------------------------------------------------------

    def _collect(self) -> None:
        taken = set(FUNCTION_NAMES) | {n for q in catalogue().values() for n in (*q.inputs, *q.outputs)}
        for name, fn in self._merged("rammeaftale_functions", "function"):
            if name in taken or name in self.functions:
                self._fail(name, f"funktionen '{name}' findes allerede og springes over")
            elif not callable(fn) or not name.isidentifier():
                self._fail(name, f"'{name}' er ikke en funktion med et gyldigt navn")
            else:
                self.functions[name] = fn
        self.formatters.update(self._merged("rammeaftale_formatters", "formatter"))
        self.step_kinds.update(self._merged("rammeaftale_step_kinds", "step kind"))
        for plugin, result in self._results("rammeaftale_ruleset_sources"):
            for folder in result or []:
                path = Path(folder)
                if path.is_dir():
                    self.ruleset_sources.append(path)
                else:
                    self._fail(plugin, f"regelsætmappen {path} findes ikke")

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


def discover(folders: Iterable[Path] | None = None, entry_points: bool = True) -> Plugins:
    """Load every plugin (entry points, then plugin folders) into a new :class:`Plugins`."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(Specs)
    found = Plugins(manager)
    if os.environ.get(ENV_OFF):
        return found
    if entry_points and _may_declare_entry_points():
        from importlib import metadata   # 50-150 ms of imports; only when something may declare us
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            _register(found, ep.name, f"entry point {ep.value}", ep.load)
    # A module already loaded through an entry point (the shipped plugins, installed
    # from this checkout's plugins/ folder) is the same plugin: not loaded twice.
    loaded = {_file_of(module) for module in found.manager.get_plugins()}
    for folder in (folders if folders is not None else plugin_folders()):
        for path in sorted(Path(folder).glob("*.py")):
            if not path.name.startswith("_") and path.resolve() not in loaded:
                _register(found, path.stem, str(path), lambda p=path: _import(p))
    found._collect()
    return found


def _file_of(module: Any) -> Path | None:
    name = getattr(module, "__file__", None)
    return Path(name).resolve() if name else None


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
    try:
        found.manager.check_pending()      # a hook that no spec knows: a misspelling, never silently ignored
    except pluggy.PluginValidationError as exc:
        found.manager.unregister(module)
        found._fail(name, f"kunne ikke indlæses fra {origin}: {exc}")
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
