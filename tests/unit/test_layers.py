"""The packages form layers that only point down, and no module imports itself back
round a cycle (``ARCHITECTURE.md`` draws them).

    cli          the ``vigil`` command: the top floor
    vigil        the Python client over actor handles
    serve_app    the HTTP ingress and the predictor (Ray Serve)
    actors       Ray actors and their typed clients, the notifiers
    models       machine learning: features, training, the registry
    cluster      the ground: settings, Redis, the store and its records, Ray start-up
    alerting     the pure domain: rules as functions, no I/O

Every import counts, a function's own ones too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["alerting", "cluster", "models", "actors", "serve_app", "vigil", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The modules of ours that ``path`` imports (``from a import b`` counts ``a.b``
    when that is a module of ours, else ``a``), ``TYPE_CHECKING`` blocks left out."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}")
                found.add(node.module)
    return {m for m in found if m.split(".")[0] in LAYERS}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")}
    return {
        name: {m for m in imports_of(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_every_import_points_down_or_sideways() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if LAYERS.index(target.split(".")[0]) > LAYERS.index(module.split(".")[0])
    ]
    assert not upward, "\n".join(sorted(upward))


def test_no_module_imports_itself_round_a_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if target.startswith(module + "."):
                continue  # a package importing its own modules is not a cycle
            if state.get(target) == 1:
                cycles.append(
                    [*path[path.index(target) :], target] if target in path else [module, target]
                )
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
