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
import re
import sys
from dataclasses import dataclass, field
from functools import reduce
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..errors import InvalidCase
from ..formula.functions import FUNCTION_NAMES
from ..model.catalogue import catalogue
from ..model.extensions import Extensions

if TYPE_CHECKING:  # pragma: no cover
    import pluggy

__all__ = ["Plugin", "Plugins", "discover", "plugin_folders"]

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

    #: None until the first plugin is registered: a process without plugins never imports pluggy.
    manager: "pluggy.PluginManager | None" = None
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
        out: list[tuple[str, Any]] = []
        if self.manager is None:
            return out
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
    found = Plugins()
    if os.environ.get(ENV_OFF):
        return found
    if entry_points:
        for name, value in _entry_points():
            _register(found, name, f"entry point {value}", lambda v=value: _load_entry_point(v))
    # A module already loaded through an entry point (the shipped plugins, installed
    # from this checkout's plugins/ folder) is the same plugin: not loaded twice.
    loaded = {_file_of(module) for module in found.manager.get_plugins()} if found.manager else set()
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


def _manager(found: Plugins) -> "pluggy.PluginManager":
    """The plugin manager of ``found``, made (and pluggy imported) on the first plugin."""
    if found.manager is None:
        import pluggy
        from .hookspecs import PROJECT, Specs
        found.manager = pluggy.PluginManager(PROJECT)
        found.manager.add_hookspecs(Specs)
    return found.manager


def _register(found: Plugins, name: str, origin: str, load: Callable[[], Any]) -> None:
    import pluggy
    manager = _manager(found)
    if manager.has_plugin(name):
        found._fail(name, f"et plugin med navnet '{name}' er allerede indlæst; {origin} springes over")
        return
    try:
        module = load()
        manager.register(module, name=name)
    except Exception as exc:  # noqa: BLE001 - report by name, keep the engine running
        found._fail(name, f"kunne ikke indlæses fra {origin}: {type(exc).__name__}: {exc}")
        return
    try:
        manager.check_pending()      # a hook that no spec knows: a misspelling, never silently ignored
    except pluggy.PluginValidationError as exc:
        manager.unregister(module)
        found._fail(name, f"kunne ikke indlæses fra {origin}: {exc}")
        return
    hooks = [h.name for h in manager.get_hookcallers(module) or []]
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


#: What ``importlib.metadata`` accepts as an entry point's value: ``module[:attr.attr] [extras]``.
_ENTRY_POINT_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def _entry_points() -> list[tuple[str, str]]:
    """(name, value) of each entry point in our group, as ``importlib.metadata.entry_points`` lists them.

    ``importlib.metadata`` costs 20-150 ms to import (email, zipfile, csv,
    socket …), a large part of a CLI call, so the usual case — plain folders
    on ``sys.path`` — is read here the way it reads them: the ``*.dist-info``
    and ``*.egg-info`` folders of each path entry in ``os.listdir`` order,
    one distribution per normalised name (the first on the path wins, also
    when it declares nothing), each one's ``entry_points.txt`` read as
    sections.  Anything else (a zip or an ``.egg`` on the path, another
    finder that knows distributions) is left to ``importlib.metadata``.
    """
    specs = _scan_entry_points()
    if specs is None:
        from importlib import metadata
        return [(ep.name, ep.value) for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    return specs


def _scan_entry_points() -> list[tuple[str, str]] | None:
    """:func:`_entry_points` from plain folders, or None when only ``importlib.metadata`` can tell."""
    from importlib.machinery import PathFinder
    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return None
    header = f"[{ENTRY_POINT_GROUP}]"
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for entry in sys.path:
        root = entry or "."
        if os.path.isfile(root) or os.path.basename(root).lower().endswith(".egg"):
            return None
        try:
            children = os.listdir(root)
        except OSError:
            continue
        infos: dict[str, list[str]] = {}
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                name = re.sub(r"[-_.]+", "-", low.rpartition(".")[0].partition("-")[0]).replace("-", "_")
                infos.setdefault(name, []).append(child)
        for name, folders in infos.items():
            for folder in folders:
                if name in seen:
                    continue
                seen.add(name)
                try:
                    with open(os.path.join(root, folder, "entry_points.txt"), encoding="utf-8") as handle:
                        text = handle.read()
                except (OSError, UnicodeDecodeError):
                    continue
                if header in text:
                    found.extend(_group_entries(text))
    return found


def _group_entries(text: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of our group in an ``entry_points.txt`` (``importlib.metadata``'s reading)."""
    section, out = None, []
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == ENTRY_POINT_GROUP:
            name, _, value = line.partition("=")
            out.append((name.strip(), value.strip()))
    return out


def _load_entry_point(value: str) -> Any:
    """The object an entry point's value names (``EntryPoint.load``)."""
    match = _ENTRY_POINT_VALUE.match(value)
    if match is None:
        raise ValueError(f"ugyldig entry point '{value}'")
    return reduce(getattr, filter(None, (match["attr"] or "").split(".")), import_module(match["module"]))
