"""Issue 10: the flow is visible in the folders, and imports only run downward.

Read from the source (every ``import``, also those inside functions and under
``TYPE_CHECKING``), not from what happens to be imported at run time:

    errors, _version  →  formula  →  load  →  model  →  run  →  tools  →  service  →  cli
                                                            plugin_api, __init__, __main__ on top

A module may import from its own layer or any layer below it, never above,
and no set of modules imports itself in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"
PACKAGE = "rammeaftale"
LAYERS = {"errors": 0, "_version": 0, "formula": 1, "load": 2, "model": 3, "run": 4, "tools": 5, "service": 6, "cli": 7,
          "plugin_api": 8, "__init__": 8, "__main__": 8}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ENGINE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Engine modules ``path`` imports (relative imports resolved; ``from . import x`` counts x)."""
    here = _module(path)
    package = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                target = node.module[len(PACKAGE) + 1:]
            else:
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name[len(PACKAGE) + 1:])
    return {m for m in found if m and m != here}


def _exists(module: str) -> bool:
    base = ENGINE.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


GRAPH = {_module(p): _imports(p) for p in ENGINE.rglob("*.py")}


def test_every_module_belongs_to_a_layer():
    assert all(m.split(".")[0] in LAYERS for m in GRAPH), sorted(m for m in GRAPH if m.split(".")[0] not in LAYERS)


def test_imports_only_run_downward():
    upward = sorted(f"{m} → {t}" for m, targets in GRAPH.items() for t in targets
                    if t in GRAPH and _layer(t) > _layer(m))
    assert not upward, upward


def test_nothing_but_the_cli_and_the_entry_points_imports_the_cli():
    users = sorted(m for m, targets in GRAPH.items()
                   if any(t == "cli" or t.startswith("cli.") for t in targets) and not m.startswith("cli")
                   and m != "__main__")
    assert not users, users


def test_no_import_cycles():
    """Tarjan's strongly connected components over the module graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in GRAPH:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_the_graph_is_read_at_all():
    """A reader that found no edges would make the tests above pass vacuously."""
    assert "formula.expr" in GRAPH["model.compiler"] and "run.api" in GRAPH["cli.common"]
    assert sum(len(t) for t in GRAPH.values()) > 60
