"""Where a backfill's batches run, and the requests that steer it: pause, resume, cancel.

``execute`` is what a backfill operation calls: it opens the backfill's state and runs its
batches in the migration, or hands them to task workers and waits for them (or not), as
``BACKFILL_MODE`` says. ``finish_pending`` lets a later ``safemigrate`` finish what workers
left; ``request`` is the command's and the admin's pause, resume and cancel.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.backfill.batches import Target
from safemigrate.backfill.listing import backfill_table
from safemigrate.backfill.operation import BackfillOperation
from safemigrate.backfill.runner import (
    DOCS,
    UNFINISHED,
    backfill_name,
    cancelled_message,
    load_target,
    locate,
    open_state,
    progress_of,
    report,
    run_inline,
)
from safemigrate.conf import conf
from safemigrate.exceptions import BackfillStopped, ConfigurationError
from safemigrate.models import BackfillRequest, BackfillState, BackfillStatus, Direction
from safemigrate.postgres.tables import relation_exists

_WAIT_POLL_S = 0.5

#: ``--backfill-ACTION NAME``: the request each action makes (``None`` lifts a pause).
BACKFILL_ACTIONS: dict[str, BackfillRequest | None] = {
    "pause": BackfillRequest.PAUSE,
    "resume": None,
    "cancel": BackfillRequest.CANCEL,
}


def enqueue(state: BackfillState, alias: str) -> None:
    """Hand the next slice of batches to the task backend (which the tasks module needs)."""
    from safemigrate.backfill.tasks import enqueue as enqueue_task

    enqueue_task(state, alias)


def execute(
    operation: BackfillOperation,
    app_label: str,
    connection: BaseDatabaseWrapper,
    target: Target | None,
    direction: Direction,
    *,
    wait: bool = False,
) -> None:
    """Run one direction of a backfill operation in the mode the settings ask for.

    ``wait`` waits for task workers even in ``tasks-pending`` mode: an operation whose next
    step needs every row filled (an expand/contract switch) cannot leave them pending.
    """
    alias = connection.alias
    _require_state_table(connection, app_label)
    name, where = _identity(operation, app_label)
    state = open_state(alias, name, direction, where, target)
    if state.status == BackfillStatus.DONE or target is None:
        report(f"backfill {name}: {state.status}, nothing to do.")
        return
    mode = conf.backfill_mode
    if mode == "inline":
        run_inline(state, target, alias)
        return
    enqueue(state, alias)
    if mode == "tasks-wait" or wait:
        wait_for_workers(state, alias)
        return
    state.refresh_from_db(using=alias)
    if state.status == BackfillStatus.DONE:  # A backend that runs tasks as they are enqueued.
        report(f"backfill {name}: done by the task backend, {state.rows_done:,} rows.")
    else:
        report(
            f"backfill {name}: handed to task workers; it stays pending until they (or a "
            "later safemigrate) finish it."
        )


def _identity(operation: BackfillOperation, app_label: str) -> tuple[str, dict[str, Any]]:
    """The backfill's name, and where its operation is, as its state records them."""
    migration, index, operations = locate(operation, app_label)
    name = backfill_name(app_label, migration, index, operations)
    return name, {"app_label": app_label, "migration": migration, "operation_index": index}


def forget(operation: BackfillOperation, app_label: str, alias: str, direction: Direction) -> None:
    """Forget a backfill's checkpoint, so that its next run starts from the first row.

    For an operation whose rows must be filled again: a sync trigger (re)installed after
    some rows were filled means that writes made meanwhile may have missed them.
    """
    with connections[alias].cursor() as cursor:
        if not relation_exists(cursor, BackfillState._meta.db_table):
            return
    name, _ = _identity(operation, app_label)
    BackfillState.objects.using(alias).filter(name=name, direction=direction).delete()


def _require_state_table(connection: BaseDatabaseWrapper, app_label: str) -> None:
    with connection.cursor() as cursor:
        if relation_exists(cursor, BackfillState._meta.db_table):
            return
    raise ConfigurationError(
        f"A backfill in {app_label!r} runs before safemigrate's own tables exist. Fix: add "
        "('safemigrate', '0003_backfill_state') to the dependencies of its migration. " + DOCS
    )


def wait_for_workers(state: BackfillState, alias: str) -> None:
    """Follow a backfill that task workers run, until it ends; fail if it did not finish."""
    progress = progress_of(state)
    paused = False
    while True:
        state.refresh_from_db(using=alias)
        progress.update(state)
        if state.status in (BackfillStatus.DONE, BackfillStatus.FAILED, BackfillStatus.CANCELLED):
            break
        if (state.status == BackfillStatus.PAUSED) != paused:
            paused = not paused
            progress.note("paused by request; waiting." if paused else "resumed.")
        time.sleep(_WAIT_POLL_S)
    progress.close(state)
    if state.status == BackfillStatus.CANCELLED:
        raise BackfillStopped(cancelled_message(state))
    if state.status == BackfillStatus.FAILED:
        raise BackfillStopped(
            f"Backfill {state.name} failed on a task worker: {state.error}\nIts checkpoint is "
            f"kept: fix the cause and run safemigrate again to resume. {DOCS}"
        )


def finish_pending(alias: str) -> None:
    """Finish, in this process, backfills that task workers were left to run.

    Only backfills whose migration is recorded as applied: an unfinished backfill of an
    unapplied migration resumes when ``migrate`` runs that migration again.
    """
    connection = connections[alias]
    with connection.cursor() as cursor:
        if not relation_exists(cursor, BackfillState._meta.db_table):
            return
    unfinished = list(BackfillState.objects.using(alias).filter(status__in=UNFINISHED))
    if not unfinished:
        return  # the common case: no need to read every applied migration
    applied = MigrationRecorder(connection).applied_migrations()
    for state in unfinished:
        if (state.app_label, state.migration) not in applied:
            continue
        target = load_target(state)
        if target is not None:
            report(f"backfill {state.name}: finishing what task workers left.")
            run_inline(state, target, alias)


def request(alias: str, name: str, action: BackfillRequest | None) -> BackfillState:
    """Ask a running backfill to pause or cancel (or lift a pause, with ``None``)."""
    states = BackfillState.objects.using(alias).filter(name=name, status__in=UNFINISHED)
    state = states.order_by("-updated_at").first()
    if state is None:
        raise ConfigurationError(
            f"No unfinished backfill is named {name!r}; safemigrate --backfills lists them."
        )
    state.request = action or BackfillRequest.NONE
    BackfillState.objects.using(alias).filter(pk=state.pk).update(request=state.request)
    on_workers = state.status == BackfillStatus.PAUSED and state.mode != "inline"
    if action == BackfillRequest.CANCEL and on_workers:
        # No worker holds a paused backfill: cancel it here.
        BackfillState.objects.using(alias).filter(pk=state.pk).update(
            status=BackfillStatus.CANCELLED, request=BackfillRequest.NONE
        )
    if action is None and on_workers:
        BackfillState.objects.using(alias).filter(pk=state.pk).update(status=BackfillStatus.PENDING)
        enqueue(state, alias)
    return state


def backfill_command(alias: str, options: Mapping[str, Any]) -> str | None:
    """Answer ``--backfills`` or ``--backfill-ACTION NAME``; ``None`` if neither was given."""
    if options.get("backfills"):
        return backfill_table(alias)
    for action, request_made in BACKFILL_ACTIONS.items():
        name = options.get(f"backfill_{action}")
        if name:
            state = request(alias, name, request_made)
            return f"Backfill {state.name}: {action} requested ({state.status})."
    return None
