"""Writers keep writing through every phase of a transition, and none of their writes is lost.

Each writer is a session of its own, as a process of the application is: it updates rows it
owns and inserts new ones, each write its own transaction, and remembers what it last wrote
to each row. Writers use the old column while the expand and its backfill run, both old and
new (a rolling deploy) after it, and the new one while the contract runs. At the end every
row holds the last value written to it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import connection

from tests.conftest import run_safemigrate
from tests.operations.expand_helpers import leftovers, query, seed

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 6000
#: Small batches with a pause: the backfill lasts long enough for the writers to meet it.
STEADY = {
    "BACKFILL_BATCH_SIZE": 100,
    "BACKFILL_MAX_BATCH_SIZE": 100,
    "BACKFILL_PAUSE": "2ms",
    "RETRY_BACKOFF": "20ms",
}
#: (UPDATE of one row, INSERT of a new row returning its id), by the code's view of the column.
Write = tuple[str, str]


class Writer(threading.Thread):
    """Update the rows it owns and insert rows, with the SQL of the code it runs now."""

    def __init__(self, number: int, owned: list[int], value: Callable[[int], Any]) -> None:
        super().__init__(daemon=True)
        self.number, self.owned, self.value = number, owned, value
        self.sql: Write = ("", "")
        self.expected: dict[int, Any] = {}
        self.errors: list[str] = []
        self.writes = 0
        self.slowest_ms = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as conn:
            for count, row in zip(itertools.count(), itertools.cycle(self.owned)):
                if self.stopping.is_set():
                    return
                self._write(conn, count, row)

    def _write(self, conn: Any, count: int, row: int) -> None:
        update, insert = self.sql
        value = self.value(self.number * 1_000_000 + count)
        started = time.perf_counter()
        try:
            if count % 10 == 9:
                new = conn.execute(insert, [value]).fetchone()[0]
                self.expected[new] = value
            else:
                conn.execute(update, [value, row])
                self.expected[row] = value
        except psycopg.Error as error:
            self.errors.append(str(error).splitlines()[0])
        self.writes += 1
        self.slowest_ms = max(self.slowest_ms, (time.perf_counter() - started) * 1000)


@contextmanager
def writers(value: Callable[[int], Any], sql: Write, count: int = 4) -> Iterator[list[Writer]]:
    """``count`` writers over disjoint rows, writing with ``sql`` until the block ends."""
    ids = [row for (row,) in query("SELECT id FROM scenarioapp_item ORDER BY id")]
    started = [Writer(n, ids[n::count][:500], value) for n in range(count)]
    for writer in started:
        writer.sql = sql
        writer.start()
    try:
        yield started
    finally:
        for writer in started:
            writer.stopping.set()
        for writer in started:
            writer.join(timeout=30)
    assert [error for writer in started for error in writer.errors] == []
    assert all(writer.writes > 20 for writer in started)


def during(started: list[Writer], *args: str) -> None:
    """Run ``safemigrate ARGS`` while the writers write, and check that they did meanwhile
    (and were never held up for long: the swap's lock lasts a moment)."""
    before = sum(writer.writes for writer in started)
    run_safemigrate(*args)
    assert sum(writer.writes for writer in started) > before + 10, "no write met the migration"
    assert max(writer.slowest_ms for writer in started) < 5000


def expected(started: list[Writer]) -> dict[int, Any]:
    return {row: value for writer in started for row, value in writer.expected.items()}


def switch(started: list[Writer], sql: Write, share: float = 1.0) -> None:
    """Deploy code that writes with ``sql`` to a share of the writers."""
    for writer in started[: round(len(started) * share)]:
        writer.sql = sql


def let_them_write(started: list[Writer], writes: int = 30) -> None:
    marks = [writer.writes for writer in started]
    deadline = time.monotonic() + 30
    while any(w.writes < m + writes for w, m in zip(started, marks, strict=True)):
        assert time.monotonic() < deadline, "the writers stopped writing"
        time.sleep(0.02)


def email(number: int) -> str:
    return f"w{number}@x.test"


OLD_EMAIL = (
    "UPDATE scenarioapp_item SET email = %s WHERE id = %s",
    "INSERT INTO scenarioapp_item (email, qty, price, author_id) VALUES (%s, 1, 1, 1) RETURNING id",
)
NEW_EMAIL = (
    "UPDATE scenarioapp_item SET email_address = %s WHERE id = %s",
    "INSERT INTO scenarioapp_item (email_address, qty, price, author_id) VALUES (%s, 1, 1, 1) "
    "RETURNING id",
)


def test_rename_loses_no_write_from_old_or_new_code(scenario: Any, settings: Any) -> None:
    settings.SAFEMIGRATE = STEADY
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    seed(ROWS)

    with writers(email, OLD_EMAIL) as started:
        during(started, "scenarioapp", "0002")  # the expand and its backfill, under old code
        switch(started, NEW_EMAIL, share=0.5)  # a rolling deploy: both codes write
        let_them_write(started)
        switch(started, NEW_EMAIL)
        let_them_write(started)
        during(started, "scenarioapp", "0003")  # the contract, under new code only
        let_them_write(started)

    values = dict(query("SELECT id, email_address FROM scenarioapp_item"))
    wanted = {row: f"e{row}@x.test" for row in range(1, ROWS + 1)} | expected(started)
    assert values == wanted
    assert leftovers() == []


def cents(number: int) -> int:
    return number % 100_000 + 1


OLD_PRICE = (
    "UPDATE scenarioapp_item SET price = %s / 100.0 WHERE id = %s",
    "INSERT INTO scenarioapp_item (email_address, qty, price, author_id) "
    "VALUES (gen_random_uuid()::text, 1, %s / 100.0, 1) RETURNING id",
)
NEW_PRICE = (
    "UPDATE scenarioapp_item SET price_cents = %s WHERE id = %s",
    "INSERT INTO scenarioapp_item (email_address, qty, price_cents, author_id) "
    "VALUES (gen_random_uuid()::text, 1, %s, 1) RETURNING id",
)


def test_a_new_column_of_another_type_loses_no_write(scenario: Any, settings: Any) -> None:
    settings.SAFEMIGRATE = STEADY
    scenario("expand")
    run_safemigrate("scenarioapp", "0004")
    seed(ROWS)

    with writers(cents, OLD_PRICE) as started:
        during(started, "scenarioapp", "0005")
        switch(started, NEW_PRICE, share=0.5)
        let_them_write(started)
        switch(started, NEW_PRICE)
        during(started, "scenarioapp", "0006")
        let_them_write(started)

    values = dict(query("SELECT id, price_cents FROM scenarioapp_item"))
    assert values == {row: row for row in range(1, ROWS + 1)} | expected(started)
    assert leftovers() == []


def qty(table_at: str) -> Write:
    """The writes of code that changes ``qty``, with the price column of step ``table_at``."""
    price = "price" if table_at < "0006" else "price_cents"
    return (
        "UPDATE scenarioapp_item SET qty = %s WHERE id = %s",
        f"INSERT INTO scenarioapp_item (email_address, qty, {price}, author_id) "
        "VALUES (gen_random_uuid()::text, %s, 1, 1) RETURNING id",
    )


def column_types() -> list[tuple[Any, ...]]:
    return query(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        "'scenarioapp_item'::regclass AND attname IN ('id', 'qty') ORDER BY 1"
    )


@pytest.mark.parametrize(("start", "change"), [("0003", "0004"), ("0006", "0007")])
def test_a_type_change_in_place_loses_no_write_through_the_swap(
    scenario: Any, settings: Any, start: str, change: str
) -> None:
    settings.SAFEMIGRATE = STEADY
    scenario("expand")
    run_safemigrate("scenarioapp", start)
    seed(ROWS)

    with writers(cents, qty(start)) as started:
        during(started, "scenarioapp", change)  # the same code writes throughout
        let_them_write(started)

    values = dict(query("SELECT id, qty FROM scenarioapp_item"))
    assert values == {row: row for row in range(1, ROWS + 1)} | expected(started)
    changed = "qty" if change == "0004" else "id"
    assert (changed, "bigint") in column_types()
    assert leftovers() == []
    # Inserts after the swap drew from the same sequence: no id was given twice.
    assert query("SELECT count(*) = count(DISTINCT id) FROM scenarioapp_item") == [(True,)]
