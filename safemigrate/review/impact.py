"""What an operation does to the running application: its phase, whether it breaks code
that still uses the old schema, and roughly how long it holds the table.

These are rules as data: the expand/contract role of each operation class is
``deploy.phases.ROLES`` (the same table that says which steps wait for the old code to be
gone), and patterns over the SQL the schema editor renders are checked in order.
The duration is a rough order of magnitude from the table's size and what the statement
must do to it (nothing, scan it, or rewrite it); it is not a promise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db.migrations.operations.base import Operation

from safemigrate.deploy.phases import POST_DEPLOY_SQL, role_of
from safemigrate.postgres.statements import StatementInfo

_MB = 1024 * 1024

#: (pattern on the SQL, MB per second the server gets through, what it does to the table)
SQL_COSTS: tuple[tuple[re.Pattern[str], int, str], ...] = (
    (re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b", re.I), 50, "builds an index"),
    (re.compile(r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b", re.I), 30, "rewrites"),
    (re.compile(r"\bSET\s+NOT\s+NULL\b", re.I), 200, "scans"),
    (re.compile(r"\bADD\s+CONSTRAINT\b(?!.*\bNOT\s+VALID\b)", re.I | re.S), 100, "checks rows"),
    (re.compile(r"\bVALIDATE\s+CONSTRAINT\b", re.I), 100, "checks rows"),
    (re.compile(r"^\s*(UPDATE|DELETE|INSERT)\b", re.I), 20, "writes rows"),
)

#: (pattern on the SQL, why it breaks code that still uses the old schema), checked in order:
#: a type change, then the drops and renames that make a step post-deploy.
SQL_BREAKING: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bALTER\s+COLUMN\s+(\S+)\s+(SET\s+DATA\s+)?TYPE\b", re.I),
        "changes the type of column {0}: a rewrite, and code may break",
    ),
    *POST_DEPLOY_SQL,
)


def phase(operation: Operation, statements: Sequence[StatementInfo]) -> str:
    """Return ``expand``, ``contract``, ``data`` or ``change`` (everything else)."""
    kind = role_of(operation).kind
    if kind == "change" and type(operation).__name__ == "RunSQL":
        return "data" if statements and not any(s.is_ddl for s in statements) else kind
    return kind


def breaking(operation: Operation, sql: Sequence[str], backwards: bool = False) -> str:
    """Return why the operation breaks running code (drop, rename, type change), or ``""``.

    Unapplying is judged by its SQL alone: unapplying ``AddField`` drops a column.
    """
    role = role_of(operation)
    if role.breaks and not backwards:
        return role.breaks
    for text in sql:
        for pattern, why in SQL_BREAKING:
            if match := pattern.search(text):
                return why.format(match.group(1))
    return ""


def estimate_ms(statements: Sequence[tuple[str, int]]) -> int:
    """Return a rough duration of ``(sql, size of the table it works on)`` pairs: 0 for
    catalog-only changes, else each statement's table size over the speed of its kind of work.
    """
    total = 0.0
    for text, table_bytes in statements:
        for pattern, mb_per_s, _ in SQL_COSTS:
            if pattern.search(text):
                total += table_bytes / (mb_per_s * _MB) * 1000
                break
    return int(total)


def format_ms(value: int | None, runs_python: bool = False) -> str:
    """Return ``"< 1 s"``, ``"12 s"`` or ``"3 min"``, plus a note when Python code runs too."""
    if value is None:
        return "unknown (runs Python code)"
    if value < 1000:
        text = "< 1 s"
    elif value < 120_000:
        text = f"{value // 1000} s"
    else:
        text = f"{value // 60_000} min"
    return f"{text} + the time of its Python code" if runs_python else text


def format_bytes(value: int | None) -> str:
    """Return a size the way psql's ``\\dt+`` shows it: ``8192 bytes``, ``1.2 MB``."""
    if value is None:
        return "-"
    if value < 1024:
        return f"{value} bytes"
    size, unit = value / 1024, "kB"
    for bigger in ("MB", "GB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f} {unit}"
