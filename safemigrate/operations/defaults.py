"""Change a column's default without touching its rows: ``AlterDbDefault``."""

from __future__ import annotations

from typing import Any, cast

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations import AlterField
from django.db.migrations.state import ProjectState

from safemigrate.operations.base import execute, only_changes, quote


class AlterDbDefault(AlterField):
    """Change a field's default: ``SET DEFAULT``/``DROP DEFAULT`` only, never a rewrite.

    Only the catalog changes, under a lock held for an instant; existing rows keep their
    values. A change of the Python ``default`` alone needs no SQL at all.
    """

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True

    def describe(self) -> str:
        return f"Alter the default of {self.model_name}.{self.name}"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._set_default(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._set_default(app_label, schema_editor, from_state, to_state)

    def _set_default(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        new = model._meta.get_field(self.name)
        if not only_changes(old, new, {"default", "db_default"}):
            raise ValueError(
                f"AlterDbDefault on {self.model_name}.{self.name} may change only the "
                "default: put other changes in an AlterField of their own."
            )
        if old.db_default == new.db_default:
            return
        change, params = "DROP DEFAULT", cast(Any, [])
        if new.has_db_default():
            sql, params = schema_editor.db_default_sql(new)
            change = f"SET DEFAULT {sql}"
        execute(
            schema_editor,
            f"ALTER TABLE {quote(schema_editor, model._meta.db_table)} ALTER COLUMN "
            f"{quote(schema_editor, new.column)} {change}",
            params,
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}_default"
