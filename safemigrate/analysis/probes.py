"""What the analysis asks the live database: sizes, write rates, indexes, proven NOT NULLs.

Each probe runs one read-only query on the connection; a database that cannot answer just
knows nothing, and the analysis judges as if the table were large and in use.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.analysis.expressions import not_null_columns
from safemigrate.postgres.statements import parse
from safemigrate.postgres.tables import (
    TableStats,
    locked_table,
    quote_relation,
    table_stats,
    validated_checks,
    write_rate,
)


def live_write_rate(connection: BaseDatabaseWrapper) -> Callable[[str], float | None]:
    """A probe of a table's write rate; an unreachable database just knows nothing."""

    def probe(table: str) -> float | None:
        try:
            with connection.cursor() as cursor:
                return write_rate(cursor, table)
        except DatabaseError:
            return None

    return probe


def live_probe(connection: BaseDatabaseWrapper) -> Callable[[str], TableStats | None]:
    """A statistics probe on ``connection``; an unreachable database just knows nothing."""

    def probe(table: str) -> TableStats | None:
        try:
            with connection.cursor() as cursor:
                return table_stats(cursor, table)
        except DatabaseError:
            return None

    return probe


def live_index_probe(connection: BaseDatabaseWrapper) -> Callable[[str], str | None]:
    """A probe of the table a live index belongs to."""

    def probe(index: str) -> str | None:
        try:
            with connection.cursor() as cursor:
                return locked_table(cursor, quote_relation(index), via_index=True)
        except DatabaseError:
            return None

    return probe


def live_not_null_probe(connection: BaseDatabaseWrapper) -> Callable[[str], set[str]]:
    """A probe of the columns a table's validated CHECK constraints prove NOT NULL."""

    def probe(table: str) -> set[str]:
        try:
            with connection.cursor() as cursor:
                expressions = validated_checks(cursor, table)
        except DatabaseError:
            return set()
        return {
            column
            for expression in expressions
            for _, node in parse(f"SELECT {expression}")
            if node is not None
            for target in getattr(node, "targetList", None) or ()
            for column in not_null_columns(target.val)
        }

    return probe
