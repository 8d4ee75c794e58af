"""Names that change hands inside one transaction: a swap, not a break.

A column dropped and another renamed to its name, or a table renamed away while another
relation (a shadow table, a view) takes its name, all in one SQL string (which PostgreSQL
runs as one transaction): running code never sees the name missing. The drop and the
rename are then not what SM105, SM106 and SM107 warn about, and their facts are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from safemigrate.postgres.tree_names import relation_name

#: A fact that a swap makes harmless: (kind, table, detail).
Key = tuple[str, str, str]


def swapped(nodes: Sequence[Any]) -> set[Key]:
    """Return the drop and rename facts of ``nodes`` (one SQL string) that swaps explain."""
    dropped: set[tuple[str, str]] = set()
    renamed: dict[tuple[str, str], str] = {}
    tables_renamed: dict[str, str] = {}
    named: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                if cmd.subtype == AlterTableType.AT_DropColumn:
                    dropped.add((table, str(cmd.name)))
        elif isinstance(node, ast.RenameStmt) and node.relation is not None:
            table = relation_name(node.relation)
            if node.renameType == ObjectType.OBJECT_COLUMN:
                renamed[(table, str(node.newname))] = str(node.subname)
            elif node.renameType == ObjectType.OBJECT_TABLE:
                tables_renamed[table] = str(node.newname)
                named.add(_sibling(table, str(node.newname)))
        elif isinstance(node, ast.ViewStmt):
            named.add(relation_name(node.view))
    keys: set[Key] = set()
    for table, column in dropped & set(renamed):
        keys |= {("drop_column", table, column), ("rename_column", table, renamed[table, column])}
    for table, new in tables_renamed.items():
        if table in named:
            keys.add(("rename_table", table, new))
    return keys


def _sibling(table: str, name: str) -> str:
    """The name a relation renamed ``name`` has: in its schema, as ``relation_name`` writes."""
    if table.startswith('"') and '"."' in table:
        return table[: table.index('"."') + 3] + name.replace('"', '""') + '"'
    return name
