"""Shared helpers of the backup and rollback tests: the data as a user would compare it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.db import connection
from psycopg import sql

from safemigrate.postgres.dump import Tools, find_tools, server_bindir, server_major
from safemigrate.postgres.tables import quote_relation

CUSTOMERS = "scenarioapp_customer"
ORDERS = "scenarioapp_order"


def seed(customers: int = 500, orders: int = 2000) -> None:
    """Customers with names and emails, and their orders with totals and notes."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CUSTOMERS} (name, email) SELECT 'Customer ' || g, "
            "'c' || g || '@example.com' FROM generate_series(1, %s) g",
            [customers],
        )
        cursor.execute(
            f"INSERT INTO {ORDERS} (customer_id, total, note) SELECT 1 + g %% %s, g / 7.0, "
            "CASE WHEN g %% 3 = 0 THEN 'note ' || g END FROM generate_series(1, %s) g",
            [customers, orders],
        )


def checksums(*tables: str, dbname: str | None = None) -> dict[str, tuple[int, str]]:
    """Each table's row count and an md5 of its rows in a fixed order: equal means identical."""
    found = {}
    with cursor_on(dbname) as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f"FROM {quote_relation(table)} t"
            )
            count, digest = cursor.fetchone()
            found[table] = (int(count), str(digest))
    return found


def schema(*tables: str, dbname: str | None = None) -> list[tuple[str, ...]]:
    """Every column of the tables with its type and nullability, and every constraint."""
    with cursor_on(dbname) as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM "
            "information_schema.columns WHERE table_name = ANY(%s) ORDER BY 1, 2",
            [list(tables)],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM "
            "pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [list(tables)],
        )
        return [*columns, *cursor.fetchall()]


def applied(app: str = "scenarioapp") -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = %s ORDER BY name", [app])
        return [row[0] for row in cursor.fetchall()]


def server_tools() -> Tools:
    """The pg_dump and pg_restore safemigrate picks for the test server."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        bindir = server_bindir(cursor)
    return find_tools(server_major(connection), configured=None, bindir=bindir, setting="X")


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@contextmanager
def cursor_on(dbname: str | None = None) -> Iterator[Any]:
    """A cursor on the test database, or on another database of the same server."""
    if dbname is None:
        with connection.cursor() as cursor:
            yield cursor
        return
    params = {**connection.get_connection_params(), "dbname": dbname}
    with psycopg.connect(**params, autocommit=True) as conn:
        yield conn.cursor()


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A new, empty database of the test server's, dropped afterwards."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with cursor_on("postgres") as cursor:
        cursor.execute(drop)
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with cursor_on("postgres") as cursor:
            cursor.execute(drop)
