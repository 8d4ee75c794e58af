"""Rename a model's table across two deploys, with a view bridging the old name meanwhile.

``RenameModel`` renames the table: until every process runs the new code, the old code's
queries name a table that is gone. ``RenameModelSafely`` (pre-deploy) renames the table and,
in the same transaction, creates a view under the old name: a view on one table is
updatable, so the old code reads and writes through it (``INSERT ... RETURNING`` included,
the table's defaults and identity applied). The foreign keys pointing at the model take the
names ``RenameModel`` gives them, added ``NOT VALID`` and validated before the old ones go.
``FinishRenameModel`` (post-deploy) drops the view.

A model with many-to-many fields, or that one points at, is refused: ``RenameModel`` renames
their tables and columns too, which no view can bridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import NotSupportedError
from django.db.migrations.operations import RenameModel

from safemigrate.declarations import Phase
from safemigrate.operations.base import (
    DOCS,
    Editor,
    NonAtomicOperation,
    SafeOperation,
    State,
    alter_table,
    checkpoint,
    execute,
    name_fragment,
    probe,
)
from safemigrate.operations.constraints import FK_SUFFIX, constraint_exists, validate_constraint
from safemigrate.postgres.tables import quote_identifier, quote_relation, relation_exists, sibling

PAGE = "rename-table"


def _views(table: str, name: str) -> str:
    """SQL creating the view ``name`` on every column of ``table`` (in its schema)."""
    return f"CREATE OR REPLACE VIEW {quote_relation(sibling(table, name))} AS SELECT * FROM " + (
        quote_relation(table)
    )


def _bare(table: str) -> str:
    """A table's own name, without its schema: what ``RENAME TO`` takes."""
    return table.rsplit('"."', 1)[-1].strip('"') if table.startswith('"') else table


class _TableRename:
    """The model's table under its old and new names, and the foreign keys pointing at it."""

    def __init__(self, editor: Editor, old_model: Any, new_model: Any, operation: str) -> None:
        self.editor, self.operation = editor, operation
        self.old_model, self.new_model = old_model, new_model
        self.old, self.new = old_model._meta.db_table, new_model._meta.db_table

    def exists(self, table: str) -> bool:
        return bool(probe(self.editor, relation_exists, table, default=True))

    def refuse_many_to_many(self, label: str) -> None:
        meta = self.old_model._meta
        through = [f.name for f in meta.local_many_to_many] + [
            r.name for r in meta.related_objects if r.many_to_many
        ]
        if through:
            raise NotSupportedError(
                f"{label} cannot bridge {self.old} to {self.new} with a view: RenameModel "
                f"also renames the tables and columns of its many-to-many relations "
                f"({', '.join(through)}). Set db_table = {self.old!r} on the renamed model "
                f"instead, or follow {DOCS}{PAGE}.md."
            )

    def rename(self, source: Any, target: Any) -> None:
        """Rename ``source``'s table to ``target``'s and bridge the old name with a view."""
        old, new = source._meta.db_table, target._meta.db_table
        view_sql = _views(new, _bare(old))
        if self.editor.collect_sql or not self.exists(new):
            rename = f"ALTER TABLE {quote_relation(old)} RENAME TO {quote_identifier(_bare(new))}"
            execute(self.editor, f"{rename}; {view_sql}")
        else:
            execute(self.editor, view_sql)
        checkpoint(self.editor, self.operation, f"rename {old} to {new}")

    def unbridge(self, source: Any, target: Any) -> None:
        """Drop the view of ``source``'s name and rename ``target``'s table back to it."""
        old, new = source._meta.db_table, target._meta.db_table
        drop = f"DROP VIEW IF EXISTS {quote_relation(old)}"
        if self.editor.collect_sql or self.exists(new):
            back = f"ALTER TABLE {quote_relation(new)} RENAME TO {quote_identifier(_bare(old))}"
            execute(self.editor, f"{drop}; {back}")

    def move_foreign_keys(self, before: State, after: State, app_label: str, to: Any) -> None:
        """Give each foreign key pointing at the model the name Django gives it for ``to``:
        the new one added ``NOT VALID`` and validated, then the old one dropped."""
        for relation in self.old_model._meta.related_objects:
            field = relation.field
            if relation.many_to_many or not field.db_constraint:
                continue
            model = _referencing(after, relation, to, app_label)
            new_field = model._meta.get_field(field.name)
            self._move(model, field, new_field)

    def _move(self, model: Any, old_field: Any, new_field: Any) -> None:
        editor: Any = self.editor
        table = model._meta.db_table
        create = editor._create_fk_sql(model, new_field, FK_SUFFIX)
        name = str(create.parts["name"]).strip('"')
        old_names: list[str] = []
        if not editor.collect_sql:
            old_names = editor._constraint_names(model, [old_field.column], foreign_key=True)
        if not constraint_exists(editor, table, name):
            execute(editor, f"{create} NOT VALID")
            checkpoint(editor, self.operation, f"add {name} not valid")
        validate_constraint(editor, table, name)
        for other in old_names:
            if other != name:
                alter_table(editor, table, f"DROP CONSTRAINT IF EXISTS {quote_identifier(other)}")


def _referencing(state: State, relation: Any, to: Any, app_label: str) -> Any:
    """The referencing model in ``state`` (the renamed model itself, for a self-reference)."""
    if relation.related_model._meta.label_lower == relation.model._meta.label_lower:
        return to
    meta = relation.related_model._meta
    return state.apps.get_model(meta.app_label, meta.model_name)


class RenameModelSafely(NonAtomicOperation, RenameModel):
    """Rename a model and its table while old and new code both run (the expand).

    Follow it, once no process runs the old code, with ``FinishRenameModel`` and the same
    names, which drops the view bridging the old table name.
    """

    docs_page = PAGE

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (new := self._model(app_label, schema_editor, to_state, self.new_name)):
            return
        old = from_state.apps.get_model(app_label, self.old_name)
        rename = _TableRename(schema_editor, old, new, type(self).__name__)
        rename.refuse_many_to_many(type(self).__name__)
        if rename.old != rename.new:
            rename.rename(old, new)
            rename.move_foreign_keys(from_state, to_state, app_label, new)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (old := self._model(app_label, schema_editor, to_state, self.old_name)):
            return
        new = from_state.apps.get_model(app_label, self.new_name)
        rename = _TableRename(schema_editor, new, old, type(self).__name__)
        if rename.old != rename.new:
            rename.unbridge(old, new)
            rename.move_foreign_keys(from_state, to_state, app_label, old)

    def _model(self, app_label: str, schema_editor: Editor, state: State, name: str) -> Any:
        self.ensure_not_in_transaction(schema_editor)
        model = state.apps.get_model(app_label, name)
        return model if self.allow_migrate_model(schema_editor.connection.alias, model) else None

    def reduce(self, operation: Any, app_label: str) -> Any:
        """Never merged with another rename by Django's optimizer: its contract follows it."""
        return False

    def describe(self) -> str:
        return (
            f"Rename model {self.old_name} to {self.new_name}: expand (a view bridges the "
            "old table name)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return name_fragment("rename", self.old_name, self.new_name, "expand")


class FinishRenameModel(SafeOperation):
    """Drop the view of a ``RenameModelSafely`` (the contract; post-deploy).

    Backwards puts the view back, so code of the release before works again.
    """

    #: Old code still reads and writes through the view this drops.
    deploy_phase = Phase.POST_DEPLOY
    docs_page = PAGE

    def __init__(self, old_name: str, new_name: str, old_table: str) -> None:
        self.old_name, self.new_name, self.old_table = old_name, new_name, old_table

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        names = {"old_name": self.old_name, "new_name": self.new_name}
        return type(self).__name__, [], names | {"old_table": self.old_table}

    def state_forwards(self, app_label: str, state: State) -> None:
        """Django's state followed the rename in ``RenameModelSafely``: nothing changes."""

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if self.routed(app_label, schema_editor):
            execute(schema_editor, f"DROP VIEW IF EXISTS {quote_relation(self.old_table)}")

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if self.routed(app_label, schema_editor):
            table = to_state.apps.get_model(app_label, self.new_name)._meta.db_table
            if table != self.old_table:
                execute(schema_editor, _views(table, _bare(self.old_table)))

    def describe(self) -> str:
        return (
            f"Finish renaming model {self.old_name} to {self.new_name}: contract (drop the "
            f"view {self.old_table})"
        )

    @property
    def migration_name_fragment(self) -> str:
        return name_fragment("rename", self.old_name, self.new_name, "contract")
