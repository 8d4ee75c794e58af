"""Rewrite SQL that PostgreSQL wrote about one column so that it names another.

A column replaced by a new one (renamed, or of a new type) must carry the same indexes and
constraints. The catalog gives their definitions as SQL (``pg_get_indexdef``,
``pg_get_constraintdef``); these functions parse that SQL with pglast, rename the column
wherever it appears (keys, expressions, predicates, foreign key columns), and write it back,
so nothing is rewritten by string replacement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pglast
from pglast import ast, visitors
from pglast.stream import RawStream


class _Renamer(visitors.Visitor):
    """Rename one column in the column references and index elements of a tree."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> Any:
        fields = node.fields or ()
        if fields and isinstance(fields[-1], ast.String) and fields[-1].sval == self.old:
            return ast.ColumnRef(fields=(*fields[:-1], ast.String(sval=self.new)))
        return None

    def visit_IndexElem(self, ancestors: Any, node: ast.IndexElem) -> Any:
        if node.name == self.old:
            node.name = self.new
        return None

    def visit_Constraint(self, ancestors: Any, node: ast.Constraint) -> Any:
        # Its own column lists (UNIQUE (a, b), FOREIGN KEY (a)) are plain strings; the
        # referenced table's columns (pk_attrs) are another table's, and stay.
        for member in ("keys", "fk_attrs", "including"):
            names = getattr(node, member) or ()
            renamed = tuple(
                ast.String(sval=self.new) if name.sval == self.old else name for name in names
            )
            setattr(node, member, renamed or None)
        return None


def index_copy(
    definition: str,
    old: str,
    new: str,
    name: str,
    opclasses: Mapping[str, str | None] | None = None,
    table: tuple[str, str] | None = None,
) -> str | None:
    """Return ``CREATE INDEX CONCURRENTLY name`` with the definition's ``old`` column as
    ``new`` (and on ``table``, ``(schema, name)``, if given); ``opclasses`` maps an operator
    class of that column to the one its new type needs (``None``: the index cannot exist on
    the new type, and ``None`` is returned)."""
    statement = pglast.parse_sql(definition)[0].stmt
    assert isinstance(statement, ast.IndexStmt), definition
    statement = _Renamer(old, new)(statement)
    for element in statement.indexParams or ():
        opclass = element.opclass
        if element.name == new and opclass and opclasses:
            wanted = opclasses.get(str(opclass[-1].sval), str(opclass[-1].sval))
            if wanted is None:
                return None
            element.opclass = (ast.String(sval=wanted),)
    if table is not None:
        statement.relation.schemaname = table[0] or statement.relation.schemaname
        statement.relation.relname = table[1]
    statement.idxname = name
    statement.concurrent = True
    return str(RawStream()(statement))


def constraint_copy(
    definition: str,
    old: str,
    new: str,
    *,
    not_valid: bool,
    references: tuple[str, str] | None = None,
) -> str:
    """Return a constraint's definition (``pg_get_constraintdef``) with ``old`` as ``new``,
    ``NOT VALID`` when asked (a check or a foreign key to validate later); ``references``
    (``(table, instead)``) points a foreign key to ``table`` at ``instead``."""
    statement = pglast.parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")[0].stmt
    assert isinstance(statement, ast.AlterTableStmt)
    constraint = _Renamer(old, new)(statement).cmds[0].def_
    constraint.conname = None
    constraint.skip_validation = not_valid
    constraint.initially_valid = not not_valid
    target = constraint.pktable
    if references is not None and target is not None and target.relname == references[0]:
        target.relname = references[1]
    return str(RawStream()(constraint))


class _Qualifier(visitors.Visitor):
    def __init__(self, row: str, columns: set[str]) -> None:
        self.row, self.columns = row, columns

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> Any:
        fields = node.fields or ()
        if len(fields) == 1 and isinstance(fields[0], ast.String):
            self.columns.add(str(fields[0].sval))
            return ast.ColumnRef(fields=(ast.String(sval=self.row), fields[0]))
        return None


def qualified(expression: str, row: str) -> tuple[str, set[str]]:
    """Return ``expression`` with every bare column qualified by ``row`` (``NEW.price``), and
    the columns it names; a ``ValueError`` says what is wrong with it."""
    try:
        statement = pglast.parse_sql(f"SELECT {expression}")
    except pglast.parser.ParseError as error:
        raise ValueError(f"{expression!r} is not an SQL expression: {error}") from error
    select = statement[0].stmt
    if len(statement) != 1 or not isinstance(select, ast.SelectStmt) or select.fromClause:
        raise ValueError(f"{expression!r} is not one SQL expression")
    targets = select.targetList or ()
    if len(targets) != 1:
        raise ValueError(f"{expression!r} is not one SQL expression")
    columns: set[str] = set()
    value = _Qualifier(row, columns)(targets[0].val)
    return str(RawStream()(value)), columns
