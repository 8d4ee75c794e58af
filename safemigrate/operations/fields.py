"""Remove a field in two deploys: from Django's state first, from the database later.

``RemoveField`` drops the column while the old code, still serving requests during the
deploy, selects and inserts it: those queries fail until every process runs the new code.
Step one forgets the field in Django's state and keeps the column, made nullable so the new
code's inserts (which leave it out) work; step two, in a later deploy, drops the column.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations import RemoveField
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models import Field

from safemigrate.declarations import Phase
from safemigrate.operations.base import execute, probe, quote
from safemigrate.operations.constraints import set_not_null
from safemigrate.postgres import catalog


class RemoveFieldFromState(RemoveField):
    """Remove a field from Django's state only; its column stays, nullable.

    Follow it, once no running code uses the field, with ``RemoveFieldFromDatabase``.
    Backwards puts the field back and restores NOT NULL with a validated check.
    """

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True

    def describe(self) -> str:
        return f"Remove field {self.name} from {self.model_name} (state only; column kept)"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        table, column = model._meta.db_table, field.column
        info = probe(schema_editor, catalog.column_info, table, column, default=(False, False))
        if info is None or info[0] or info[1]:
            return  # gone, already nullable, or filled by a database default: inserts work
        execute(
            schema_editor,
            f"ALTER TABLE {quote(schema_editor, table)} ALTER COLUMN "
            f"{quote(schema_editor, column)} DROP NOT NULL",
        )

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        if not field.null and not field.has_db_default():
            set_not_null(schema_editor, model._meta.db_table, field.column)

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name_lower}_from_state"


class RemoveFieldFromDatabase(Operation):
    """Drop the column of a field ``RemoveFieldFromState`` already removed from the state.

    ``field`` is the removed field's definition, used backwards to put the column back
    (nullable and empty: the dropped data cannot come back).
    """

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True
    #: Old code still uses the column this drops: it runs only once the old code is gone.
    deploy_phase = Phase.POST_DEPLOY

    def __init__(self, model_name: str, name: str, field: Field[Any, Any]) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"model_name": self.model_name, "name": self.name, "field": self.field}
        return (type(self).__name__, [], kwargs)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """The field left the state in ``RemoveFieldFromState``: nothing changes here."""

    def describe(self) -> str:
        return f"Drop column of removed field {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name.lower()}_{self.name.lower()}_from_database"

    def _column(self, model: Any, connection: Any) -> tuple[str, Field[Any, Any]]:
        field = self.field.clone()  # type: ignore[attr-defined, unused-ignore]
        field.set_attributes_from_name(self.name)
        field.model = model
        field.null = True
        return model._meta.db_table, field

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            table, field = self._column(model, schema_editor.connection)
            execute(
                schema_editor,
                f"ALTER TABLE {quote(schema_editor, table)} "
                f"DROP COLUMN IF EXISTS {quote(schema_editor, str(field.column))} CASCADE",
            )

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table, field = self._column(model, schema_editor.connection)
        remote: Any = field.remote_field
        if remote and isinstance(remote.model, str):
            remote.model = to_state.apps.get_model(remote.model)
        db_type = field.db_type(schema_editor.connection)
        execute(
            schema_editor,
            f"ALTER TABLE {quote(schema_editor, table)} ADD COLUMN IF NOT EXISTS "
            f"{quote(schema_editor, str(field.column))} {db_type} NULL",
        )


class SafeRemoveField(RemoveFieldFromState):
    """``RemoveFieldFromState`` under the name the analysis rules (SM105, SM107) suggest.

    Drop the column in a later release with ``RemoveFieldFromDatabase``.
    """
