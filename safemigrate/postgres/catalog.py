"""Catalog probes for the safe operations and the doctor: what a half-done operation left.

Each function takes a DB-API cursor and runs one parametrised query; none of them writes.
A table is named as Django's ``db_table`` writes it (``postgres.tables``: quoted here before it
reaches ``to_regclass()``); an index, a constraint or a column by its plain name, compared as
a value, so no name is ever folded to lower case or parsed as SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safemigrate.postgres.tables import qualified_name, quote_relation, split_relation

#: Check constraints safemigrate adds while it makes a column NOT NULL start with this.
NOT_NULL_CHECK_PREFIX = "sm_nn_"


def index_validity(cursor: Any, table: str, name: str) -> bool | None:
    """Return whether ``table``'s index ``name`` is valid, or ``None`` if it has none so named.

    A crashed or cancelled ``CREATE INDEX CONCURRENTLY`` leaves an INVALID index behind: it
    slows every write and serves no read, and a plain retry fails because the name is taken.
    """
    cursor.execute(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) AND c.relname = %s",
        [quote_relation(table), name],
    )
    row = cursor.fetchone()
    return None if row is None else bool(row[0])


def constraint_validity(cursor: Any, table: str, name: str) -> bool | None:
    """Return whether a table's constraint is validated, or ``None`` if it does not exist."""
    cursor.execute(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        [quote_relation(table), name],
    )
    row = cursor.fetchone()
    return None if row is None else bool(row[0])


def column_info(cursor: Any, table: str, column: str) -> tuple[bool, bool] | None:
    """Return ``(nullable, has_default)`` of a column, or ``None`` if it does not exist."""
    cursor.execute(
        """
        SELECT NOT attnotnull, atthasdef FROM pg_attribute
        WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped
        """,
        [quote_relation(table), column],
    )
    row = cursor.fetchone()
    return None if row is None else (bool(row[0]), bool(row[1]))


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
    """Return the direct partitions of a partitioned table, oldest first: qualified with their
    schema when the parent's name is, or when they live in another schema than the parent."""
    cursor.execute(
        """
        SELECT c.relname, n.nspname, c.relnamespace = p.relnamespace
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class p ON p.oid = i.inhparent
        WHERE i.inhparent = to_regclass(%s) ORDER BY c.oid
        """,
        [quote_relation(table)],
    )
    qualified = bool(split_relation(table)[0])
    return [
        qualified_name(str(name), str(schema) if qualified or not same else "")
        for name, schema, same in cursor.fetchall()
    ]


def index_attached(cursor: Any, parent_index: str, child_index: str) -> bool:
    """Return whether a partition's index is already attached to the parent's index (both
    named as relations: qualified when their table is, ``postgres.tables.sibling``)."""
    cursor.execute(
        """
        SELECT EXISTS (
            SELECT 1 FROM pg_inherits
            WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)
        )
        """,
        [quote_relation(parent_index), quote_relation(child_index)],
    )
    return bool(cursor.fetchone()[0])


def partition_state(cursor: Any, parent: str, partition: str) -> str | None:
    """Return ``attached``, ``detach pending`` (a cancelled DETACH ... CONCURRENTLY) or None."""
    cursor.execute(
        """
        SELECT CASE WHEN inhdetachpending THEN 'detach pending' ELSE 'attached' END
        FROM pg_inherits WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)
        """,
        [quote_relation(parent), quote_relation(partition)],
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
    """Something a half-done operation left in the catalog: an index or a constraint.

    ``table`` (and an index's ``name``) are relations as ``postgres.tables`` names them:
    qualified with their schema when the search path would not find them unqualified.
    """

    kind: str  # "invalid index", "not valid constraint", "not-null check"
    table: str
    name: str
    definition: str


def _schema_shown(relation: str) -> str:
    """SQL for the schema a relation is named with: none when the search path finds it."""
    return f"CASE WHEN pg_table_is_visible({relation}.oid) THEN '' ELSE n.nspname END"


#: Every schema but PostgreSQL's own (no user schema may start with ``pg_``).
_USER_SCHEMA = r"n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%%'"


def invalid_indexes(cursor: Any) -> list[Leftover]:
    """Return INVALID indexes outside the system schemas (excluding partitioned parents'
    indexes, which stay invalid until every partition's index is attached)."""
    cursor.execute(
        f"""
        SELECT {_schema_shown("t")}, t.relname, {_schema_shown("c")}, c.relname,
            pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND c.relkind = 'i' AND {_USER_SCHEMA}
        ORDER BY n.nspname, t.relname, c.relname
        """,
        [],
    )
    return [
        Leftover("invalid index", qualified_name(table, ts), qualified_name(index, xs), definition)
        for ts, table, xs, index, definition in cursor.fetchall()
    ]


def _constraints(cursor: Any, kind: str, where: str, params: list[Any]) -> list[Leftover]:
    cursor.execute(
        f"""
        SELECT {_schema_shown("t")}, t.relname, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE {where} AND {_USER_SCHEMA}
        ORDER BY n.nspname, t.relname, c.conname
        """,
        params,
    )
    return [
        Leftover(kind, qualified_name(table, schema), name, definition)
        for schema, table, name, definition in cursor.fetchall()
    ]


def unvalidated_constraints(cursor: Any) -> list[Leftover]:
    """Return NOT VALID check and foreign key constraints, safemigrate's helpers included."""
    return _constraints(cursor, "not valid constraint", "NOT c.convalidated", [])


def not_null_checks(cursor: Any) -> list[Leftover]:
    """Return safemigrate's helper NOT NULL check constraints still in place."""
    return _constraints(
        cursor,
        "not-null check",
        "c.contype = 'c' AND c.conname LIKE %s",
        [NOT_NULL_CHECK_PREFIX.replace("_", r"\_") + "%"],
    )
