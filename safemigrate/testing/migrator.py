"""Move a test database between migration states, and hand back each state's models.

A data migration is tested the way it will run: migrate to the state before it, create rows
with that state's (historical) models, migrate forward through it, and look at the rows with
the models of the state after it. The migrator drives Django's own ``MigrationExecutor``, so
what runs is exactly what ``migrate`` would run, postconditions included; it sends no
``pre_migrate``/``post_migrate`` signals, whose handlers expect the current models.
"""

from __future__ import annotations

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
from safemigrate.testing.reversibility import Progress, Target, check_migrations


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
        """
        self.migrate([self.target(app_label, migration)])
        return self.apps()

    def migrate(self, targets: list[Target], progress: Progress | None = None) -> None:
        """Migrate to ``targets`` as ``migrate`` would."""
        self.executor(progress).migrate(targets)

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

    def check_migrations(self, *app_labels: str) -> None:
        """Assert every migration of the apps (the project's, by default) is reversible
        (applied, unapplied, applied again) and that ``makemigrations`` has nothing to add."""
        check_migrations(self, app_labels)

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
