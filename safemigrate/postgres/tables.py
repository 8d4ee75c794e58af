"""What PostgreSQL knows about a table: its name as a relation, size, rows and write rate.

Each function takes a DB-API cursor and runs one parametrised query; none of them writes.

A relation's name is written as Django's ``db_table`` writes it: one identifier exactly as
the table is called (``LegacyOrder``, ``Odd Table;drop``, even ``a.b``: a dot is part of the
name), or, for a table in another schema, the schema and the table each in double quotes
(``"sales"."order"``). ``quote_relation`` turns either into SQL, and every function here
quotes the names it is given, so a mixed-case or odd name is found, never folded to lower
case or refused as bad syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def quote_relation(name: str) -> str:
    """Quote a relation's name for SQL or ``to_regclass()``, by Django's ``quote_name`` rule.

    An unquoted name is one identifier, quoted whole; a name already in double quotes is a
    qualified one (``"schema"."table"``) and stays as it is. Unlike Django's rule, a double
    quote inside a name is doubled, so any name makes valid SQL.
    """
    if len(name) > 1 and name.startswith('"') and name.endswith('"'):
        return name
    return quote_identifier(name)


def quote_identifier(name: str) -> str:
    """Quote one identifier (a column, a constraint, a schema) exactly as written."""
    return '"' + name.replace('"', '""') + '"'


def qualified_name(name: str, schema: str = "") -> str:
    """Return a relation's name as ``quote_relation`` reads it: ``name`` alone when no
    ``schema`` is given (the search path finds it), else ``"schema"."name"``."""
    return f"{quote_identifier(schema)}.{quote_identifier(name)}" if schema else name


def split_relation(name: str) -> tuple[str, str]:
    """Return ``(schema, name)`` of a relation's name; the schema is ``""`` when unqualified."""
    if not (name.startswith('"') and name.endswith('"')) or '"."' not in name:
        return "", name
    schema, _, table = name[1:-1].partition('"."')
    return schema.replace('""', '"'), table.replace('""', '"')


def sibling(table: str, name: str) -> str:
    """Name relation ``name`` in ``table``'s schema, where a table's indexes always live."""
    return qualified_name(name, split_relation(table)[0])


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


def tables_columns(cursor: Any, names: list[str]) -> dict[str, set[str]]:
    """Return each table's column names as the catalog has them (empty for a table that does
    not exist), for many tables in one query."""
    cursor.execute(
        "SELECT n.i, a.attname FROM unnest(%s::text[]) WITH ORDINALITY AS n(name, i) "
        "JOIN pg_attribute a ON a.attrelid = to_regclass(n.name) "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        [[quote_relation(name) for name in names]],
    )
    found: dict[str, set[str]] = {name: set() for name in names}
    for position, column in cursor.fetchall():
        found[names[position - 1]].add(str(column))
    return found


def qualified_tables(cursor: Any, names: list[str]) -> list[tuple[str, str]]:
    """Return ``(schema, name)`` of each of ``names`` that exists, sorted, with the partitions
    of the partitioned ones (a dump of the parent alone holds none of their rows)."""
    cursor.execute(
        """
        WITH named AS (
            SELECT to_regclass(name) AS oid FROM unnest(%s::text[]) AS name
        ), relations AS (
            SELECT oid FROM named WHERE oid IS NOT NULL
            UNION
            SELECT tree.relid FROM named, pg_partition_tree(named.oid) AS tree
            WHERE named.oid IS NOT NULL
        )
        SELECT n.nspname, c.relname FROM relations r
        JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind NOT IN ('i', 'I', 'c', 't')
        ORDER BY 1, 2
        """,
        [[quote_relation(name) for name in names]],
    )
    return [(str(schema), str(table)) for schema, table in cursor.fetchall()]


def referenced_from_outside(cursor: Any, tables: list[tuple[str, str]]) -> list[str]:
    """Return ``"a -> b"`` for each foreign key from a table outside ``tables`` into one of them.

    Dropping and recreating ``b`` (as an in-place restore does) would have to drop ``a`` too.
    """
    cursor.execute(
        """
        WITH inside AS (
            SELECT c.oid FROM unnest(%s::text[], %s::text[]) AS t(nspname, relname)
            JOIN pg_namespace n ON n.nspname = t.nspname
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.relname
        )
        SELECT DISTINCT conrelid::regclass::text || ' -> ' || confrelid::regclass::text
        FROM pg_constraint
        WHERE contype = 'f' AND confrelid IN (SELECT oid FROM inside)
          AND conrelid NOT IN (SELECT oid FROM inside)
        ORDER BY 1
        """,
        [[schema for schema, _ in tables], [table for _, table in tables]],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def has_rows(cursor: Any, name: str) -> bool:
    """Return whether the table holds at least one row (it reads one, at most)."""
    cursor.execute(f"SELECT EXISTS (SELECT FROM {quote_relation(name)})")
    return bool(cursor.fetchone()[0])


def relation_exists(cursor: Any, name: str) -> bool:
    """Return whether a table (or other relation) of that name exists."""
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [quote_relation(name)])
    return bool(cursor.fetchone()[0])


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
        [quote_relation(name)],
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
        [quote_relation(table)],
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
