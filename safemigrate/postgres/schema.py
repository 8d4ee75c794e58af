"""A database's schema as comparable data, and the differences between two of them.

A snapshot holds, per table of the user's schemas: its columns (type, nullability, default),
indexes (definition, validity), constraints (definition, validated), and triggers
(definition, enabled state). Two snapshots taken of the same plan applied twice must be
equal: a migration whose second run leaves something else is not what was reviewed.

PostgreSQL 18 lists NOT NULL constraints in ``pg_constraint`` (``contype = 'n'``) under
names that depend on how the column got its NOT NULL; nullability is already in the columns,
so those rows are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Snapshot = dict[str, dict[str, dict[str, Any]]]

_USER_RELATIONS = (
    "c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND NOT starts_with(n.nspname, 'pg_toast') AND NOT starts_with(n.nspname, 'pg_temp')"
)

_QUERIES = {
    "columns": f"""
        SELECT format('%I.%I', n.nspname, c.relname), a.attname,
               format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull
               THEN ' NOT NULL' ELSE '' END || coalesce(' DEFAULT ' ||
               pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE {_USER_RELATIONS} AND a.attnum > 0 AND NOT a.attisdropped""",
    "indexes": f"""
        SELECT format('%I.%I', n.nspname, c.relname), i.relname,
               pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END
        FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER_RELATIONS}""",
    "constraints": f"""
        SELECT format('%I.%I', n.nspname, c.relname), k.conname,
               pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN ''
               ELSE ' (not validated)' END
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_USER_RELATIONS} AND k.contype <> 'n'""",
    "triggers": f"""
        SELECT format('%I.%I', n.nspname, c.relname), t.tgname,
               pg_get_triggerdef(t.oid) || ' [' || t.tgenabled::text || ']'
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_USER_RELATIONS} AND NOT t.tgisinternal""",
}
_SINGULAR = {
    "columns": "column",
    "indexes": "index",
    "constraints": "constraint",
    "triggers": "trigger",
}


def snapshot(cursor: Any) -> Snapshot:
    """Read the schema of every table in the user's schemas through ``cursor``."""
    tables: Snapshot = {}
    for kind, query in _QUERIES.items():
        cursor.execute(query)
        for table, name, definition in cursor.fetchall():
            parts = tables.setdefault(table, {part: {} for part in _QUERIES})
            parts[kind][name] = definition
    return tables


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """Describe, one line each, what differs from ``before`` in ``after``."""
    return list(_differences(before, after))


def _differences(before: Snapshot, after: Snapshot) -> Iterator[str]:
    for table in sorted(before.keys() - after.keys()):
        yield f"table {table} is missing"
    for table in sorted(after.keys() - before.keys()):
        yield f"table {table} is new"
    for table in sorted(before.keys() & after.keys()):
        for kind in _QUERIES:
            old, new = before[table][kind], after[table][kind]
            singular = _SINGULAR[kind]
            for name in sorted(old.keys() | new.keys()):
                if name not in new:
                    yield f"{table}: {singular} {name} is missing ({old[name]})"
                elif name not in old:
                    yield f"{table}: {singular} {name} is new ({new[name]})"
                elif old[name] != new[name]:
                    yield f"{table}: {singular} {name} was {old[name]}, is {new[name]}"
