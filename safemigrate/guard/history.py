"""Keep the run history in memory and write it through the side connection when possible.

The records are unsaved model instances until their tables exist, with every column the
models have: on the very first run safemigrate's own tables are created part-way through,
and a run that upgrades safemigrate adds columns part-way through, so everything recorded
before that is written once they are there (at the end, at the latest). A run whose plan
never creates them (``safemigrate shop 0002`` on a new database) cannot be recorded anywhere,
and ends with a warning that says so. Writes go through the sidecar in autocommit, so a
migration that fails (and rolls back) still leaves its record. While a migration of
safemigrate itself runs, writes wait: it may hold locks on the very tables the history
writes to.

Changes are written at most ``FLUSH_DELAY_S`` after they happen, together: a run of quick
migrations writes its history in a few transactions, not in one per migration, whose round
trips and ORM work on the side thread took the interpreter from the migrations (a tenth of
a fresh database's run). A migration that takes longer shows as running meanwhile. The
run's last write, a backup's record and the record of a non-atomic migration before it
runs are waited for: those must be there if the process dies.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from django.db import DatabaseError, connections, models, transaction

from safemigrate.guard.records import MigrationLog, now
from safemigrate.guard.sidecar import Sidecar
from safemigrate.models import (
    Attempt,
    Backup,
    MigrationRun,
    Postcondition,
    Run,
    Statement,
    Status,
)
from safemigrate.postgres.sessions import set_settings
from safemigrate.postgres.tables import tables_columns

#: Why a run whose plan does not create safemigrate's tables leaves no history, and the fix.
NOT_RECORDED = (
    "this run is not in the run history: safemigrate's own migrations are not all applied "
    "in this database, so its tables are missing or lack this version's columns. Run "
    "`manage.py safemigrate safemigrate` once (a full `manage.py safemigrate` does it too), "
    "and every run after that is recorded."
)


#: Each history write's settings. One commit per sync, and no wait for its WAL flush: a crash
#: of the server may lose the last moments of history, never the migrations themselves. A lock
#: timeout too: a write must never wait long behind a migration.
WRITE_SETTINGS = {"synchronous_commit": "off", "lock_timeout": "5s"}

#: How long a change waits for others to be written with it. A crash of the process loses at
#: most this much of the history (the run itself is then marked interrupted by the next one).
FLUSH_DELAY_S = 0.25


class History:
    """The records of one run, written to the database as soon as its tables exist."""

    def __init__(self, run: Run, sidecar: Sidecar | None, alias: str) -> None:
        self.run = run
        self.migrations: list[MigrationLog] = []
        #: Records that belong to the run (its backup), saved after it on each change.
        self.attached: list[models.Model] = []
        self.sidecar = sidecar
        self.alias = alias
        self.deferred = False
        self.warning: str | None = None
        self._tables_exist = False
        #: Whether the tables may have appeared since they were last found missing: at the
        #: start, and after each migration of safemigrate's own (the only ones that make them).
        self._recheck_tables = True
        self._run_changed = True
        self._attached_changed = False
        self._clock = time.monotonic()
        self._pending: Future[None] | None = None
        #: The run's first write, until a migration has waited for it.
        self._begun: Future[None] | None = None
        #: The timer that writes the changes made since the last write, when armed.
        self._flush_timer: threading.Timer | None = None
        #: Guards the timer, ``deferred`` and ``_pending`` against the timer's own thread.
        self._lock = threading.Lock()
        self._closed = False
        #: Whether the run goes through a transaction-mode pooler (``GuardedRun`` says so
        #: before the first write); until known, settings are set in each transaction.
        self.pooled = True
        #: The side connection's driver connection that has ``WRITE_SETTINGS`` for its session.
        self._limited: Any = None

    def begin(self) -> None:
        """Write the run's first record and mark runs that died without ending.

        Queued, not waited for: ``migrate`` reads its plan meanwhile. The first migration
        waits for it (``migration()``), so that the run's id is known while any runs.
        """
        self.sync(close_stale=True)
        self._begun = self._pending

    def migration(self, log: MigrationLog) -> None:
        """Keep the log of a migration about to run; write it now if it is not atomic.

        A non-atomic migration commits as it goes: killed half-way, it leaves work that only
        its record tells of (``--doctor`` reads it), so its record is written before it runs.
        An atomic one leaves nothing behind if it dies: its record may wait for the batch.
        """
        if self._begun is not None:
            self._begun.result()
            self._begun = None
        self.migrations.append(log)
        self.sync(wait=not log.record.atomic)

    def attach(self, record: models.Model) -> None:
        """Keep a record with a ``run`` foreign key; it is saved now and after each ``changed``.

        Saved before this returns: a backup's record must be there if the process dies
        while it is taken, so that the next run can tell its partial file apart.
        """
        self.attached.append(record)
        self._recheck_tables = True  # its table is one more to find
        self.changed(wait=True)

    def changed(self, wait: bool = False) -> None:
        """Save the attached records again: one of them changed."""
        self._attached_changed = True
        self.sync(wait=wait)

    def end(self, status: Status, exit_code: int, error: str = "") -> None:
        self.run.status = status
        self.run.exit_code = exit_code
        self.run.error = error
        self.run.finished_at = now()
        self.run.duration_ms = int((time.monotonic() - self._clock) * 1000)
        self._run_changed = True
        self.deferred = False
        self.sync(wait=True)
        if self.sidecar is not None and not self._tables_exist and self.warning is None:
            self.warning = NOT_RECORDED

    def hold(self) -> None:
        """Finish the write in progress, then write nothing until the next ``sync()``.

        For a migration of safemigrate itself: it may lock the history's tables, and a write
        waiting for those locks on the sidecar would keep the migration waiting for the
        sidecar in turn. The changes made meanwhile are written after it.
        """
        with self._lock:
            self.deferred = True
            self._recheck_tables = True
            self._disarm()
            pending = self._pending
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Write nothing more: the run is over and its sidecar closes."""
        with self._lock:
            self._closed = True
            self._disarm()

    def sync(self, close_stale: bool = False, wait: bool = False) -> None:
        """Write what changed, if the tables exist and no migration of ours is running.

        Without ``wait`` the write happens on the sidecar's thread within ``FLUSH_DELAY_S``,
        with every change made until then, and the migration goes on meanwhile. The thread
        writes in order, so the last sync (``wait=True`` at the end) leaves it all saved.
        """
        if self.sidecar is None:
            return
        with self._lock:
            if self.deferred or self._closed:
                return
            if not (wait or close_stale):
                self._arm()
                return
            self._disarm()
            self._queue(close_stale)
            pending = self._pending
        if wait and pending is not None:
            pending.result()

    def _arm(self) -> None:
        if self._flush_timer is None:
            self._flush_timer = threading.Timer(FLUSH_DELAY_S, self._on_timer)
            self._flush_timer.daemon = True
            self._flush_timer.start()

    def _disarm(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None

    def _on_timer(self) -> None:
        with self._lock:
            self._flush_timer = None
            if not (self.deferred or self._closed):
                self._queue(close_stale=False)

    def _queue(self, close_stale: bool) -> None:
        """Queue a write on the sidecar, unless one is queued that has not started yet: it
        reads the records when it runs, so it writes this change too."""
        assert self.sidecar is not None
        pending = self._pending
        if close_stale or pending is None or pending.running() or pending.done():
            self._pending = self.sidecar.submit(lambda _cursor: self._write(close_stale))

    def _write(self, close_stale: bool) -> None:
        if self.warning or not (close_stale or self._has_changes()):
            return
        saved = self.run.pk is not None
        try:
            self._write_in_transaction(close_stale)
        except DatabaseError as error:
            # The history must never fail a migration: say so once and carry on in memory.
            self.warning = f"the run history could not be written ({error}); it is not saved."
            if not saved:
                self.run.pk = None  # rolled back: nothing (a backfill) may refer to it

    def _has_changes(self) -> bool:
        return (
            self._run_changed
            or self._attached_changed
            or any(
                log.written == "nothing" or (log.finished and log.written != "all")
                for log in self.migrations
            )
        )

    def _write_in_transaction(self, close_stale: bool) -> None:
        if not self.pooled:
            self._limit_session()
        with transaction.atomic(using=self.alias):
            if self.pooled:
                with connections[self.alias].cursor() as cursor:
                    set_settings(cursor, WRITE_SETTINGS, local=True)
            self._write_changes(close_stale)

    def _limit_session(self) -> None:
        """Give the side connection the writes' settings once, not in every transaction (a
        round trip per migration). Only without a transaction-mode pooler, which may hand the
        next transaction another server connection: there, each transaction sets them."""
        connection = connections[self.alias]
        connection.ensure_connection()
        if connection.connection is self._limited:
            return
        with connection.cursor() as cursor:
            set_settings(cursor, WRITE_SETTINGS, local=False)
        self._limited = connection.connection

    def _write_changes(self, close_stale: bool) -> None:
        if not self._tables_exist:
            # Asked again only when they may have appeared: a run that applies a project's
            # whole history before safemigrate's own migrations would otherwise ask after
            # every migration (0.3 s of the sidecar's time on the real apps' history).
            if not self._recheck_tables:
                return
            self._recheck_tables = False
            self._tables_exist = self._check_tables()
            if not self._tables_exist:
                return
        if close_stale:
            # Only one run holds the run lock, so a run still marked running has died.
            Run.objects.using(self.alias).filter(status=Status.RUNNING).exclude(
                pk=self.run.pk
            ).update(status=Status.INTERRUPTED)
            # So is a backup such a run was writing: its file never got its final name.
            Backup.objects.using(self.alias).filter(status=Status.RUNNING).update(
                status=Status.INTERRUPTED
            )
        if self._run_changed:
            self._run_changed = False  # before saving: a change made meanwhile is saved next time
            self.run.save(using=self.alias)
        if self._attached_changed:
            self._attached_changed = False
            for record in self.attached:
                record.run = self.run  # type: ignore[attr-defined]
                record.save(using=self.alias)
        # Only what changed since the last write: a run of hundreds of migrations must not
        # rewrite every earlier record each time.
        self._write_migrations([log for log in self.migrations if log.written != "all"])

    def _copy(self, model: type[models.Model], records: list[Any]) -> None:
        """Insert ``records`` (with ``model``'s attributes) with one ``COPY``: a migration's
        statements are most of the history's rows, and ``bulk_create`` compiled each one on
        the side thread, taking the interpreter from the migration (a tenth of a fresh
        database's run)."""
        if not records:
            return
        connection = connections[self.alias]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in fields)
        query = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(query) as copy:
            for record in records:
                copy.write_row(
                    [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
                )

    def _check_tables(self) -> bool:
        """Whether every history table exists with every column its model has."""
        history: set[type[models.Model]] = {Run, MigrationRun, Attempt, Statement, Postcondition}
        history.update(type(record) for record in self.attached)
        with connections[self.alias].cursor() as cursor:
            # One query for them all: asked after each of safemigrate's own migrations.
            found = tables_columns(cursor, sorted({model._meta.db_table for model in history}))
        return all(
            {field.column for field in model._meta.concrete_fields} <= found[model._meta.db_table]
            for model in history
        )

    def _write_migrations(self, logs: list[MigrationLog]) -> None:
        """Write the records of ``logs``, each in as few statements as the batch allows.

        A record is inserted when first written (running, or already finished), updated
        when it finishes later; a finished one's attempts, statements and checks follow.
        """
        # Read once: a migration may finish while this thread writes; if it does, the sync
        # it makes then writes the final record.
        finished = {id(log): log.finished for log in logs}
        new = [log for log in logs if log.written == "nothing"]
        for log in new:
            log.record.run = self.run
        MigrationRun.objects.using(self.alias).bulk_create([log.record for log in new])
        for log in logs:
            if log.written == "started" and finished[id(log)]:
                log.record.save(using=self.alias)
            log.written = "started"
        done = [log for log in logs if finished[id(log)]]
        for log in done:
            children: list[Attempt | Postcondition] = [*log.attempts, *log.postconditions]
            for child in children:
                child.migration = log.record
            for statement in log.statements:
                statement.migration_id = log.record.pk
        Attempt.objects.using(self.alias).bulk_create(
            [attempt for log in done for attempt in log.attempts]
        )
        self._copy(Statement, [statement for log in done for statement in log.statements])
        Postcondition.objects.using(self.alias).bulk_create(
            [check for log in done for check in log.postconditions]
        )
        for log in done:
            log.written = "all"
