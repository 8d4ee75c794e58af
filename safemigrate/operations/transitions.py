"""Which expand/contract transitions the migration files leave open, and what they leave.

A rename is *open* from the release whose migrations hold its ``RenameFieldSafely`` to the
release whose migrations hold its ``FinishRenameField``: meanwhile its sync trigger must stay,
and ``register_open`` puts it in django-pgtrigger's registry so that ``pgtrigger prune``
keeps it and ``pgtrigger ls`` lists it. Once a contract (or a type change, whose trigger
lives only while it runs) is applied, its trigger must be gone: ``leftover_triggers`` finds
one that is not, and ``contracts_without_expand`` a contract whose expand is missing. Only
the migration files are read, never rendered, so this stays cheap at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.operations import triggers
from safemigrate.operations.renames import FinishRenameField, RenameFieldSafely
from safemigrate.operations.retype import AlterFieldTypeSafely, shadow_name
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


def open_renames(loader: MigrationLoader) -> list[Placed]:
    """The renames whose expand is on disk and whose contract is not (yet)."""
    placed = list(disk_operations(loader))
    closed = {
        p.operation.transition_key(p.app_label)
        for p in placed
        if isinstance(p.operation, FinishRenameField)
    }
    return [
        p
        for p in placed
        if isinstance(p.operation, RenameFieldSafely)
        and p.operation.transition_key(p.app_label) not in closed
    ]


def contracts_without_expand(loader: MigrationLoader) -> list[Placed]:
    """Contracts whose expand is not among their migration's ancestors."""
    found = []
    for placed in disk_operations(loader):
        if not isinstance(placed.operation, FinishRenameField):
            continue
        key = placed.operation.transition_key(placed.app_label)
        ancestors = loader.graph.forwards_plan((placed.app_label, placed.migration))
        expands = (
            other.transition_key(app)
            for app, name in ancestors
            for other in loader.disk_migrations[app, name].operations
            if isinstance(other, RenameFieldSafely)
        )
        if key not in set(expands):
            found.append(placed)
    return found


def sync_of(
    placed: Placed, connection: BaseDatabaseWrapper, loader: MigrationLoader | None = None
) -> tuple[Any, Sync] | None:
    """The model and the sync trigger of a transition operation: from the code's models,
    or (given a ``loader``) from the migration state after it when the code no longer has
    the model or the field; ``None`` when neither does."""
    try:
        return _sync(placed, apps, connection)
    except LookupError:
        if loader is None:
            return None
    state = loader.project_state((placed.app_label, placed.migration), at_end=True)
    try:
        return _sync(placed, state.apps, connection)
    except LookupError:
        return None


def _sync(placed: Placed, registry: Any, connection: Any) -> tuple[Any, Sync] | None:
    operation = placed.operation
    model = registry.get_model(placed.app_label, operation.model_name)
    if isinstance(operation, AlterFieldTypeSafely):
        column = model._meta.get_field(operation.name).column
        return model, Sync(model._meta.db_table, column, shadow_name(column), "NULL")
    sync = operation.sync_of(model._meta.get_field(operation.new_name), connection)
    return None if sync is None else (model, sync)


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
        for placed in open_renames(loader):
            if found := sync_of(placed, connection):
                model, sync = found
                triggers.register(placed.app_label, model._meta.object_name, sync)
    except Exception:  # never the reason a process does not start
        logger.warning("safemigrate could not register open transitions' triggers", exc_info=True)


def leftover_triggers(connection: BaseDatabaseWrapper) -> list[tuple[Placed, str, str]]:
    """Sync triggers still installed although the operation that drops them is applied:
    ``(operation, table, trigger)``."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = MigrationRecorder(connection).applied_migrations()
    found = []
    for placed in disk_operations(loader):
        closes = isinstance(placed.operation, FinishRenameField | AlterFieldTypeSafely)
        if not closes or (placed.app_label, placed.migration) not in applied:
            continue
        if (sync := sync_of(placed, connection, loader)) is None:
            continue
        model, pair = sync
        name = triggers.pgid(model, pair)
        with connection.cursor() as cursor:
            if columns.trigger_exists(cursor, pair.table, name):
                found.append((placed, pair.table, name))
    return found
