"""Read a package's import graph with ``ast``, and judge it against the allowed arrows.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a deferred
import still ties the two modules together, it only hides the cycle from the interpreter.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    """Return the dotted name of ``path`` inside the package at ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, skip: tuple[str, ...] = ("migrations",)) -> Graph:
    """Return each module of the package at ``root`` with the package's modules it imports."""
    files = {
        module_name(root, path): path
        for path in sorted(root.rglob("*.py"))
        if not set(path.relative_to(root).parts) & set(skip)
    }
    return {name: _imports(name, path, set(files)) for name, path in files.items()}


def _imports(name: str, path: Path, modules: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # "from pkg import module" imports the module; "from module import name" the module.
            found.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            )
    return {module for module in found if module in modules and module != name}


def cycles(graph: Graph) -> list[list[str]]:
    """Return one cycle through each strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def part_of(module: str) -> str:
    """Return the part a module belongs to: the first name below the top package."""
    names = module.split(".")
    return names[1] if len(names) > 1 else names[0]


def forbidden(graph: Graph, allowed: Mapping[str, set[str]]) -> Iterator[str]:
    """Yield each import from one part into another that ``allowed`` does not list."""
    for module, targets in sorted(graph.items()):
        source = part_of(module)
        for target in sorted(targets):
            dest = part_of(target)
            if dest != source and dest not in allowed.get(source, set()):
                yield f"{module} imports {target}: {source} may not import {dest}"
