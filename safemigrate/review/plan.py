"""The plan ``migrate`` would run, worked out without running it.

The runbook and the approval gate need the plan before the command takes any lock, so this
resolves targets the way ``migrate`` does (app label, migration prefix or ``zero``, else every
leaf) with Django's public loader API, instead of reaching into ``migrate``'s ``handle()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import CommandError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]


@dataclass(frozen=True)
class PlanStep:
    """One migration of the plan, and whether it is unapplied (``backwards``)."""

    migration: Migration
    backwards: bool

    @property
    def key(self) -> Key:
        return (self.migration.app_label, self.migration.name)

    @property
    def label(self) -> str:
        return f"{self.migration.app_label}.{self.migration.name}"


def resolve_targets(
    loader: MigrationLoader, app_label: str | None, migration_name: str | None
) -> list[tuple[str, str | None]]:
    """Return ``migrate``'s targets for the same positional arguments."""
    if app_label and migration_name:
        if migration_name == "zero":
            return [(app_label, None)]
        try:
            migration = loader.get_migration_by_prefix(app_label, migration_name)
        except AmbiguityError as error:
            raise CommandError(
                f"More than one migration matches {migration_name!r} in app {app_label!r}."
            ) from error
        except KeyError as error:
            raise CommandError(
                f"Cannot find a migration matching {migration_name!r} from app {app_label!r}."
            ) from error
        return [(app_label, migration.name)]
    if app_label:
        if app_label not in loader.migrated_apps:
            raise CommandError(f"App {app_label!r} does not have migrations.")
        return [key for key in loader.graph.leaf_nodes() if key[0] == app_label]
    return list(loader.graph.leaf_nodes())


def pending_plan(
    connection: BaseDatabaseWrapper,
    app_label: str | None = None,
    migration_name: str | None = None,
) -> tuple[MigrationExecutor, list[PlanStep]]:
    """Return an executor (its loader knows what is applied) and the plan ``migrate`` would run."""
    executor = MigrationExecutor(connection)
    targets = resolve_targets(executor.loader, app_label, migration_name)
    steps = [
        PlanStep(migration, backwards) for migration, backwards in executor.migration_plan(targets)
    ]
    return executor, steps


def rollback_target(loader: MigrationLoader, step: PlanStep) -> str:
    """Return the migration of the same app to go back to before ``step``: its parent, or zero.

    Going back to the parent unapplies ``step`` and everything after it in that app, which is
    what undoing a deploy means.
    """
    parents = [
        parent.key
        for parent in loader.graph.node_map[step.key].parents
        if parent.key[0] == step.key[0]
    ]
    return max(parents)[1] if parents else "zero"


def applied_leaves(loader: MigrationLoader) -> dict[str, str]:
    """Return the latest applied migration of each app: the schema state the plan starts from."""
    leaves: dict[str, str] = {}
    for app_label, name in sorted(loader.applied_migrations or {}):
        leaves[app_label] = name
    return leaves
