"""What PostgreSQL knows about a table: its name as a relation, size, rows and write rate.

Each function takes a DB-API cursor and runs one parametrised query; none of them writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def locked_table(cursor: Any, regclass: str, via_index: bool) -> str | None:
    """Return the table a lock lands on, named as ``regclass::text`` does (quoted if needed).

    For an index that is its table; None when the relation does not exist (yet).
    """
    if via_index:
        cursor.execute(
            "SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = to_regclass(%s)",
            [regclass],
        )
    else:
        cursor.execute("SELECT to_regclass(%s)::text", [regclass])
    row = cursor.fetchone()
    return None if row is None or row[0] is None else str(row[0])


def relation_exists(cursor: Any, name: str) -> bool:
    """Return whether a table (or other relation) of that name is visible on the search path."""
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return bool(cursor.fetchone()[0])


def column_names(cursor: Any, name: str) -> set[str]:
    """Return the columns of a table on the search path (none if there is no such table)."""
    cursor.execute(
        "SELECT attname FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        [name],
    )
    return {row[0] for row in cursor.fetchall()}


#: Tables smaller than this are counted exactly when the planner has no estimate for them.
EXACT_COUNT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class TableStats:
    """A table's size as the catalog knows it: what the runbook shows and the analysis weighs.

    ``rows`` is the planner's estimate, or an exact count (``counted``) for a small table
    never vacuumed or analysed. The analysis lowers a finding's severity only on the
    server's own statistics: a table nobody analysed is a development database's, and its
    handful of rows says nothing of production's.
    """

    name: str
    exists: bool
    rows: int | None = None
    size_bytes: int | None = None
    counted: bool = False

    @property
    def known_rows(self) -> int | None:
        """The rows as the server's statistics have them (``None`` for a mere count)."""
        return None if self.counted else self.rows


def table_stats(cursor: Any, name: str) -> TableStats:
    """Return rows (estimated, or counted when small and never analysed) and total size."""
    cursor.execute(
        "SELECT c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c "
        "WHERE c.oid = to_regclass(%s)",
        [name],
    )
    row = cursor.fetchone()
    if row is None:
        return TableStats(name, exists=False)
    rows, size = int(row[0]), int(row[1])
    if rows < 0 and size <= EXACT_COUNT_MAX_BYTES:
        # reltuples is -1 until the first VACUUM or ANALYZE; a small table is cheap to count.
        cursor.execute(f"SELECT count(*) FROM {quote_relation(name)}")
        count = int(cursor.fetchone()[0])
        return TableStats(name, exists=True, rows=count, size_bytes=size, counted=True)
    return TableStats(name, exists=True, rows=rows if rows >= 0 else None, size_bytes=size)


def validated_checks(cursor: Any, table: str) -> list[str]:
    """Return the expressions of the table's validated CHECK constraints, as SQL."""
    cursor.execute(
        "SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = 'c' AND convalidated",
        [quote_relation(table)],
    )
    return [str(expression) for (expression,) in cursor.fetchall()]


def quote_relation(name: str) -> str:
    """Quote each part of ``schema.table`` as an identifier, exactly as written."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def write_rate(cursor: Any, table: str) -> float | None:
    """Return the rows a table has had written per second, on average since stats began.

    From ``pg_stat_user_tables`` (inserts, updates and deletes) over the time since the
    database's statistics were reset, or since the server started.
    """
    cursor.execute(
        """
        SELECT (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::float8 / GREATEST(1, EXTRACT(EPOCH
            FROM clock_timestamp() - COALESCE(d.stats_reset, pg_postmaster_start_time())))
        FROM pg_stat_user_tables s, pg_stat_database d
        WHERE s.relid = to_regclass(%s) AND d.datname = current_database()
        """,
        [table],
    )
    row = cursor.fetchone()
    return None if row is None else float(row[0])


def estimated_rows(cursor: Any, sql: str, params: Any) -> int:
    """Return the planner's row estimate for a query, without running it."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
