"""Ground truth: run statements on a scratch database and record what they really did.

Each statement runs in its own transaction; before it commits, ``pg_locks`` shows every
table lock it took, and comparing ``pg_class.relfilenode`` before and after tells whether
it rewrote a table (a rewrite writes a new file). Statements that refuse a transaction
(``CONCURRENTLY``, ``VACUUM``) run on their own and their locks are not observed.

Where the static catalogue and the trace disagree, the trace wins: ``tests/analysis/test_trace.py``
runs the whole corpus both ways and fails on any difference.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.statements import classify

_TABLES = """
    SELECT c.oid, c.relname, c.relfilenode FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
"""
# By oid: a table the statement drops or renames is still locked under its old oid.
_LOCKS = """
    SELECT l.relation, l.mode FROM pg_locks l
    WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
"""


@dataclass
class TracedStatement:
    """What one statement did on the scratch database."""

    sql: str
    locks: dict[str, LockMode] = field(default_factory=dict)
    rewritten: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    observed: bool = True
    error: str = ""


def _tables(cursor: Any) -> dict[int, tuple[str, int]]:
    """Return each table of the current schema: oid -> (name, relfilenode)."""
    cursor.execute(_TABLES)
    return {int(oid): (str(name), int(node)) for oid, name, node in cursor.fetchall()}


def _files(cursor: Any) -> dict[str, int]:
    return dict(_tables(cursor).values())


def _held(cursor: Any, names: dict[int, str]) -> dict[str, LockMode]:
    """Return the strongest lock held on each table named in ``names`` (by oid)."""
    cursor.execute(_LOCKS)
    held: dict[str, LockMode] = {}
    for oid, pg_mode in cursor.fetchall():
        mode = LockMode.from_pg_name(pg_mode)
        name = names.get(int(oid))
        if mode is not None and name is not None:
            held[name] = max(held.get(name, mode), mode)
    return held


def trace_statement(connection: Any, sql: str) -> TracedStatement:
    """Run ``sql`` on an autocommit DB-API ``connection`` and record its locks and rewrites."""
    traced = TracedStatement(sql)
    in_transaction = not any(
        info.concurrently or info.kind == "VacuumStmt" for info in classify(sql)
    )
    with connection.cursor() as cursor:
        tables = _tables(cursor)
        try:
            if in_transaction:
                cursor.execute("BEGIN")
            cursor.execute(sql)
            names = {oid: name for oid, (name, _) in tables.items()}
            traced.locks = _held(cursor, names) if in_transaction else {}
            traced.observed = in_transaction
            if in_transaction:
                cursor.execute("COMMIT")
        except Exception as error:  # the trace records failures; it never raises them
            traced.error = str(error).strip().splitlines()[0]
            if in_transaction:
                cursor.execute("ROLLBACK")
            return traced
        after = _tables(cursor)
    traced.created = {name for oid, (name, _) in after.items() if oid not in tables}
    traced.rewritten = {
        name for oid, (name, node) in tables.items() if oid in after and after[oid][1] != node
    }
    for table in traced.created:
        traced.locks.pop(table, None)
    return traced


_SEED_VALUES = {
    "smallint": "{i}",
    "integer": "{i}",
    "bigint": "{i}",
    "numeric": "{i}",
    "boolean": "false",
    "uuid": "gen_random_uuid()",
    "json": "'{{}}'",
    "jsonb": "'{{}}'",
    "date": "current_date",
    "timestamp with time zone": "now()",
    "timestamp without time zone": "now()",
}


def seed(connection: Any, rows: int = 3, tables: Collection[str] | None = None) -> dict[str, int]:
    """Insert a few rows into every table, foreign keys unchecked; return rows per table.

    Rows matter to the trace: ``ADD COLUMN ... NOT NULL`` fails only on a non-empty table,
    and a validation scan must have something to scan. Values are dummies of each column's
    type; foreign key triggers are off (``session_replication_role = replica``).
    """
    seeded: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in _files(cursor):
            if tables is not None and table not in tables:
                continue
            seeded[table] = sum(_seed_row(cursor, table, i) for i in range(1, rows + 1))
        cursor.execute("COMMIT")
    return seeded


def _seed_row(cursor: Any, table: str, i: int) -> bool:
    cursor.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = %s
          AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER'
        ORDER BY ordinal_position
        """,
        [table],
    )
    columns = cursor.fetchall()
    names = ", ".join(f'"{name}"' for name, _ in columns)
    values = ", ".join(_SEED_VALUES.get(kind, "'x{i}'").format(i=i) for _, kind in columns)
    sql = (
        f'INSERT INTO "{table}" ({names}) VALUES ({values})'
        if columns
        else (f'INSERT INTO "{table}" DEFAULT VALUES')
    )
    try:
        cursor.execute("SAVEPOINT seed")
        cursor.execute(sql)
        cursor.execute("RELEASE SAVEPOINT seed")
    except Exception:  # a CHECK constraint or a type without a dummy: fewer rows, no harm
        cursor.execute("ROLLBACK TO SAVEPOINT seed")
        return False
    return True
