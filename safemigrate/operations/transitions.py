"""Which expand/contract transitions the migration files leave open, and what they leave.

A rename is *open* from the release whose migrations hold its ``RenameFieldSafely`` to the
release whose migrations hold its ``FinishRenameField`` (a table rebuild, from
``RebuildTableSafely`` to ``FinishRebuildTable``): meanwhile its trigger must stay, and
``register_open`` puts it in django-pgtrigger's registry so that ``pgtrigger prune`` keeps
it and ``pgtrigger ls`` lists it. Once a contract (or a type change, whose trigger lives
only while it runs) is applied, its trigger must be gone: ``leftover_triggers`` finds one
that is not, and ``contracts_without_expand`` a contract whose expand is missing. At
start-up only the migration files are read, never rendered, so this stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.operations import triggers
from safemigrate.operations.renames import FinishRenameField, RenameFieldSafely
from safemigrate.operations.retype import AlterFieldTypeSafely, shadow_name
from safemigrate.operations.shadow import FinishRebuildTable, RebuildTableSafely, archive_trigger
from safemigrate.operations.triggers import Sync
from safemigrate.postgres import columns

logger = logging.getLogger("safemigrate.operations")


@dataclass(frozen=True)
class Placed:
    """An operation and the migration that holds it."""

    app_label: str
    migration: str
    operation: Any


def disk_operations(loader: MigrationLoader) -> Iterator[Placed]:
    """Every operation of every migration on disk, with its migration."""
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        for operation in migration.operations:
            yield Placed(app_label, name, operation)


#: Each operation that opens a transition across deploys, and the one that closes it.
PAIRS: dict[type[Any], type[Any]] = {
    RenameFieldSafely: FinishRenameField,
    RebuildTableSafely: FinishRebuildTable,
}
#: The operations after which their trigger must be gone once they are applied.
CLOSING = (FinishRenameField, FinishRebuildTable, AlterFieldTypeSafely)


def open_transitions(loader: MigrationLoader) -> list[Placed]:
    """The transitions whose opening operation is on disk and whose closing one is not."""
    placed = list(disk_operations(loader))
    closes = tuple(PAIRS.values())
    closed = {_key(p.operation, p.app_label) for p in placed if isinstance(p.operation, closes)}
    return [
        p
        for p in placed
        if isinstance(p.operation, tuple(PAIRS)) and _key(p.operation, p.app_label) not in closed
    ]


def _key(operation: Any, app_label: str) -> Any:
    return operation.transition_key(app_label)


def contracts_without_expand(loader: MigrationLoader) -> list[Placed]:
    """Closing operations whose opening one is not among their migration's ancestors."""
    found = []
    for placed in disk_operations(loader):
        if not isinstance(placed.operation, tuple(PAIRS.values())):
            continue
        key = _key(placed.operation, placed.app_label)
        ancestors = loader.graph.forwards_plan((placed.app_label, placed.migration))
        expands = (
            _key(other, app)
            for app, name in ancestors
            for other in loader.disk_migrations[app, name].operations
            if isinstance(other, tuple(PAIRS))
        )
        if key not in set(expands):
            found.append(placed)
    return found


def sync_of(
    placed: Placed, connection: BaseDatabaseWrapper, loader: MigrationLoader | None = None
) -> tuple[Any, Sync] | None:
    """The model and the sync of a column transition (a rename or a type change)."""
    found: tuple[Any, Sync] | None = _with_model(
        placed, loader, lambda model: _sync(placed, model, connection)
    )
    return found


def trigger_of(
    placed: Placed, connection: BaseDatabaseWrapper, loader: MigrationLoader | None = None
) -> tuple[Any, pgtrigger.Trigger] | None:
    """The model and the trigger of a transition operation: its sync, or a rebuilt table's
    archive copy."""
    if isinstance(placed.operation, RebuildTableSafely | FinishRebuildTable):
        copy: tuple[Any, pgtrigger.Trigger] | None = _with_model(placed, loader, archive_trigger)
        return copy
    found = sync_of(placed, connection, loader)
    return None if found is None else (found[0], triggers.SyncTrigger(found[1]))


def _with_model(placed: Placed, loader: MigrationLoader | None, build: Any) -> Any:
    """``(model, build(model))``: the code's model, or (given a ``loader``) the migration
    state's after the operation when the code no longer has the model or the field."""
    registries: list[Any] = [apps]
    if loader is not None:
        registries.append(
            lambda: loader.project_state((placed.app_label, placed.migration), at_end=True).apps
        )
    for registry in registries:
        try:
            resolved = registry() if callable(registry) else registry
            model = resolved.get_model(placed.app_label, placed.operation.model_name)
            built = build(model)
        except LookupError:
            continue
        return None if built is None else (model, built)
    return None


def _sync(placed: Placed, model: Any, connection: Any) -> Sync | None:
    operation = placed.operation
    if isinstance(operation, AlterFieldTypeSafely):
        column = model._meta.get_field(operation.name).column
        return Sync(model._meta.db_table, column, shadow_name(column), "NULL")
    sync: Sync | None = operation.sync_of(model._meta.get_field(operation.new_name), connection)
    return sync


def register_open() -> None:
    """Register the sync trigger of every open rename with django-pgtrigger.

    Called once per process when the apps are ready; never fails the application: a
    migration file that does not import is logged and skipped.
    """
    if not apps.is_installed("pgtrigger"):
        return
    try:
        loader = MigrationLoader(None, load=False)
        loader.load_disk()
        connection = connections[DEFAULT_DB_ALIAS]
        for placed in open_transitions(loader):
            if found := trigger_of(placed, connection):
                model, trigger = found
                table = model._meta.db_table
                triggers.register(placed.app_label, model._meta.object_name, table, trigger)
    except Exception:  # never the reason a process does not start
        logger.warning("safemigrate could not register open transitions' triggers", exc_info=True)


def leftover_triggers(connection: BaseDatabaseWrapper) -> list[tuple[Placed, str, str]]:
    """Triggers still installed although the operation that drops them is applied:
    ``(operation, table, trigger)``."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = MigrationRecorder(connection).applied_migrations()
    found = []
    for placed in disk_operations(loader):
        closes = isinstance(placed.operation, CLOSING)
        if not closes or (placed.app_label, placed.migration) not in applied:
            continue
        if (pair := trigger_of(placed, connection, loader)) is None:
            continue
        model, trigger = pair
        table, name = model._meta.db_table, triggers.pgid(model, trigger)
        with connection.cursor() as cursor:
            if columns.trigger_exists(cursor, table, name):
                found.append((placed, table, name))
    return found
