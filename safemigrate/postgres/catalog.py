"""Catalog probes for the safe operations and the doctor: what a half-done operation left.

Each function takes a DB-API cursor and runs one parametrised query; none of them writes.
Names are unquoted identifiers as Django generates them, looked up on the search path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Check constraints safemigrate adds while it makes a column NOT NULL start with this.
NOT_NULL_CHECK_PREFIX = "sm_nn_"


def index_validity(cursor: Any, name: str) -> bool | None:
    """Return whether an index is valid, or ``None`` if there is no index of that name.

    A crashed or cancelled ``CREATE INDEX CONCURRENTLY`` leaves an INVALID index behind: it
    slows every write and serves no read, and a plain retry fails because the name is taken.
    """
    cursor.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [name],
    )
    row = cursor.fetchone()
    return None if row is None else bool(row[0])


def constraint_validity(cursor: Any, table: str, name: str) -> bool | None:
    """Return whether a table's constraint is validated, or ``None`` if it does not exist."""
    cursor.execute(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        [table, name],
    )
    row = cursor.fetchone()
    return None if row is None else bool(row[0])


def column_info(cursor: Any, table: str, column: str) -> tuple[bool, bool] | None:
    """Return ``(nullable, has_default)`` of a column, or ``None`` if it does not exist.

    ``nullable`` is whether new rows may hold NULL: false under a ``NOT VALID`` NOT NULL too
    (PostgreSQL 18), which ``unvalidated_not_null`` tells apart.
    """
    cursor.execute(
        """
        SELECT NOT attnotnull, atthasdef FROM pg_attribute
        WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped
        """,
        [table, column],
    )
    row = cursor.fetchone()
    return None if row is None else (bool(row[0]), bool(row[1]))


def unvalidated_not_null(cursor: Any, table: str, column: str) -> str | None:
    """Return the name of the column's ``NOT NULL`` constraint if it is ``NOT VALID``.

    PostgreSQL 18 records each NOT NULL as a constraint (``contype = 'n'``) and can add one
    ``NOT VALID``: new rows are checked, old ones may still hold NULL, yet ``attnotnull`` is
    already true. Older servers have no such rows, so the answer there is always ``None``.
    """
    cursor.execute(
        """
        SELECT c.conname FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
        WHERE c.conrelid = to_regclass(%s) AND a.attname = %s
          AND c.contype = 'n' AND NOT c.convalidated
        """,
        [table, column],
    )
    row = cursor.fetchone()
    return None if row is None else str(row[0])


def any_volatile(cursor: Any, functions: list[str]) -> bool:
    """Return whether any function of these names is volatile (``now()`` is not; random() is).

    ``ADD COLUMN ... DEFAULT`` with a volatile default rewrites the whole table under an
    ACCESS EXCLUSIVE lock; any other default is stored once in the catalog (PostgreSQL >= 11).
    """
    if not functions:
        return False
    cursor.execute(
        "SELECT coalesce(bool_or(provolatile = 'v'), false) FROM pg_proc WHERE proname = ANY(%s)",
        [[name.lower() for name in functions]],
    )
    return bool(cursor.fetchone()[0])


def partitions_of(cursor: Any, table: str) -> list[str]:
    """Return the direct partitions of a partitioned table, oldest first."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass(%s) ORDER BY c.oid
        """,
        [table],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def index_attached(cursor: Any, parent_index: str, child_index: str) -> bool:
    """Return whether a partition's index is already attached to the parent's index."""
    cursor.execute(
        """
        SELECT EXISTS (
            SELECT 1 FROM pg_inherits
            WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)
        )
        """,
        [parent_index, child_index],
    )
    return bool(cursor.fetchone()[0])


def partition_state(cursor: Any, parent: str, partition: str) -> str | None:
    """Return ``attached``, ``detach pending`` (a cancelled DETACH ... CONCURRENTLY) or None."""
    cursor.execute(
        """
        SELECT CASE WHEN inhdetachpending THEN 'detach pending' ELSE 'attached' END
        FROM pg_inherits WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)
        """,
        [parent, partition],
    )
    row = cursor.fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class IndexProgress:
    """One reading of ``pg_stat_progress_create_index`` for a build in progress."""

    phase: str
    blocks_done: int
    blocks_total: int
    tuples_done: int
    tuples_total: int

    @property
    def percent(self) -> float | None:
        """The share of the current phase done, by blocks or else by tuples."""
        if self.blocks_total:
            return 100.0 * self.blocks_done / self.blocks_total
        if self.tuples_total:
            return 100.0 * self.tuples_done / self.tuples_total
        return None

    def describe(self) -> str:
        share = f" {self.percent:.0f}%" if self.percent is not None else ""
        return f"{self.phase}{share}"


def index_progress(cursor: Any, pid: int) -> IndexProgress | None:
    """Return the progress of the index build that session ``pid`` runs, if it runs one."""
    cursor.execute(
        """
        SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
        FROM pg_stat_progress_create_index WHERE pid = %s
        """,
        [pid],
    )
    row = cursor.fetchone()
    return None if row is None else IndexProgress(str(row[0]), *(int(v or 0) for v in row[1:]))


@dataclass(frozen=True)
class Leftover:
    """Something a half-done operation left in the catalog: an index or a constraint."""

    kind: str  # "invalid index", "not valid constraint", "not-null check"
    table: str
    name: str
    definition: str


def invalid_indexes(cursor: Any) -> list[Leftover]:
    """Return INVALID indexes outside the system schemas (excluding partitioned parents'
    indexes, which stay invalid until every partition's index is attached)."""
    cursor.execute(
        """
        SELECT t.relname, c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND c.relkind = 'i'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname = ANY(current_schemas(false))
        ORDER BY t.relname, c.relname
        """
    )
    return [Leftover("invalid index", *row) for row in cursor.fetchall()]


def unvalidated_constraints(cursor: Any) -> list[Leftover]:
    """Return NOT VALID check and foreign key constraints, safemigrate's helpers included."""
    cursor.execute(
        """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE NOT c.convalidated AND n.nspname = ANY(current_schemas(false))
        ORDER BY t.relname, c.conname
        """
    )
    return [Leftover("not valid constraint", *row) for row in cursor.fetchall()]


def not_null_checks(cursor: Any) -> list[Leftover]:
    """Return safemigrate's helper NOT NULL check constraints still in place."""
    cursor.execute(
        """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE c.contype = 'c' AND c.conname LIKE %s AND n.nspname = ANY(current_schemas(false))
        ORDER BY t.relname, c.conname
        """,
        [NOT_NULL_CHECK_PREFIX.replace("_", r"\_") + "%"],
    )
    return [Leftover("not-null check", *row) for row in cursor.fetchall()]
