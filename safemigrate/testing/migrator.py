"""Move a test database between migration states, and hand back each state's models.

A data migration is tested the way it will run: migrate to the state before it, create rows
with that state's (historical) models, migrate forward through it, and look at the rows with
the models of the state after it. The migrator drives Django's own ``MigrationExecutor``, so
what runs is exactly what ``migrate`` would run, postconditions included; it sends no
``pre_migrate``/``post_migrate`` signals, whose handlers expect the current models. A state
behind a migration that cannot be unapplied is reached by a rebuild (``rebuild``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations import Migration
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import StateApps
from django.db.models import Model

from safemigrate.testing.factories import create_batch, model_factory
from safemigrate.testing.rebuild import (
    Progress,
    Target,
    cannot_unapply,
    empty_database,
    ends,
    state_after,
)
from safemigrate.testing.reversibility import check_migrations


class Migrator:
    """Migrate one database of a test to any state, forwards or backwards."""

    def __init__(self, database: str = DEFAULT_DB_ALIAS) -> None:
        if type(settings.MIGRATION_MODULES).__name__ == "DisableMigrations":
            raise RuntimeError(
                "The migrator needs the project's migrations, and this test run disabled "
                "them (pytest --nomigrations): run migration tests without it."
            )
        self.database = database

    def executor(self, progress: Progress | None = None) -> MigrationExecutor:
        """A fresh executor: its loader reads which migrations are applied now."""
        return MigrationExecutor(connections[self.database], progress)

    def apply(self, app_label: str, migration: str | None) -> StateApps:
        """Migrate ``app_label`` to ``migration``, forwards or backwards; return the models.

        ``migration`` is a name or a unique prefix of one (``"0005"``), or ``None`` (or
        ``"zero"``) to unapply all of the app's migrations.

        When every migration on the way back can be unapplied, they are, as ``migrate``
        would. When one cannot (``IrreversibleError``), the test database is rebuilt
        instead: everything the migrations made is dropped, and the migrations of the state
        asked for are applied from zero. Rows the test made before are gone then, as they
        would be after a real rollback past a data change that keeps nothing to undo.
        """
        target = [self.target(app_label, migration)]
        executor = self.executor()
        plan = executor.migration_plan(target)
        if cannot_unapply(plan):
            self.rebuild(target)
        else:
            executor.migrate(target, plan=plan)
        return self.apps()

    def migrate(self, targets: list[Target], progress: Progress | None = None) -> None:
        """Migrate to ``targets`` as ``migrate`` would: an irreversible migration on the way
        back raises ``IrreversibleError``."""
        self.executor(progress).migrate(targets)

    def rebuild(self, targets: list[Target], progress: Progress | None = None) -> None:
        """Reach the state migrating to ``targets`` would leave, from an empty database.

        Drops every table, view, sequence, function, type and collation the migrations
        made (extensions, schemas and the tables of apps without migrations stay), then
        applies the migrations of that state, all apps', from zero. Only on pytest-django's
        test database, during a test: anywhere else it raises ``RebuildRefused`` before
        touching anything.
        """
        executor = self.executor()
        keep = state_after(executor.loader, executor.migration_plan(targets))
        empty_database(connections[self.database], executor.loader.unmigrated_apps)
        self.migrate(ends(executor.loader.graph, keep), progress)

    def target(self, app_label: str, migration: str | None) -> Target:
        """Resolve a migration name or prefix of ``app_label`` as ``migrate`` does."""
        if migration in (None, "zero"):
            return (app_label, None)
        assert migration is not None
        loader = self.executor().loader
        try:
            found: Migration = loader.get_migration_by_prefix(app_label, migration)
        except AmbiguityError:
            raise LookupError(
                f"More than one migration of {app_label!r} starts with {migration!r}: "
                "give more of its name."
            ) from None
        except KeyError:
            raise LookupError(f"{app_label!r} has no migration {migration!r}.") from None
        return (app_label, found.name)

    def apps(self) -> StateApps:
        """The historical models of the database as it is now: every applied migration."""
        loader = self.executor().loader
        applied = [key for key in loader.applied_migrations or {} if key in loader.graph.nodes]
        return loader.project_state(applied, at_end=True).apps

    def factory(self, model: type[Model], **declarations: Any) -> Any:
        """A factory-boy factory for ``model`` (a historical model), on this database."""
        return model_factory(model, self.database, **declarations)

    def create_batch(
        self, model: type[Model], size: int, *, chunk: int = 1000, **declarations: Any
    ) -> int:
        """Insert ``size`` rows of ``model`` built by factory-boy, ``chunk`` at a time."""
        return create_batch(model, size, database=self.database, chunk=chunk, **declarations)

    def check_migrations(
        self, *app_labels: str, irreversible: Mapping[str, str] | None = None
    ) -> None:
        """Assert every migration of the apps (the project's, by default) is reversible
        (applied, unapplied, applied again) and that ``makemigrations`` has nothing to add.

        ``irreversible`` acknowledges the migrations meant to be irreversible, each
        ``"app_label.migration_name"`` with the reason it cannot be undone: the check
        rebuilds below them instead of unapplying them, and checks every other migration.
        """
        check_migrations(self, app_labels, irreversible or {})

    def reset(self) -> None:
        """Empty every table and apply every migration: the database the next test expects.

        Every table, not only those of today's models (as ``flush`` does): rows created with
        an older state's models may sit in tables no current model has.
        """
        connection = connections[self.database]
        recorder = MigrationRecorder.Migration._meta.db_table
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        flush = connection.ops.sql_flush(
            no_style(), [t for t in tables if t != recorder], allow_cascade=True
        )
        connection.ops.execute_sql_flush(flush)
        try:
            self.migrate(self.executor().loader.graph.leaf_nodes())
        except Exception as error:
            raise RuntimeError(
                "The migrator could not apply every migration again after the test "
                f"({type(error).__name__}: {error}); the tests after it may fail for that. "
                "A migration whose backwards step leaves something behind does this: see "
                "the test's own failure."
            ) from error
