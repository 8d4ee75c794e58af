"""The traffic of the lock-stall benchmark: client processes, and the long transaction.

Each client is a process of its own with its own connection, as the workers of a web app are,
so that one client stuck behind a lock never delays another's measurement. A client sends
point SELECTs and UPDATEs by primary key on a fixed schedule and times each operation twice:
its *latency*, from send to reply, which is what a lock stalls; and its *delay*, from when it
was due to the reply. A client stuck for 7 s is charged, in delay, for every operation it
should have sent meanwhile, as users arriving during an outage would be (latency alone hides
them: "coordinated omission"). Delay also counts a client process that the machine was too
busy to run on time, so it is the noisier of the two.
"""

from __future__ import annotations

import random
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import psycopg

TABLE = "benchapp_account"
#: The ``application_name`` of the migration's sessions (set in bench/settings.py).
MIGRATION_APP = "bench migration"
_SELECT = "SELECT balance FROM benchapp_account WHERE id = %s"
_UPDATE = "UPDATE benchapp_account SET balance = balance + 1 WHERE id = %s"


@dataclass(frozen=True)
class ClientPlan:
    """What one client does, and until when at the latest.

    ``queries`` are (SELECT, UPDATE) pairs by primary key, one per version of the code: the
    client uses the pair its ``phase`` (a shared ``multiprocessing.Value``) names, so a
    benchmark can deploy new code to running clients. ``prepared`` lets psycopg prepare the
    statements it runs often on the server; Django does not (client-side binding), and a
    prepared statement fails once its result's type changes.
    """

    conninfo: str
    rows: int
    rate: float
    update_share: float
    seed: int
    deadline: float
    queries: tuple[tuple[str, str], ...] = ((_SELECT, _UPDATE),)
    prepared: bool = True

    @property
    def interval(self) -> float:
        """Seconds between two operations; 0 sends the next as soon as one returns."""
        return 1 / self.rate if self.rate > 0 else 0.0


@dataclass
class ClientSamples:
    """One client's operations: when each was due (epoch seconds), its latency and its delay."""

    due: array[float] = field(default_factory=lambda: array("d"))
    latency: array[float] = field(default_factory=lambda: array("d"))
    delay: array[float] = field(default_factory=lambda: array("d"))
    errors: int = 0

    def encode(self) -> tuple[bytes, bytes, bytes, int]:
        """Return the samples in a compact form to send through a multiprocessing queue."""
        return self.due.tobytes(), self.latency.tobytes(), self.delay.tobytes(), self.errors

    @classmethod
    def decode(cls, due: bytes, latency: bytes, delay: bytes, errors: int) -> ClientSamples:
        """Rebuild a client's samples from what ``encode`` returned."""
        samples = cls(errors=errors)
        samples.due.frombytes(due)
        samples.latency.frombytes(latency)
        samples.delay.frombytes(delay)
        return samples


def run_client(plan: ClientPlan, ready: Any, stop: Any, out: Any, phase: Any = None) -> None:
    """Run one client until ``stop`` is set or its deadline passes, then send its samples.

    ``ready``, ``stop`` and ``out`` are a multiprocessing Queue, Event and Queue. A statement
    timeout that ends at the deadline keeps a client from outliving the benchmark even if a
    lock is never released.
    """
    rng = random.Random(plan.seed)
    samples = ClientSamples()
    budget_ms = max(1000, int((plan.deadline - time.time()) * 1000))
    with psycopg.connect(
        plan.conninfo,
        autocommit=True,
        application_name=f"bench client {plan.seed}",
        prepare_threshold=5 if plan.prepared else None,
    ) as conn:
        conn.execute(f"SET statement_timeout = {budget_ms}")
        ready.put(plan.seed)
        # Due times are kept on the monotonic clock and reported on the wall clock, which is
        # what the parent process can compare with its own events.
        epoch_offset = time.time() - time.monotonic()
        deadline = plan.deadline - epoch_offset
        due = time.monotonic()
        while not stop.is_set() and due < deadline:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            select, update = plan.queries[phase.value if phase is not None else 0]
            query = update if rng.random() < plan.update_share else select
            sent = time.monotonic()
            try:
                conn.execute(query, [rng.randint(1, plan.rows)])
            except psycopg.Error:
                samples.errors += 1
            replied = time.monotonic()
            samples.due.append(due + epoch_offset)
            samples.latency.append(replied - sent)
            samples.delay.append(replied - due)
            due = due + plan.interval if plan.interval else replied
    out.put(samples.encode())


class Blocker(threading.Thread):
    """A long report: a transaction that reads the table, then stays open for ``seconds``.

    The read leaves it holding ACCESS SHARE on the table until it commits. That blocks no
    reader or writer, only ACCESS EXCLUSIVE, which is what an ALTER TABLE needs; a migration
    without a short lock timeout then waits in the lock queue, and every query on the table
    queues behind the migration.
    """

    def __init__(self, conninfo: str, seconds: float) -> None:
        super().__init__(name="bench blocker", daemon=True)
        self.conninfo = conninfo
        self.seconds = seconds
        self.locked = threading.Event()
        self.started_at = 0.0
        self.ended_at = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        """Hold the lock; an error is kept for the main thread, which raises it after the run."""
        try:
            with psycopg.connect(self.conninfo, application_name="bench blocker") as conn:
                self.started_at = time.time()
                conn.execute(f"SELECT count(*) FROM {TABLE}")
                self.locked.set()
                remaining = self.seconds - (time.time() - self.started_at)
                # Sleeping in the server keeps the session "active", as a slow query would be.
                conn.execute("SELECT pg_sleep(%s)", [max(0.0, remaining)])
            # Leaving the block committed the transaction and so released the lock.
            self.ended_at = time.time()
        except BaseException as error:
            self.error = error
            self.ended_at = time.time()
            self.locked.set()


class Storm:
    """A read-heavy application: sessions that keep overlapping short read transactions open.

    Each session reads a row of the table, sleeps in the server until ``transaction_s`` have
    passed, commits, and begins again at once. The sessions begin their transactions on one
    schedule, ``transaction_s / sessions`` apart, whatever their connections took or the
    machine's load delayed. At every moment some transaction holds ACCESS SHARE on the table,
    yet none is old: the table's lock is never free, and a lock request queues for the longest
    remaining time of the transactions holding it when it arrives.
    """

    def __init__(
        self, conninfo: str, rows: int, sessions: int, transaction_s: float, seconds: float
    ) -> None:
        self.conninfo = conninfo
        self.rows = rows
        self.sessions = sessions
        self.transaction_s = transaction_s
        self.seconds = seconds
        self.start_at = 0.0
        self.stopping = threading.Event()
        self.transactions = 0
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self._session, args=(number,), name=f"bench storm {number}")
            for number in range(sessions)
        ]

    def start(self, after: float) -> None:
        """Start the sessions; their first transactions begin ``after`` seconds from now.

        Give them time to connect (a second is plenty), or the schedule starts late.
        """
        self.start_at = time.time() + after
        for thread in self.threads:
            thread.daemon = True
            thread.start()

    def _session(self, number: int) -> None:
        """Run one session's transactions; an error is kept for the main thread."""
        rng = random.Random(number)
        deadline = self.start_at + self.seconds
        begin = self.start_at + number * self.transaction_s / self.sessions
        try:
            with psycopg.connect(self.conninfo, application_name="bench storm") as conn:
                conn.execute(f"SET statement_timeout = {int((self.seconds + 60) * 1000)}")
                conn.commit()
                while not self.stopping.is_set() and begin < deadline:
                    time.sleep(max(0.0, begin - time.time()))
                    conn.execute(_SELECT, [rng.randint(1, self.rows)])
                    remaining = begin + self.transaction_s - time.time()
                    conn.execute("SELECT pg_sleep(%s)", [max(0.0, remaining)])
                    conn.commit()
                    self.transactions += 1
                    begin += self.transaction_s
        except BaseException as error:
            self.errors.append(error)

    def stop(self) -> None:
        """End the storm (each session finishes its transaction) and wait for it."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


class MigrationWatcher(threading.Thread):
    """Sample from outside how long the migration's sessions spend waiting for a lock.

    This is what makes the clients stall: while a session waits for ACCESS EXCLUSIVE, every
    later lock request on the table queues behind it. It also tells whether the migration met
    the blocker at all (a Django start-up slower than the blocker would make a run meaningless)
    and, given the column the migration adds, when it was applied: when the column became
    visible to other sessions, i.e. when the migration's transaction committed.
    """

    def __init__(
        self, conninfo: str, interval: float = 0.01, column: tuple[str, str] | None = None
    ) -> None:
        super().__init__(name="bench watcher", daemon=True)
        self.conninfo = conninfo
        self.interval = interval
        self.column = column
        self.stopping = threading.Event()
        self.lock_wait_s = 0.0
        self.applied_at: float | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Sample until stopped; an error is kept for the main thread, as the blocker's is."""
        try:
            with psycopg.connect(
                self.conninfo, autocommit=True, application_name="bench watcher"
            ) as conn:
                self._watch(conn)
        except BaseException as error:
            self.error = error

    def _watch(self, conn: psycopg.Connection[Any]) -> None:
        """Add up the time between samples that found a migration session waiting for a lock."""
        last = time.time()
        while not self.stopping.wait(self.interval):
            waits = conn.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = %s",
                [MIGRATION_APP],
            ).fetchall()
            now = time.time()
            if any(wait == "Lock" for (wait,) in waits):
                self.lock_wait_s += now - last
            last = now
            if self.column and self.applied_at is None and _has_column(conn, *self.column):
                self.applied_at = now

    def stop(self) -> None:
        """Stop sampling and wait for the thread to end."""
        self.stopping.set()
        self.join(timeout=10)


def _has_column(conn: psycopg.Connection[Any], table: str, column: str) -> bool:
    """Return whether ``table`` has ``column`` as other sessions see it (committed)."""
    found = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
        "AND NOT attisdropped",
        [table, column],
    ).fetchone()
    return found is not None
