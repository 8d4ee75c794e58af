"""What an expression in a statement implies: a default evaluated per row, a proven NOT NULL."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import BoolExprType, NullTestType

#: Functions PostgreSQL evaluates per row: a default using one rewrites the table.
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "setseed",
    }
)


def is_volatile(default: Any) -> bool:
    """Whether a column default calls a function PostgreSQL evaluates per row."""
    if default is None or default.raw_expr is None:
        return False
    from pglast import visitors  # its SQL printers take 20 ms to import; most runs need none

    names: list[str] = []

    class _Calls(visitors.Visitor):
        def visit_FuncCall(self, ancestors: Any, node: Any) -> None:
            names.append(str(node.funcname[-1].sval).lower())

    _Calls()(default.raw_expr)
    return any(name in VOLATILE_FUNCTIONS for name in names)


def not_null_columns(expr: Any) -> set[str]:
    """Return the columns a CHECK expression proves NOT NULL.

    PostgreSQL 12+ skips SET NOT NULL's scan when a validated check implies the column is
    not null: ``col IS NOT NULL``, alone or as one term of an AND. Any other expression
    lets a NULL through (a check that is NULL passes), so it proves nothing.
    """
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NOT_NULL:
        fields = getattr(expr.arg, "fields", None) or ()
        return {str(fields[-1].sval)} if fields else set()
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        return set().union(*(not_null_columns(arg) for arg in expr.args or ()))
    return set()
