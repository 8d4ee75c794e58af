"""Change a column's default without touching its rows: ``AlterDbDefault``."""

from __future__ import annotations

from typing import Any, cast

from django.db.migrations.operations import AlterField

from safemigrate.declarations import Reach
from safemigrate.operations.base import Editor, SafeOperation, State, alter_table
from safemigrate.postgres.tables import quote_identifier


class AlterDbDefault(SafeOperation, AlterField):
    """Change a field's default: ``SET DEFAULT``/``DROP DEFAULT`` only, never a rewrite.

    Only the catalog changes, under a lock held for an instant; existing rows keep their
    values. A change of the Python ``default`` alone needs no SQL at all.
    """

    reach = Reach.OWN_TABLE
    docs_page = "columns"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        self._set_default(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        self._set_default(app_label, schema_editor, from_state, to_state)

    def _set_default(
        self, app_label: str, schema_editor: Editor, old_state: State, new_state: State
    ) -> None:
        """Move the column's database default from ``old_state``'s to ``new_state``'s."""
        if not (model := self.routed_model(app_label, schema_editor, new_state)):
            return
        old, new = self.altered_field(app_label, model, old_state, {"default", "db_default"})
        if old.db_default == new.db_default:
            return
        change, params = "DROP DEFAULT", cast(Any, [])
        if new.has_db_default():
            sql, params = schema_editor.db_default_sql(new)
            change = f"SET DEFAULT {sql}"
        alter_table(
            schema_editor,
            model._meta.db_table,
            f"ALTER COLUMN {quote_identifier(new.column)} {change}",
            params,
        )

    def describe(self) -> str:
        return f"Alter the default of {self.model_name}.{self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}_default"
