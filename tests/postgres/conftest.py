"""Tables made with SQL for the probes to read, and second sessions that act on them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import connection

#: The table most probe tests read: an id, a nullable text and a NOT NULL integer.
PROBE_TABLE = "probe_item"


def execute(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on the test's own connection and return its rows, if any."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def server_version() -> int:
    """Return the server's version number (150020 for 15.20, 180006 for 18.6)."""
    return int(execute("SHOW server_version_num")[0][0])


@contextmanager
def session(autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
    """Open another session on the test database, as another client would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=autocommit) as other:
        yield other


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; generous, for a loaded machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the other session never got there"
        time.sleep(0.02)


def waiting_for_lock(pid: int) -> bool:
    return bool(execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [pid]))


class Background:
    """Run one statement in another session, on a thread, and keep its server pid."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.pid = 0
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Background:
        self._thread.start()
        assert self._started.wait(30), "the background session did not connect"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(60)
        assert not self._thread.is_alive(), f"{self.sql!r} is still running"

    def _run(self) -> None:
        with session() as other:
            self.pid = other.info.backend_pid
            self._started.set()
            try:
                other.execute(self.sql)
            except psycopg.Error as error:
                self.error = error


@pytest.fixture
def probe_table(transactional_db: None) -> Iterator[str]:
    """Create ``probe_item`` with 100 rows, committed so other sessions see it; drop it after."""
    execute(
        f"CREATE TABLE {PROBE_TABLE} (id bigint PRIMARY KEY, name text, "
        "qty integer NOT NULL DEFAULT 0)"
    )
    execute(f"INSERT INTO {PROBE_TABLE} SELECT g, 'item ' || g, g FROM generate_series(1, 100) g")
    yield PROBE_TABLE
    execute(f"DROP TABLE IF EXISTS {PROBE_TABLE} CASCADE")
