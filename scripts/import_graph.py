"""Print dotnet's internal import graph: its cycles and its depth.

Every ``import`` counts, wherever it is written (module level, inside a function, or
under ``if TYPE_CHECKING``), since each is a dependency a reader must follow.

    python scripts/import_graph.py [PACKAGE_DIR]
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    """Module name of every ``.py`` file under the package directory ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports (``from a import b`` counts ``a.b`` when it is one)."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module in known:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            targets |= subs or {node.module}
    return targets


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components with more than one module, or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "dotnet").resolve()
    known = modules(root)
    graph = {name: imports(path, set(known)) - {name} for name, path in known.items()}
    cycles = strongly_connected(graph)
    component = {m: i for i, c in enumerate(cycles) for m in c}

    @cache
    def depth(name: str) -> int:
        """Longest chain of imports below ``name``, a cycle counted as one module."""
        below = [depth(t) for t in graph[name] if component.get(t, t) != component.get(name, name)]
        return 1 + max(below, default=0)

    deepest = max(known, key=depth)
    print(f"modules: {len(known)}, import edges: {sum(map(len, graph.values()))}")
    print(f"cycles: {len(cycles)}" + "".join(f"\n  {len(c)} modules: {', '.join(c)}" for c in cycles))
    print(f"depth: {depth(deepest)} (from {deepest})")


if __name__ == "__main__":
    main()
