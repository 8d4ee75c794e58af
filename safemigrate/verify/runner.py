"""Run a migration's postconditions on their own: what the rehearsal checks on its copy."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader

from safemigrate.exceptions import ConfigurationError
from safemigrate.verify.operation import PostconditionOperation
from safemigrate.verify.results import CheckResult


def run_postconditions(
    connection: BaseDatabaseWrapper, app_label: str, migration_name: str
) -> list[CheckResult]:
    """Run the checks migration ``app_label.migration_name`` declares against ``connection``.

    Each check sees the models as they are at its place in the migration, as it does when the
    migration runs; the database should be in the state the migration left. A check that
    fails is returned, not raised; a query that breaks raises. Nothing is recorded.
    """
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    key = (app_label, migration_name)
    if key not in loader.graph.nodes:
        raise ConfigurationError(f"There is no migration {app_label}.{migration_name}.")
    migration = loader.graph.nodes[key]
    state = loader.project_state(key, at_end=False)
    results = []
    with connection.schema_editor(atomic=False) as editor:
        for operation in migration.operations:
            if isinstance(operation, PostconditionOperation):
                results.append(operation.evaluate(app_label, editor, state))
            operation.state_forwards(app_label, state)
    return results
