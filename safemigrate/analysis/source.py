"""Where each operation of a migration is written, for annotations on the right line."""

from __future__ import annotations

import ast
import functools
from pathlib import Path


@functools.lru_cache(maxsize=1024)
def operation_lines(path: Path | None) -> tuple[int, ...]:
    """Return the line of each element of the ``operations = [...]`` list in ``path``."""
    if path is None or not path.is_file():
        return ()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return ()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "operations" for t in node.targets)
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            return tuple(element.lineno for element in node.value.elts)
    return ()


def line_of(path: Path | None, index: int) -> int | None:
    """Return the line of operation ``index``, or None when it cannot be found."""
    lines = operation_lines(path)
    return lines[index] if index < len(lines) else None
