"""What an operation does to the running application: its expand/contract phase, and
whether it breaks code that still uses the old schema.

The phase is the operation's role in ``deploy.phases`` (and, for RunSQL, whether its
statements change schema); the breakage is read from the analysis's facts in the judged plan,
so a type "change" to the same type or a column the code already forgot breaks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.migrations.operations.base import Operation

from safemigrate.analysis.report import StatementReport
from safemigrate.analysis.sqlfacts import Fact
from safemigrate.deploy.phases import role_of

#: Facts that break code still using the old schema, and why.
BREAKING: dict[str, str] = {
    "drop_column": "drops column {detail} of {table}: code still using it fails, and its data "
    "is lost",
    "drop_table": "drops table {table}: code still using it fails, and its data is lost",
    "rename_column": "renames column {detail} of {table}: code using the old name fails until "
    "it is deployed",
    "rename_table": "renames table {table}: code using the old name fails until it is deployed",
    "alter_column_type": "changes the type of column {detail} of {table}: a rewrite, and code "
    "may break",
}


def phase(operation: Operation, statements: Sequence[StatementReport]) -> str:
    """Return ``expand``, ``contract``, ``data`` or ``change`` (everything else).

    The role of each operation class is ``deploy.phases.ROLES``, the same table that says
    which steps wait for the old code to be gone; a ``RunSQL`` that changes no schema is data.
    """
    kind = role_of(operation).kind
    if kind == "change" and type(operation).__name__ == "RunSQL":
        return "data" if statements and not any(s.ddl for s in statements) else kind
    return kind


def breaking(facts: Sequence[Fact]) -> str:
    """Return why the operation breaks running code (drop, rename, type change), or ``""``."""
    for fact in facts:
        if fact.kind in BREAKING:
            return BREAKING[fact.kind].format(table=fact.table, detail=fact.detail)
    return ""


def format_ms(value: int | None, runs_python: bool = False) -> str:
    """Return ``"< 1 s"``, ``"12 s"`` or ``"3 min"``, plus a note when Python code runs too."""
    if value is None:
        return "unknown (runs Python code)" if runs_python else "unknown (table size unknown)"
    if value < 1000:
        text = "< 1 s"
    elif value < 120_000:
        text = f"{value // 1000} s"
    else:
        text = f"{value // 60_000} min"
    return f"{text} + the time of its Python code" if runs_python else text
