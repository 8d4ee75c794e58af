"""Run a backfill's batches in this process: where its state lives, its checkpoint, its progress.

A backfill is known by the migration and position of its operation, so a task worker or a
later ``safemigrate`` can rebuild it from the migration files alone: the historical model
comes from the migration state at that operation, as it does for ``RunPython``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from safemigrate.backfill.batches import Batcher, Step, Target, high_water, key_to_json
from safemigrate.backfill.operation import BackfillOperation
from safemigrate.backfill.progress import Progress
from safemigrate.conf import conf
from safemigrate.exceptions import BackfillStopped, ConfigurationError
from safemigrate.guard.migration import MigrationGuard
from safemigrate.guard.run import active_run
from safemigrate.models import BackfillRequest, BackfillState, BackfillStatus, Direction
from safemigrate.postgres.sessions import redact
from safemigrate.postgres.tables import estimated_rows

UNFINISHED = (BackfillStatus.PENDING, BackfillStatus.RUNNING, BackfillStatus.PAUSED)
DOCS = "See docs/backfills.md."


def locate(operation: BackfillOperation, app_label: str) -> tuple[str, int, Sequence[Any]]:
    """Return the migration holding ``operation``: its name, the operation's position in it,
    and all its operations.

    Migration modules are imported once, so the loader's migrations hold the very operation
    objects the executor is running.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in loader.disk_migrations.items():
        if app != app_label:
            continue
        for index, candidate in enumerate(migration.operations):
            if candidate is operation:
                return name, index, migration.operations
    raise ConfigurationError(
        f"{operation.__class__.__name__} on {app_label}.{operation.model_name} is not in any "
        f"migration of {app_label!r}: backfills run only from migration files. {DOCS}"
    )


def backfill_name(app_label: str, migration: str, index: int, operations: Sequence[Any]) -> str:
    """``app.migration``, with ``#index`` when the migration holds several backfills."""
    several = sum(isinstance(op, BackfillOperation) for op in operations) > 1
    return f"{app_label}.{migration}" + (f"#{index}" if several else "")


def open_state(
    alias: str,
    name: str,
    direction: Direction,
    where: dict[str, Any],
    target: Target | None,
) -> BackfillState:
    """Create the state of a new backfill, or pick up the checkpoint of an unfinished one.

    Running one direction forgets the other's state: a migration unapplied and applied
    again is a new backfill, not a finished one.
    """
    states = BackfillState.objects.using(alias)
    with transaction.atomic(using=alias):
        states.filter(name=name).exclude(direction=direction).delete()
        state = states.select_for_update().filter(name=name, direction=direction).first()
        first = BackfillStatus.RUNNING if conf.backfill_mode == "inline" else BackfillStatus.PENDING
        if target is None:  # This direction has nothing to do: it is done as it starts.
            first = BackfillStatus.DONE
        if state is not None and state.status != BackfillStatus.DONE:
            state.status = first
            state.request = BackfillRequest.NONE
            state.mode = conf.backfill_mode
            state.save(using=alias)
        if state is not None:
            return state
        state = BackfillState(name=name, direction=direction, mode=conf.backfill_mode, **where)
        state.started_at = state.updated_at = timezone.now()
        _attach_run(state)
        state.status = first
        if target is None:
            state.finished_at = state.started_at
        else:
            _measure(state, target, alias)
        state.save(using=alias)
    return state


def _measure(state: BackfillState, target: Target, alias: str) -> None:
    """Take the key high-water mark and the planner's estimate of the rows to do."""
    state.table = target.model._meta.db_table
    state.key = target.key_field.name
    with connections[alias].cursor() as cursor:
        state.high_water = key_to_json(high_water(cursor, target))
        if state.high_water is None:
            state.status = BackfillStatus.DONE
            state.finished_at = timezone.now()
            return
        rows = target.range(alias, None, target.key_field.to_python(state.high_water))
        sql, params = rows.query.sql_with_params()
        state.rows_estimated = estimated_rows(cursor, sql, params)


def _attach_run(state: BackfillState) -> None:
    run = active_run.get()
    if run is not None and run.history.run.pk is not None:
        state.run_id = run.history.run.pk


def report(text: str) -> None:
    run = active_run.get()
    if run is not None:
        run.reporter.write(text)
    else:
        sys.stdout.write(text + "\n")


def progress_of(state: BackfillState) -> Progress:
    run = active_run.get()
    stream = getattr(run.reporter.out, "_out", None) if run is not None else sys.stdout
    return Progress(state, report, stream)


def _own_pids() -> list[int]:
    run = active_run.get()
    return list(run.own_pids) if run is not None else []


def run_inline(state: BackfillState, target: Target, alias: str, until: float = 0.0) -> Step:
    """Run batches in this process until the end, a cancel, or the ``until`` deadline."""
    progress = progress_of(state)
    # Inside a guarded migration the guard already applies the run's timeouts to every statement.
    guarded = any(isinstance(w, MigrationGuard) for w in connections[alias].execute_wrappers)
    batcher = Batcher(state, target, alias, _own_pids(), progress.note, set_limits=not guarded)
    try:
        step = _loop(batcher, progress, until)
    except BaseException as error:
        _mark_failed(state, alias, error)
        progress.close(state)
        raise
    progress.close(state)
    if step == Step.CANCELLED:
        raise BackfillStopped(cancelled_message(state))
    return step


def _loop(batcher: Batcher, progress: Progress, until: float) -> Step:
    while True:
        step = batcher.step()
        progress.update(batcher.state)
        if step == Step.PAUSED:
            if until:
                return step
            progress.note("paused; safemigrate --backfill-resume or --backfill-cancel to go on.")
            step = batcher.wait_while_paused(lambda: None)
            if step == Step.BATCH:
                progress.note("resumed.")
        if step in (Step.DONE, Step.CANCELLED):
            return step
        if until and time.monotonic() >= until:
            return Step.BATCH


def _mark_failed(state: BackfillState, alias: str, error: BaseException) -> None:
    """Record why the backfill stopped; its checkpoint stays for the next run to resume."""
    connection = connections[alias]
    if connection.in_atomic_block or not connection.is_usable():
        return
    interrupted = isinstance(error, KeyboardInterrupt)
    status = BackfillStatus.PAUSED if interrupted else BackfillStatus.FAILED
    BackfillState.objects.using(alias).filter(pk=state.pk).update(
        status=status, error=redact(str(error))[:2000], updated_at=timezone.now()
    )


def cancelled_message(state: BackfillState) -> str:
    return (
        f"Backfill {state.name} was cancelled after {state.rows_done:,} rows; those rows stay "
        "changed and the migration is not recorded as applied. Run safemigrate again to "
        f"resume from the checkpoint. {DOCS}"
    )


def load_target(state: BackfillState) -> Target | None:
    """Rebuild a backfill's target from its migration file, as the migration would see it."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    migration = loader.disk_migrations[(state.app_label, state.migration)]
    project = loader.project_state((state.app_label, state.migration), at_end=False)
    for operation in migration.operations[: state.operation_index]:
        operation.state_forwards(state.app_label, project)
    operation = migration.operations[state.operation_index]
    if not isinstance(operation, BackfillOperation):
        raise ConfigurationError(
            f"Backfill {state.name} points at operation {state.operation_index} of "
            f"{state.app_label}.{state.migration}, which is no longer a backfill: the migration "
            "was edited after it ran. Restore it, or delete the backfill's state."
        )
    return operation.target(project.apps, state.app_label, Direction(state.direction))
