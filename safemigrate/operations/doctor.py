"""``safemigrate --doctor``: find what interrupted operations left behind, finish or undo it.

A crashed ``CREATE INDEX CONCURRENTLY`` leaves an INVALID index that slows every write; a
``NOT VALID`` constraint checks new rows but not old ones; a helper NOT NULL check outlives
the ``SetNotNull`` that stopped; a non-atomic migration that failed midway has committed
part of its steps; an interrupted rename or type change leaves a column and its sync
trigger (``doctor_transitions``); a killed rehearsal leaves its scratch copy of the
database. Each finding names both ways out, and acts on one when asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.management import call_command
from django.db import DatabaseError, migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.conf import conf
from safemigrate.exceptions import LeftoversRemain
from safemigrate.models import Direction, MigrationRun, Status
from safemigrate.operations.doctor_transitions import transition_findings
from safemigrate.postgres import catalog, scratch
from safemigrate.postgres.sessions import session_settings
from safemigrate.postgres.tables import quote_identifier, quote_relation

Action = Callable[[], None]
#: Operations that change only Django's state: rerunning them touches nothing.
STATE_ONLY = (migrations.AlterModelOptions, migrations.AlterModelManagers)
_NOT_NULL = re.compile(r"^CHECK \(\((.+) IS NOT NULL\)\)( NOT VALID)?$")


@dataclass
class Finding:
    """One leftover, with the SQL or command that finishes it and the one that undoes it."""

    problem: str
    finish_label: str
    undo_label: str
    finish: Action | None
    undo: Action
    notes: list[str] = field(default_factory=list)


class Doctor:
    """Compare the catalog and the run history with what the operations meant to leave."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection

    def _sql(self, *statements: str, concurrently: bool = False) -> Action:
        def run() -> None:
            with self._timeouts(concurrently), self.connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

        return run

    @contextmanager
    def _timeouts(self, concurrently: bool) -> Iterator[None]:
        """Wait for a lock no longer than LOCK_TIMEOUT (CONCURRENTLY work waits as it must)."""
        lock_timeout = "0" if concurrently else str(conf.lock_timeout_ms)
        with (
            self.connection.cursor() as cursor,
            session_settings(cursor, {"lock_timeout": lock_timeout}),
        ):
            yield

    def findings(self) -> list[Finding]:
        with self.connection.cursor() as cursor:
            invalid = catalog.invalid_indexes(cursor)
            checks = catalog.not_null_checks(cursor)
            unvalidated = catalog.unvalidated_constraints(cursor)
        helper_names = {(c.table, c.name) for c in checks}
        stopped = self._stopped_migrations()
        return [
            *(self._invalid_index(leftover) for leftover in invalid),
            *(self._not_null_check(leftover) for leftover in checks),
            *(
                self._not_valid(leftover)
                for leftover in unvalidated
                if (leftover.table, leftover.name) not in helper_names
            ),
            *(finding for _, finding in stopped),
            *self._transitions({key for key, _ in stopped}),
            *self._rehearsal_copies(),
        ]

    def _rehearsal_copies(self) -> list[Finding]:
        """Scratch copies of this database that killed rehearsals left (``--rehearse``)."""
        params = self.connection.get_connection_params()
        try:
            with scratch.maintenance(params) as keeper:
                names = scratch.orphans(keeper, str(params["dbname"]))
        except scratch.ScratchError:
            return []
        return [self._rehearsal_copy(params, name) for name in names]

    def _rehearsal_copy(self, params: dict[str, Any], name: str) -> Finding:
        def drop() -> None:
            with scratch.maintenance(params) as keeper:
                scratch.drop(keeper, name)

        label = f"DROP DATABASE {quote_identifier(name)} WITH (FORCE)"
        return Finding(
            f"Database {name} is a scratch copy a killed rehearsal left (its comment marks "
            "it as safemigrate's, and no rehearsal holds it)",
            label,
            label,
            drop,
            drop,
        )

    def _transitions(self, stopped: set[tuple[str, str]]) -> list[Finding]:
        """Interrupted expands and type changes the history does not report, and sync
        triggers that outlived their contract."""
        try:
            found = transition_findings(self.connection, self._sql, stopped)
        except DatabaseError:
            return []  # no migration table yet: nothing was applied
        return [Finding(*fields) for fields in found]

    def _invalid_index(self, leftover: catalog.Leftover) -> Finding:
        name = quote_relation(leftover.name)
        return Finding(
            f"INVALID index {leftover.name} on {leftover.table} (a CREATE INDEX CONCURRENTLY "
            f"that failed or was interrupted): {leftover.definition}",
            f"REINDEX INDEX CONCURRENTLY {name}",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
            self._sql(f"REINDEX INDEX CONCURRENTLY {name}", concurrently=True),
            self._sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", concurrently=True),
        )

    def _not_valid(self, leftover: catalog.Leftover) -> Finding:
        table, name = quote_relation(leftover.table), quote_identifier(leftover.name)
        return Finding(
            f"NOT VALID constraint {leftover.name} on {leftover.table}: {leftover.definition}",
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}",
            f"ALTER TABLE {table} DROP CONSTRAINT {name}",
            self._sql(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}"),
            self._sql(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"),
        )

    def _not_null_check(self, leftover: catalog.Leftover) -> Finding:
        table, name = quote_relation(leftover.table), quote_identifier(leftover.name)
        match = _NOT_NULL.match(leftover.definition)
        # pg_get_constraintdef() writes the column as SQL: quoted where it needs to be.
        column = match.group(1) if match else "?"
        drop = f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"
        finish = [
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}",
            f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL",
            drop,
        ]
        return Finding(
            f"Helper check {leftover.name} on {leftover.table} of a SetNotNull that stopped "
            f"midway: {column} is not yet NOT NULL",
            "; ".join(finish),
            drop,
            self._sql(*finish),
            self._sql(drop),
        )

    def _stopped_migrations(self) -> list[tuple[tuple[str, str], Finding]]:
        try:
            applied = MigrationRecorder(self.connection).applied_migrations()
            stopped = _last_failed_non_atomic(self.connection.alias)
        except DatabaseError:
            return []  # no history tables yet: nothing recorded
        return [
            ((run.app_label, run.name), self._stopped(run))
            for run in stopped
            if (run.app_label, run.name) not in applied
        ]

    def _stopped(self, run: MigrationRun) -> Finding:
        app_label, name = run.app_label, run.name
        loader = MigrationLoader(self.connection)
        previous = _previous(loader, app_label, name)
        blocking = _not_idempotent(loader, app_label, name)
        finding = Finding(
            f"Non-atomic migration {app_label}.{name} stopped midway ({run.status} "
            f"{run.started_at:%Y-%m-%d %H:%M}: {run.error.splitlines()[0] if run.error else '?'})"
            "; the steps before the failure stay applied",
            f"manage.py safemigrate {app_label} {name}  (its operations resume)",
            f"record it applied, then manage.py safemigrate {app_label} {previous}",
            lambda: self._finish_migration(app_label, name),
            lambda: self._undo_migration(app_label, name, previous),
        )
        if blocking:
            # Rerunning a plain operation that already ran fails or does it twice.
            finding.finish = None
            finding.finish_label = (
                f"not offered: {', '.join(blocking)} cannot resume where it stopped; finish "
                "it by hand, then record the migration applied (migrate --fake)"
            )
        return finding

    def _finish_migration(self, app_label: str, name: str) -> None:
        """Apply the migration again: the safe operations skip the steps already done."""
        call_command("safemigrate", app_label, name, database=self.connection.alias)

    def _undo_migration(self, app_label: str, name: str, previous: str) -> None:
        """Unapply a half-applied migration: its operations' backwards steps use IF EXISTS."""
        MigrationRecorder(self.connection).record_applied(app_label, name)
        call_command("safemigrate", app_label, previous, database=self.connection.alias)


def _last_failed_non_atomic(alias: str) -> list[MigrationRun]:
    """Return the non-atomic migrations whose latest run, forwards, failed or was cut short.

    A later run in either direction (applied after all, or undone) settles it.
    """
    latest: dict[tuple[str, str], MigrationRun] = {}
    for run in MigrationRun.objects.using(alias).filter(fake=False).order_by("started_at"):
        latest[run.app_label, run.name] = run
    unfinished = (Status.FAILED, Status.INTERRUPTED, Status.RUNNING)
    return [
        run
        for run in latest.values()
        if not run.atomic and run.direction == Direction.FORWARDS and run.status in unfinished
    ]


def _not_idempotent(loader: MigrationLoader, app_label: str, name: str) -> list[str]:
    """Name the operations of a migration that a rerun would not simply finish."""
    migration = loader.disk_migrations.get((app_label, name))
    if migration is None:
        return ["the migration (no longer on disk)"]
    return [
        type(operation).__name__ for operation in migration.operations if not _idempotent(operation)
    ]


def _idempotent(operation: Any) -> bool:
    """Whether a rerun finishes the operation: safemigrate's operations, state-only ones, and
    ``RunPython``/``RunSQL`` whose author said so with ``hints={"idempotent": True}``."""
    if getattr(operation, "idempotent", False) or isinstance(operation, STATE_ONLY):
        return True
    return bool(getattr(operation, "hints", {}).get("idempotent"))


def _previous(loader: MigrationLoader, app_label: str, name: str) -> str:
    parents = [
        parent.key[1]
        for parent in loader.graph.node_map[app_label, name].parents
        if parent.key[0] == app_label
    ]
    return parents[0] if parents else "zero"


def treat(
    findings: list[Finding],
    write: Callable[[str], None],
    choose: Callable[[Finding], str],
) -> int:
    """Show each finding and act on the choice (``finish``, ``undo`` or ``skip``).

    Return how many findings were left untreated.
    """
    if not findings:
        write("Nothing to do: no invalid index, unvalidated constraint or stopped migration.")
        return 0
    left = 0
    for number, finding in enumerate(findings, 1):
        write(f"{number}. {finding.problem}")
        write(f"   finish: {finding.finish_label}")
        write(f"   undo:   {finding.undo_label}")
        choice = choose(finding)
        if choice == "finish" and finding.finish is None:
            write("   -> left: it cannot be finished automatically")
            left += 1
        elif choice == "finish" and finding.finish is not None:
            finding.finish()
            write("   -> finished")
        elif choice == "undo":
            finding.undo()
            write("   -> undone")
        else:
            left += 1
    return left


def doctor_command(
    connection: BaseDatabaseWrapper,
    write: Callable[[str], None],
    ask: Callable[[str], str] | None,
    *,
    yes: bool = False,
    undo: bool = False,
) -> None:
    """Show every finding and treat it: all at once with ``yes``, else as ``ask`` answers.

    Without ``yes`` and without a way to ask (no terminal), every finding is left as it is.
    """

    def choose(finding: Finding) -> str:
        if yes:
            return "undo" if undo else "finish"
        if ask is None:
            return "skip"
        answer = ask("   [f]inish, [u]ndo or [s]kip? ").strip().lower()[:1]
        return {"f": "finish", "u": "undo"}.get(answer, "skip")

    left = treat(Doctor(connection).findings(), write, choose)
    if left:
        raise LeftoversRemain(
            f"{left} finding(s) left as they are: rerun with --doctor --yes to finish them "
            "(or --doctor --yes --undo to undo them)."
        )
