"""Fixtures shared by safemigrate's tests; the database comes from tests/settings.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

# The test kit's own tests run pytest in pytest.
pytest_plugins = ["pytester"]


@dataclass
class Output:
    out: str
    err: str


def run_safemigrate(*args: str, **options: Any) -> Output:
    """Call ``manage.py safemigrate`` in-process and return what it printed."""
    out, err = StringIO(), StringIO()
    call_command("safemigrate", *args, stdout=out, stderr=err, no_color=True, **options)
    return Output(out.getvalue(), err.getvalue())


class Blocker:
    """A second session holding locks in an open transaction, like a forgotten psql prompt."""

    def __init__(self, database: str | None = None) -> None:
        params = connection.get_connection_params()
        self.conn = connection.get_new_connection(
            {**params, "dbname": database} if database else params
        )
        self.conn.autocommit = False
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid: int = cursor.fetchone()[0]
        self._timer: threading.Timer | None = None

    def hold(self, sql: str) -> Blocker:
        """Run ``sql`` in the open transaction, e.g. ``SELECT * FROM t`` or ``LOCK TABLE t``."""
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
        return self

    def release_after(self, seconds: float) -> Blocker:
        self._timer = threading.Timer(seconds, self.release)
        self._timer.start()
        return self

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
        if not self.conn.closed:
            self.conn.close()


@pytest.fixture
def blocker(transactional_db: None) -> Iterator[Blocker]:
    session = Blocker()
    yield session
    session.close()


@pytest.fixture
def scenario(settings: Any, transactional_db: None) -> Iterator[Any]:
    """Point the ``scenarioapp`` app at ``tests/scenarios/<name>``; drop what it made after."""

    def use(name: str) -> None:
        settings.MIGRATION_MODULES = {
            **settings.MIGRATION_MODULES,
            "scenarioapp": f"tests.scenarios.{name}",
        }

    yield use
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'scenarioapp%%'")
        for (table,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
        # A dropped table takes its triggers along, not their functions.
        cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE 'sm\\_sync\\_%%'")
        for (function,) in cursor.fetchall():
            cursor.execute(f"DROP FUNCTION IF EXISTS {connection.ops.quote_name(function)}()")
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["scenarioapp"])


def columns(table: str) -> set[str]:
    """Return the column names of ``table`` as the catalog has them."""
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}
