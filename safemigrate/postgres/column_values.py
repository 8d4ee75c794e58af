"""Which columns a statement adds empty, and which it needs a value in on every row.

``ADD COLUMN`` without a default gives every existing row a NULL; ``SET NOT NULL``, a
validated ``CHECK (column IS NOT NULL)`` or ``ADD COLUMN ... NOT NULL`` without a default
then fail on any table with rows. A rollback that puts back a dropped column (empty: the
data went with the drop) and then restores its NOT NULL is such a pair, found here from the
statements before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, NullTestType

from safemigrate.postgres.statements import parse
from safemigrate.postgres.tree_names import relation_name

Column = tuple[str, str]

_AT = AlterTableType
_C = ConstrType
#: Constraints that give a new column a value in every existing row.
_FILLING = {_C.CONSTR_DEFAULT, _C.CONSTR_GENERATED, _C.CONSTR_IDENTITY}


@dataclass
class ColumnEffects:
    """What one piece of SQL does to the values of columns."""

    #: Columns added with no value in the existing rows.
    emptied: set[Column] = field(default_factory=set)
    #: Columns that must then hold a value in every row, or the statement fails.
    required: set[Column] = field(default_factory=set)
    #: Tables whose rows a statement writes (which may fill an empty column).
    written: set[str] = field(default_factory=set)


def column_effects(sql: str) -> ColumnEffects:
    """Read ``sql`` (one or more statements) for the columns it empties and requires."""
    effects = ColumnEffects()
    for _, node in parse(sql):
        if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                _alter(table, cmd, effects)
        elif isinstance(node, ast.UpdateStmt | ast.InsertStmt) and node.relation is not None:
            effects.written.add(relation_name(node.relation))
    return effects


def _alter(table: str, cmd: Any, effects: ColumnEffects) -> None:
    subtype = int(cmd.subtype or 0)
    if subtype == _AT.AT_AddColumn:
        constraints = {int(c.contype) for c in cmd.def_.constraints or ()}
        column = (table, str(cmd.def_.colname))
        if not constraints & _FILLING:
            effects.emptied.add(column)
            if _C.CONSTR_NOTNULL in constraints:
                effects.required.add(column)
    elif subtype == _AT.AT_SetNotNull:
        effects.required.add((table, str(cmd.name)))
    elif subtype == _AT.AT_AddConstraint and not cmd.def_.skip_validation:
        checked = _not_null_check(cmd.def_)
        if checked is not None:
            effects.required.add((table, checked))


def _not_null_check(constraint: Any) -> str | None:
    """Return the column of a ``CHECK (column IS NOT NULL)``, else ``None``."""
    expr = constraint.raw_expr if int(constraint.contype) == _C.CONSTR_CHECK else None
    if not isinstance(expr, ast.NullTest) or expr.nulltesttype != NullTestType.IS_NOT_NULL:
        return None
    fields: Any = expr.arg.fields if isinstance(expr.arg, ast.ColumnRef) else None
    return str(fields[-1].sval) if fields else None
