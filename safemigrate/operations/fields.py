"""Remove a field in two deploys: from Django's state first, from the database later.

``RemoveField`` drops the column while the old code, still serving requests during the
deploy, selects and inserts it: those queries fail until every process runs the new code.
Step one forgets the field in Django's state and keeps the column, made nullable so the new
code's inserts (which leave it out) work; step two, in a later deploy, drops the column.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations import RemoveField
from django.db.models import Field

from safemigrate.declarations import Phase, Reach
from safemigrate.operations.base import Editor, SafeOperation, State, alter_table, probe
from safemigrate.operations.constraints import set_not_null
from safemigrate.postgres import catalog
from safemigrate.postgres.tables import quote_identifier


class RemoveFieldFromState(SafeOperation, RemoveField):
    """Remove a field from Django's state only; its column stays, nullable.

    Follow it, once no running code uses the field, with ``RemoveFieldFromDatabase``.
    Backwards puts the field back and restores NOT NULL with a validated check.
    """

    reach = Reach.OWN_TABLE
    docs_page = "fields"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, from_state)):
            return
        table, column = model._meta.db_table, model._meta.get_field(self.name).column
        info = probe(schema_editor, catalog.column_info, table, column, default=(False, False))
        if info is not None and not info[0] and not info[1]:
            # Still NOT NULL without a database default: the new code's inserts would fail.
            alter_table(
                schema_editor, table, f"ALTER COLUMN {quote_identifier(column)} DROP NOT NULL"
            )

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        field = model._meta.get_field(self.name)
        if not field.null and not field.has_db_default():
            set_not_null(schema_editor, model._meta.db_table, field.column)

    def describe(self) -> str:
        return f"Remove field {self.name} from {self.model_name} (state only; column kept)"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name_lower}_from_state"


class RemoveFieldFromDatabase(SafeOperation):
    """Drop the column of a field ``RemoveFieldFromState`` already removed from the state.

    ``field`` is the removed field's definition, used backwards to put the column back
    (nullable and empty: the dropped data cannot come back).
    """

    reach = Reach.OWN_TABLE
    #: Old code still uses the column this drops: it runs only once the old code is gone.
    deploy_phase = Phase.POST_DEPLOY
    docs_page = "fields"

    def __init__(self, model_name: str, name: str, field: Field[Any, Any]) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"model_name": self.model_name, "name": self.name, "field": self.field}
        return (type(self).__name__, [], kwargs)

    def state_forwards(self, app_label: str, state: State) -> None:
        """The field left the state in ``RemoveFieldFromState``: nothing changes here."""

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, from_state):
            column = quote_identifier(self._column(model).column)
            alter_table(
                schema_editor, model._meta.db_table, f"DROP COLUMN IF EXISTS {column} CASCADE"
            )

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        field = self._column(model)
        remote: Any = field.remote_field
        if remote and isinstance(remote.model, str):
            remote.model = to_state.apps.get_model(remote.model)
        column = f"{quote_identifier(field.column)} {field.db_type(schema_editor.connection)} NULL"
        alter_table(schema_editor, model._meta.db_table, f"ADD COLUMN IF NOT EXISTS {column}")

    def describe(self) -> str:
        return f"Drop column of removed field {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name.lower()}_{self.name.lower()}_from_database"

    def _column(self, model: Any) -> Any:
        """The removed field as a nullable column of ``model``'s table."""
        field = self.field.clone()  # type: ignore[attr-defined, unused-ignore]
        field.set_attributes_from_name(self.name)
        field.model = model
        field.null = True
        return field


class SafeRemoveField(RemoveFieldFromState):
    """``RemoveFieldFromState`` under the name the analysis rules (SM105, SM107) suggest.

    Drop the column in a later release with ``RemoveFieldFromDatabase``.
    """
