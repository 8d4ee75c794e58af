"""Lock behaviour under real concurrency: a second session keeps writing while operations run.

The writer's own ``lock_timeout`` is the measure: a write that waits for a lock longer than
the migration's lock timeout (plus a margin for the server's scheduling) fails, and the test
with it. Wall time is kept only to say which writes were slowest: in this process it also
counts waits for the interpreter's lock and for a busy machine, which are not lock waits.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.conftest import run_safemigrate
from tests.operations.test_operations import ITEM, populate

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 200_000
LOCK_TIMEOUT_MS = 200
#: Every attempt, retries included, waits at most this long: no escalation.
EVERY_ATTEMPT = {"lock_timeout": f"{LOCK_TIMEOUT_MS}ms", "lock_timeout_max": f"{LOCK_TIMEOUT_MS}ms"}
#: The longest a write may wait for a lock: the migration's timeout, and a margin.
WRITER_LOCK_TIMEOUT_MS = 2 * LOCK_TIMEOUT_MS


Statements = Callable[[int], list[tuple[str, list[Any]]]]


def item_writes(inserts: bool = True) -> Statements:
    """The ``n``-th round of writes on the item table: an insert (optional) and an update."""

    def writes(n: int) -> list[tuple[str, list[Any]]]:
        insert = (f"INSERT INTO {ITEM} (name, qty, note) VALUES (%s, 1, '')", [f"writer {n}"])
        update = (f"UPDATE {ITEM} SET qty = qty + 1 WHERE id = %s", [1 + n % ROWS])
        return [insert, update] if inserts else [update]

    return writes


class Writer(threading.Thread):
    """Send rounds of writes in a loop from a session of its own, timing every statement."""

    def __init__(self, statements: Statements) -> None:
        super().__init__(daemon=True)
        self.statements = statements
        self.conn: Any = connection.get_new_connection(connection.get_connection_params())
        self.conn.autocommit = True
        self.conn.execute(
            "SELECT set_config('lock_timeout', %s, false)", [f"{WRITER_LOCK_TIMEOUT_MS}ms"]
        )
        self.stop = threading.Event()
        self.durations_ms: list[float] = []
        self.during = ""
        self.slowest: list[tuple[float, str, str]] = []
        self.errors: list[str] = []

    def run(self) -> None:
        with self.conn.cursor() as cursor:
            for n in itertools.count():
                if self.stop.is_set():
                    break
                for sql, params in self.statements(n):
                    self._timed(cursor, sql, params)
        self.conn.close()

    def _timed(self, cursor: Any, sql: str, params: list[Any]) -> None:
        started = time.perf_counter()
        try:
            cursor.execute(sql, params)
        except Exception as error:
            self.errors.append(str(error))
        elapsed = (time.perf_counter() - started) * 1000
        self.durations_ms.append(elapsed)
        self.slowest = sorted([*self.slowest, (elapsed, self.during, sql[:30])])[-5:]


MIGRATIONS = [
    "0002_index",
    "0003_unique",
    "0004_check",
    "0005_not_null",
    "0006_fk",
    "0007_volatile_default",
]


def test_writes_are_never_blocked_longer_than_the_lock_timeout(scenario: Any) -> None:
    scenario("safeops")
    run_safemigrate("scenarioapp", "0001")
    populate(ROWS)
    writer = Writer(item_writes())
    writer.start()
    try:
        for name in MIGRATIONS:
            writer.during = name
            run_safemigrate("scenarioapp", name, **EVERY_ATTEMPT)
    finally:
        writer.stop.set()
        writer.join()

    assert writer.errors == [], writer.slowest
    assert len(writer.durations_ms) > 100


LATER = [
    "0008_static_default",
    "0009_db_default",
    "0010_remove_from_state",
    "0011_remove_from_database",
    "0012_drop_index",
]


def test_updates_are_never_blocked_longer_than_the_lock_timeout_later(scenario: Any) -> None:
    """The later operations change which columns an INSERT must name, so only update."""
    scenario("safeops")
    run_safemigrate("scenarioapp", "0001")
    populate(ROWS)
    run_safemigrate("scenarioapp", MIGRATIONS[-1])
    writer = Writer(item_writes(inserts=False))
    writer.start()
    try:
        for name in LATER:
            writer.during = name
            run_safemigrate("scenarioapp", name, **EVERY_ATTEMPT)
    finally:
        writer.stop.set()
        writer.join()

    assert writer.errors == [], writer.slowest
    assert len(writer.durations_ms) > 100
