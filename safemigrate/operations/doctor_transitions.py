"""What an interrupted column replacement leaves, for ``--doctor`` to finish or undo.

A rename's expand or a type change killed half-way leaves its new (or shadow) column, its
sync trigger, perhaps some copies of indexes and constraints; its migration is not recorded.
Finishing applies the migration again (each step resumes); undoing drops the trigger and the
column, with whatever copies it carries. A sync trigger left after its contract (or type
change) was applied is dropped either way. The migration files say what each operation
leaves, so this works with or without the run history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader

from safemigrate.operations import transitions, triggers
from safemigrate.operations.renames import RenameFieldSafely
from safemigrate.operations.retype import AlterFieldTypeSafely
from safemigrate.operations.transitions import Placed
from safemigrate.postgres import catalog, columns
from safemigrate.postgres.tables import quote_identifier, quote_relation

#: (problem, finish label, undo label, finish, undo): the doctor makes its Finding of it.
Found = tuple[str, str, str, Callable[[], Any], Callable[[], Any]]


def transition_findings(
    connection: BaseDatabaseWrapper, run: Callable[..., Callable[[], None]], skip: set[Any]
) -> list[Found]:
    """Leftover sync triggers, and what interrupted expands and type changes left.

    ``run(*statements)`` makes an action that runs SQL under the lock timeout; ``skip`` names
    the migrations the run history already reports as stopped.
    """
    found = [
        _leftover(placed, table, trigger, run)
        for placed, table, trigger in transitions.leftover_triggers(connection)
    ]
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = loader.applied_migrations or {}
    for placed in transitions.disk_operations(loader):
        key = (placed.app_label, placed.migration)
        opens = isinstance(placed.operation, RenameFieldSafely | AlterFieldTypeSafely)
        if opens and key not in applied and key not in skip:
            found += filter(None, [_interrupted(connection, loader, placed, run)])
    return found


def _leftover(placed: Placed, table: str, trigger: str, run: Any) -> Found:
    drop = triggers.drop_sql(table, trigger)
    return (
        f"Sync trigger {trigger} on {table} outlived {placed.app_label}.{placed.migration}, "
        "which drops it",
        drop,
        drop,
        run(drop),
        run(drop),
    )


def _interrupted(
    connection: BaseDatabaseWrapper, loader: MigrationLoader, placed: Placed, run: Any
) -> Found | None:
    """What an unapplied expand or type change left: its column (or shadow) and trigger."""
    pair = transitions.sync_of(placed, connection, loader)
    if pair is None:
        return None
    model, sync = pair
    name = triggers.pgid(model, sync)
    with connection.cursor() as cursor:
        column = catalog.column_info(cursor, sync.table, sync.target) is not None
        trigger = columns.trigger_exists(cursor, sync.table, name)
    if not (column or trigger):
        return None
    drop = f"{triggers.drop_sql(sync.table, name)}; ALTER TABLE {quote_relation(sync.table)} "
    drop += f"DROP COLUMN IF EXISTS {quote_identifier(sync.target)}"
    app_label, migration = placed.app_label, placed.migration
    left = " and ".join(
        what
        for what, there in ((f"column {sync.target}", column), ("its trigger", trigger))
        if there
    )
    return (
        f"{type(placed.operation).__name__} of {app_label}.{migration} was interrupted: "
        f"{sync.table} has {left}, and the migration is not applied",
        f"manage.py safemigrate {app_label} {migration}  (its steps resume)",
        drop,
        lambda: call_command("safemigrate", app_label, migration, database=connection.alias),
        run(drop),
    )
