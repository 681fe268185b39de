"""The package layout's rules, read from the source: imports point down the layers, core has no
import cycle, and each activation's formulas live in the activation table only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Each package may import those listed after it, never those before it.
LAYERS = ("app.api", "app.grpc", "app.services", "app.jobs", "app.storage", "core")
# Modules every app layer may use (settings, logging, domain errors, ids): they import no layer
# but core.
SHARED = ("app.settings", "app.logs", "app.errors", "app.ids")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top, inside functions or under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


def _layer(module: str) -> int | None:
    for index, layer in enumerate(LAYERS):
        if module == layer or module.startswith(layer + "."):
            return index
    return None


def test_imports_point_down_the_layers() -> None:
    upward = []
    for package in LAYERS:
        for path in _sources(package):
            own = _layer(_module_name(path))
            assert own is not None
            for imported in _imports(path):
                target = _layer(imported)
                if target is not None and target < own:
                    upward.append(f"{_module_name(path)} -> {imported}")
    assert upward == []


def test_shared_modules_import_no_layer_above_core() -> None:
    for name in SHARED:
        path = ROOT / (name.replace(".", "/") + ".py")
        layers = {_layer(m) for m in _imports(path)} - {None, LAYERS.index("core")}
        assert layers == set(), name


def test_core_has_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in _sources("core"):
        name = _module_name(path)
        graph[name] = {m for m in _imports(path) if m.startswith("core.") and m != name}
    modules = set(graph)
    graph = {name: {m for m in deps if m in modules} for name, deps in graph.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[str] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*path[path.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_activation_formulas_are_written_only_in_the_table() -> None:
    formulas = re.compile(r"\b(?:np|math)\.(?:tanh|expm1|heaviside)\(|1\.0 / \(1\.0 \+")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("core", "app")
        for path in _sources(package)
        if path.name != "activations.py" and formulas.search(path.read_text())
    ]
    assert offenders == []
