"""Read the catalog the way the tests compare schemas: columns, indexes, constraints."""

from __future__ import annotations

from typing import Any

from django.db import connection


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def columns(table: str) -> dict[str, tuple[str, bool, str | None]]:
    """Return column name -> (type, nullable, default)."""
    rows = _rows(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
        """,
        [table],
    )
    return {name: (kind, nullable, default) for name, kind, nullable, default in rows}


def indexes(table: str) -> dict[str, tuple[str, bool]]:
    """Return index name -> (definition, valid)."""
    rows = _rows(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = to_regclass(%s)
        """,
        [table],
    )
    return {name: (definition, valid) for name, definition, valid in rows}


def constraints(table: str, *, not_null: bool = False) -> dict[str, tuple[str, bool]]:
    """Return constraint name -> (definition, validated); NOT NULL ones only if ``not_null``.

    PostgreSQL 18 records each NOT NULL as a constraint named after the column's name when it
    was made (a renamed column keeps ``<table>_<old name>_not_null``, under plain ``migrate``
    too), so their names tell history, not schema; ``columns()`` holds the nullability.
    """
    rows = _rows(
        """
        SELECT conname, pg_get_constraintdef(oid), convalidated
        FROM pg_constraint WHERE conrelid = to_regclass(%s) AND (contype <> 'n' OR %s)
        """,
        [table, not_null],
    )
    return {name: (definition, valid) for name, definition, valid in rows}


def generated(table: str) -> dict[str, tuple[str, str | None, tuple[Any, ...] | None]]:
    """Return column -> (identity kind, its sequence's name, the sequence's type and limits),
    for the columns with an identity or an owned (serial) sequence."""
    rows = _rows(
        """
        SELECT a.attname, a.attidentity::text, s.relname,
               q.seqtypid::regtype::text, q.seqstart, q.seqincrement, q.seqmax, q.seqmin,
               q.seqcache, q.seqcycle
        FROM pg_attribute a
        JOIN pg_class s ON s.oid = to_regclass(pg_get_serial_sequence(%s, a.attname))
        JOIN pg_sequence q ON q.seqrelid = s.oid
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
        """,
        [table, table],
    )
    return {row[0]: (row[1], row[2], tuple(row[3:])) for row in rows}


def triggers(table: str) -> list[str]:
    """Return the names of the table's own triggers."""
    rows = _rows(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal",
        [table],
    )
    return sorted(name for (name,) in rows)


def schema(tables: list[str]) -> dict[str, Any]:
    """Return everything the tests compare about ``tables``."""
    return {
        table: {
            "columns": columns(table),
            "indexes": indexes(table),
            "constraints": constraints(table),
            "generated": generated(table),
            "triggers": triggers(table),
        }
        for table in tables
    }
