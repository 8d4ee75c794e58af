"""The guard under a lock storm: short read transactions that overlap, so the table is never free.

Each storm session has a connection of its own and keeps opening transactions that read the
table, sleep in the server and commit, one after another; the sessions start apart, so at
every moment some transaction holds the table and none is old. Timings are generous: the
suite runs on loaded machines.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.models import MigrationRun, Outcome, Run, Status
from tests.conftest import columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "scenarioapp_item"


class LockStorm:
    """Sessions that keep overlapping short read transactions open on ``table``.

    Each session begins its transactions on a schedule shared by all, ``lasting / sessions``
    after the previous session's, whatever its connection or the machine's load delayed: so
    the youngest transaction holding the table is never much older than that.
    """

    def __init__(self, table: str, sessions: int, lasting: float, limit: float = 60) -> None:
        self.table = table
        self.sessions = sessions
        self.lasting = lasting
        self.stopping = threading.Event()
        self.deadline = time.monotonic() + limit  # a storm never outlives a broken test
        self.start_at = 0.0
        self.transactions = 0
        self.threads = [
            threading.Thread(target=self._run, args=(number,), daemon=True)
            for number in range(sessions)
        ]

    def _run(self, number: int) -> None:
        conn = connection.get_new_connection(connection.get_connection_params())
        begin = self.start_at + number * self.lasting / self.sessions
        try:
            while not self.stopping.is_set() and time.monotonic() < self.deadline:
                time.sleep(max(0.0, begin - time.monotonic()))
                with conn.cursor() as cursor:
                    cursor.execute(f"SELECT count(*) FROM {self.table}")
                    # Sleeping in the server keeps the session active, as a slow page would.
                    ends = max(0.0, begin + self.lasting - time.monotonic())
                    cursor.execute("SELECT pg_sleep(%s)", [ends])
                conn.commit()
                self.transactions += 1
                begin += self.lasting
        finally:
            conn.close()

    def __enter__(self) -> LockStorm:
        self.start_at = time.monotonic() + 1.0  # every session is connected by then
        for thread in self.threads:
            thread.start()
        time.sleep(1.0 + self.lasting * 2)  # every session has a transaction open by now
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)


class Reader:
    """A client that times its queries on the table, one every 50 ms, while the body runs."""

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self.stopping = threading.Event()
        self.conn = connection.get_new_connection(connection.get_connection_params())
        self.conn.autocommit = True
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        while not self.stopping.wait(0.05):
            started = time.monotonic()
            with self.conn.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {TABLE}")
            self.stalls.append(time.monotonic() - started)

    def __enter__(self) -> Reader:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.conn.close()


def attempts_of(name: str) -> list[tuple[str, int | None]]:
    record = MigrationRun.objects.get(app_label="scenarioapp", name=name)
    return list(record.attempts.values_list("outcome", "lock_timeout_ms"))


def test_a_storm_ends_the_wait_and_an_attempt_outwaits_it(scenario, settings):
    settings.SAFEMIGRATE = {"PREFLIGHT_WAIT": "30s"}
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")

    # Four sessions 100 ms apart: a transaction older than the 200 ms lock timeout holds the
    # table at every moment, with room to spare for a loaded machine's drift.
    with LockStorm(TABLE, sessions=4, lasting=0.4) as storm, Reader() as reader:
        before = storm.transactions
        started = time.monotonic()
        output = run_safemigrate("scenarioapp")
        elapsed = time.monotonic() - started
        during = storm.transactions - before

    assert "note" in columns(TABLE)
    assert f"pre-flight: lock storm on {TABLE}" in output.out
    assert "not waiting for a quiet moment" in output.out
    # Far from the 30 s the pre-flight would have waited for a quiet moment.
    assert elapsed < 10
    assert during >= 3, "transactions kept replacing each other while it ran"
    attempts = attempts_of("0002_item_note")
    assert Outcome.STORM in [outcome for outcome, _ in attempts]
    assert attempts[-1][0] == Outcome.OK
    # The attempt that got in waited long enough to outlast the storm's transactions...
    assert attempts[-1][1] >= 400
    # ...and no more than LOCK_TIMEOUT_MAX: no client waited much longer than that.
    assert all(timeout <= 1000 for _, timeout in attempts)
    assert max(reader.stalls) < 1.6


def test_a_storm_that_outlasts_every_attempt_fails_naming_it(scenario, settings):
    settings.SAFEMIGRATE = {
        "LOCK_TIMEOUT": "50ms",
        "LOCK_TIMEOUT_MAX": "100ms",
        "RETRIES": 3,
        "RETRY_BACKOFF": "50ms",
        "RETRY_BACKOFF_MAX": "100ms",
    }
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")

    # Four sessions 100 ms apart: some transaction holds the table for about 300 ms more at
    # any moment, far longer than any attempt may wait.
    with LockStorm(TABLE, sessions=4, lasting=0.4), pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")

    assert raised.value.returncode == 3
    message = str(raised.value)
    assert "Gave up on scenarioapp.0002_item_note after" in message
    assert f"lock storm on {TABLE}" in message
    assert "lock timeouts of 50ms to 100ms" in message or "lock_timeout 100ms" in message
    assert "raise SAFEMIGRATE['LOCK_TIMEOUT_MAX'] (or --lock-timeout-max)" in message
    assert "note" not in columns(TABLE)
    run = Run.objects.latest("started_at")
    assert (run.status, run.exit_code) == (Status.FAILED, 3)
    assert f"lock storm on {TABLE}" in run.error
    attempts = attempts_of("0002_item_note")
    assert Outcome.STORM in [outcome for outcome, _ in attempts]
    failed = [timeout for outcome, timeout in attempts if outcome == Outcome.LOCK_TIMEOUT]
    assert len(failed) == 4
    assert all(timeout is not None and 50 <= timeout <= 100 for timeout in failed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE name = '0002_item_note'")
        assert cursor.fetchone()[0] == 0


def test_a_storm_before_a_non_atomic_statement_ends_the_wait_too(scenario, settings):
    settings.SAFEMIGRATE = {"PREFLIGHT_WAIT": "30s"}
    scenario("nonatomic")
    run_safemigrate("scenarioapp", "0001")

    with LockStorm(TABLE, sessions=4, lasting=0.4):
        started = time.monotonic()
        output = run_safemigrate("scenarioapp")
        elapsed = time.monotonic() - started

    assert "note" in columns(TABLE)
    assert f"pre-flight: lock storm on {TABLE}" in output.out
    assert elapsed < 10
    record = MigrationRun.objects.get(name="0002_table_column_index")
    alter = record.statements.filter(sql__startswith="ALTER TABLE").last()
    assert alter is not None
    assert alter.outcome == Outcome.OK
    assert 400 <= (alter.lock_timeout_ms or 0) <= 1000


def test_a_long_transaction_is_still_waited_for_outside_the_queue(scenario, blocker, settings):
    """One old blocker and nothing else: no storm, the pre-flight waits as it always did."""
    settings.SAFEMIGRATE = {"PREFLIGHT_WAIT": "30s"}
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold(f"SELECT * FROM {TABLE}")
    time.sleep(0.3)
    blocker.release_after(2.0)  # longer than LOCK_TIMEOUT_MAX: no attempt could outwait it

    output = run_safemigrate("scenarioapp")

    assert "pre-flight: long transactions hold scenarioapp_item" in output.out
    assert "lock storm" not in output.out
    assert attempts_of("0002_item_note") == [(Outcome.BLOCKED, 200), (Outcome.OK, 200)]
