"""What depends on one column: its type and default, and the indexes, constraints, sequences
and foreign keys that a column replacing it must carry too.

Each function takes a DB-API cursor and runs parametrised queries; none of them writes. A
table is named as Django's ``db_table`` writes it (quoted here for ``to_regclass()``); a
column, an index or a constraint by its plain name, compared as a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safemigrate.postgres.catalog import NOT_NULL_CHECK_PREFIX
from safemigrate.postgres.tables import quote_relation


@dataclass(frozen=True)
class ColumnFacts:
    """A column as the catalog has it."""

    type: str
    not_null: bool
    default: str | None
    #: ``a`` (GENERATED ALWAYS AS IDENTITY), ``d`` (BY DEFAULT) or ``""``.
    identity: str
    #: The sequence a ``serial`` default or an identity draws from (in the table's schema).
    sequence: str | None


def column_facts(cursor: Any, table: str, column: str) -> ColumnFacts | None:
    """Return the column's type, nullability, default and sequence; ``None`` if it is absent."""
    cursor.execute(
        """
        SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
               (SELECT s.relname FROM pg_class s
                WHERE s.oid = to_regclass(pg_get_serial_sequence(%s, a.attname)))
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND NOT a.attisdropped
        """,
        [quote_relation(table), quote_relation(table), column],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    kind, not_null, default, identity, sequence = row
    return ColumnFacts(str(kind), bool(not_null), default, str(identity or ""), sequence)


@dataclass(frozen=True)
class Dependent:
    """An index or a constraint of the table that involves the column.

    ``kind`` is ``index`` for an index no constraint owns, else the constraint's type:
    ``c`` check, ``f`` foreign key, ``u`` unique, ``p`` primary key, ``x`` exclusion.
    ``index_definition`` is the definition of a unique, primary key or exclusion
    constraint's index.
    """

    kind: str
    name: str
    definition: str
    index_definition: str = ""
    deferrable: bool = False
    deferred: bool = False

    @property
    def is_index(self) -> bool:
        return self.kind == "index"


def dependents(cursor: Any, table: str, column: str | None = None) -> list[Dependent]:
    """Return the constraints and the indexes of ``table`` that involve ``column`` (all of
    them when ``None``). safemigrate's own NOT NULL helper checks are left out: they are
    steps, not schema."""
    regclass, helpers = quote_relation(table), NOT_NULL_CHECK_PREFIX.replace("_", r"\_") + "%"
    cursor.execute(
        """
        SELECT c.contype::text, c.conname, pg_get_constraintdef(c.oid),
               coalesce(pg_get_indexdef(c.conindid), ''), c.condeferrable, c.condeferred
        FROM pg_constraint c
        WHERE c.conrelid = to_regclass(%s) AND c.conname NOT LIKE %s AND (%s::text IS NULL
            OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid
                       AND a.attname = %s AND a.attnum = ANY(c.conkey)))
        ORDER BY c.conname
        """,
        [regclass, helpers, column, column],
    )
    found = [
        Dependent(str(kind), str(name), str(definition), str(index), bool(able), bool(deferred))
        for kind, name, definition, index, able, deferred in cursor.fetchall()
    ]
    # An index depends on each column it names, in its keys, expressions or predicate.
    cursor.execute(
        """
        SELECT DISTINCT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = to_regclass(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid
                          AND c.conrelid = x.indrelid)
          AND (%s::text IS NULL OR EXISTS (
            SELECT 1 FROM pg_depend d JOIN pg_attribute a
                ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = i.oid
              AND d.refobjid = x.indrelid AND a.attname = %s))
        ORDER BY i.relname
        """,
        [regclass, column, column],
    )
    return found + [Dependent("index", str(name), str(sql)) for name, sql in cursor.fetchall()]


def references_to(cursor: Any, table: str, column: str) -> list[str]:
    """Return the foreign keys of any table that point at ``column``, as ``table.name``."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text || '.' || c.conname
        FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.confrelid
        WHERE c.contype = 'f' AND c.confrelid = to_regclass(%s) AND a.attname = %s
          AND a.attnum = ANY(c.confkey)
        ORDER BY 1
        """,
        [quote_relation(table), column],
    )
    return [str(name) for (name,) in cursor.fetchall()]


def trigger_exists(cursor: Any, table: str, name: str) -> bool:
    """Return whether ``table`` has a trigger called ``name``."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s)",
        [quote_relation(table), name],
    )
    return bool(cursor.fetchone()[0])


def triggers_like(cursor: Any, pattern: str) -> list[tuple[str, str]]:
    """Return ``(table, trigger)`` of every trigger whose name is ``LIKE pattern``."""
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname LIKE %s "
        "AND NOT tgisinternal ORDER BY 1, 2",
        [pattern],
    )
    return [(str(table), str(name)) for table, name in cursor.fetchall()]


def columns_like(cursor: Any, pattern: str) -> list[tuple[str, str]]:
    """Return ``(table, column)`` of every user table's column whose name is ``LIKE pattern``."""
    cursor.execute(
        """
        SELECT a.attrelid::regclass::text, a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attname LIKE %s AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r'
          AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%'
        ORDER BY 1, 2
        """,
        [pattern],
    )
    return [(str(table), str(column)) for table, column in cursor.fetchall()]


def table_columns(cursor: Any, table: str) -> list[tuple[str, str]]:
    """Return the table's columns a row can be written to, as ``(name, type)``, in order
    (generated columns are computed, never written)."""
    cursor.execute(
        """
        SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
        WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped
          AND attgenerated = ''
        ORDER BY attnum
        """,
        [quote_relation(table)],
    )
    return [(str(name), str(kind)) for name, kind in cursor.fetchall()]


def references_to_table(cursor: Any, table: str) -> list[tuple[str, str, str]]:
    """Return the foreign keys of other tables pointing at ``table``: ``(table, name,
    definition)``, the table named as ``regclass::text`` names it."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype = 'f' AND confrelid = to_regclass(%s) AND conrelid <> confrelid
        ORDER BY 1, 2
        """,
        [quote_relation(table)],
    )
    return [(str(t), str(n), str(d)) for t, n, d in cursor.fetchall()]
