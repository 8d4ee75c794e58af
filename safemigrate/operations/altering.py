"""Change a field's index, uniqueness, foreign key or nullability without long locks.

``AlterField`` runs what Django's schema editor decides in one transaction: a plain ``CREATE
INDEX`` (writes wait for the whole build), ``ADD CONSTRAINT ... UNIQUE`` (the build under
ACCESS EXCLUSIVE), a foreign key or check validated at once, ``SET NOT NULL`` (a scan under
ACCESS EXCLUSIVE). ``AlterFieldSafely`` lets Django decide exactly the same, records the
statements instead of running them, and runs each in its safe form, committed one by one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db.backends.ddl_references import Statement
from django.db.migrations.operations import AlterField

from safemigrate.operations.base import (
    Editor,
    NonAtomicOperation,
    State,
    checkpoint,
    execute,
    index_relation,
)
from safemigrate.operations.columns import backfill_default, integer_pk
from safemigrate.operations.constraints import (
    FK_SUFFIX,
    add_unique_using_index,
    constraint_exists,
    set_not_null,
    validate_constraint,
)
from safemigrate.operations.indexes import build_index, concurrently

TYPE_CHANGES_PAGE = "docs/operations/type-changes.md"


@functools.cache
def _recording(editor_class: type[Editor]) -> type[Editor]:
    """The backend's own schema editor, recording each statement instead of running it."""

    class Recording(editor_class):  # type: ignore[valid-type, misc]
        recorded: list[tuple[Any, Any]]

        def execute(self, sql: Any, params: Any = ()) -> None:
            self.recorded.append((sql, params))

    return Recording


def planned_statements(schema_editor: Editor, model: Any, old: Any, new: Any) -> list[Any]:
    """Return what Django's ``alter_field`` would run, in order, without running it.

    The same code decides as in a plain ``AlterField``; it still reads the live catalog
    where Django does (the names of the constraints it drops).
    """
    recorder: Any = _recording(type(schema_editor))(schema_editor.connection, atomic=False)
    recorder.recorded, recorder.deferred_sql = [], []
    recorder.alter_field(model, old, new)
    return list(recorder.recorded)


class _SafeRun:
    """Run the statements Django planned for one field, each in its safe form."""

    def __init__(self, schema_editor: Editor, model: Any, field: Any, operation: str) -> None:
        self.editor: Any = schema_editor
        self.model, self.field, self.operation = model, field, operation
        self.table = model._meta.db_table
        #: Django's statement template -> the safe form of such a statement.
        self.forms: dict[str, Callable[[Statement], None]] = {
            schema_editor.sql_create_index: self.index,
            schema_editor.sql_create_unique_index: self.index,
            schema_editor.sql_create_unique: self.unique,
            schema_editor.sql_create_fk: self.not_valid_then_validate,
            schema_editor.sql_create_check: self.not_valid_then_validate,
            schema_editor.sql_delete_index: self.drop_index,
        }

    def run(self, sql: Any, params: Any) -> None:
        form = self.forms.get(str(sql.template)) if isinstance(sql, Statement) else None
        if form is not None:
            form(sql)
        elif sql == self._not_null_sql():
            set_not_null(self.editor, self.table, self.field.column)
        elif str(sql).startswith(self._fill_nulls_prefix()):
            backfill_default(self.editor, self.table, self.field.column, integer_pk(self.model))
            checkpoint(self.editor, self.operation, "backfill")
        else:
            execute(self.editor, sql, params)

    def index(self, statement: Statement) -> None:
        name = _name(statement)
        build_index(self.editor, self.table, name, concurrently(statement), self.operation)

    def unique(self, statement: Statement) -> None:
        """A unique constraint: its index built ``CONCURRENTLY``, then attached as it."""
        name = _name(statement)
        if constraint_exists(self.editor, self.table, name):
            return
        template = "CREATE UNIQUE INDEX CONCURRENTLY %(name)s ON %(table)s (%(columns)s)"
        create = Statement(template, **statement.parts)
        build_index(self.editor, self.table, name, create, self.operation)
        add_unique_using_index(self.editor, self.table, name, str(statement.parts["deferrable"]))

    def not_valid_then_validate(self, statement: Statement) -> None:
        """A foreign key or check: added ``NOT VALID`` (instant), validated without blocking."""
        name = _name(statement)
        if not constraint_exists(self.editor, self.table, name):
            execute(self.editor, f"{statement} NOT VALID")
            checkpoint(self.editor, self.operation, f"add {name} not valid")
        validate_constraint(self.editor, self.table, name)

    def drop_index(self, statement: Statement) -> None:
        index = index_relation(self.table, _name(statement))
        execute(self.editor, f"DROP INDEX CONCURRENTLY IF EXISTS {index}")

    def _not_null_sql(self) -> str:
        """Django's ``SET NOT NULL`` of the column, alone (a type change is refused)."""
        quote_name = self.editor.quote_name
        change = self.editor.sql_alter_column_not_null % {"column": quote_name(self.field.column)}
        return str(
            self.editor.sql_alter_column % {"table": quote_name(self.table), "changes": change}
        )

    def _fill_nulls_prefix(self) -> str:
        """How Django's one ``UPDATE`` of every NULL row to the new default starts."""
        column = self.editor.quote_name(self.field.column)
        return f"UPDATE {self.editor.quote_name(self.table)} SET {column} = "


def _name(statement: Statement) -> str:
    """The plain name of what ``statement`` creates or drops (Django quotes it)."""
    return str(statement.parts["name"]).strip('"')


class AlterFieldSafely(NonAtomicOperation, AlterField):
    """Alter a field as ``AlterField`` does, with each long lock replaced by short steps.

    Django's schema editor plans the change; each planned statement runs in its safe form:
    an index ``CONCURRENTLY``; a unique constraint through a concurrent unique index; a
    foreign key or check ``NOT VALID`` then validated; ``SET NOT NULL`` after a validated
    check; NULLs filled with a new default in batches; an index dropped ``CONCURRENTLY``.
    A foreign key that stays as it was is left in place. The column's type and name must
    not change: ``AlterFieldTypeSafely`` and ``RenameFieldSafely`` do that.
    """

    docs_page = "columns"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        self._alter(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        self._alter(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Safely alter field {self.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{super().migration_name_fragment}_safely"

    def _alter(
        self, app_label: str, schema_editor: Editor, old_state: State, new_state: State
    ) -> None:
        """Move the field from ``old_state``'s definition to ``new_state``'s."""
        if not (model := self.routed_model(app_label, schema_editor, new_state)):
            return
        old_model = old_state.apps.get_model(app_label, self.model_name)
        old, new = old_model._meta.get_field(self.name), model._meta.get_field(self.name)
        self._refuse_a_rewrite(schema_editor, old, new)
        kept = _kept_foreign_key(schema_editor, old_model, old, model, new)
        run = _SafeRun(schema_editor, model, new, type(self).__name__)
        for sql, params in planned_statements(schema_editor, model, old, new):
            if kept is None or _name_of(sql) != kept:
                run.run(sql, params)

    def _refuse_a_rewrite(self, schema_editor: Editor, old: Any, new: Any) -> None:
        if changed := column_changes(old, new, schema_editor.connection):
            raise ValueError(
                f"AlterFieldSafely on {self.model_name}.{self.name} cannot change the "
                f"column's {' and '.join(changed)}: that rewrites or renames the column. "
                "Change the type first with AlterFieldTypeSafely (a column name with "
                f"RenameFieldSafely), then the rest with AlterFieldSafely. See {TYPE_CHANGES_PAGE}."
            )


def column_changes(old: Any, new: Any, connection: Any) -> list[str]:
    """Name what changes about the column itself (its type, collation, name, key): what no
    short step can do, as a rewrite of the table or a rename under the deployed code."""
    old_params, new_params = old.db_parameters(connection), new.db_parameters(connection)
    return [
        what
        for what, before, after in (
            ("type", _db_type(old, connection), _db_type(new, connection)),
            ("collation", old_params.get("collation"), new_params.get("collation")),
            ("name", old.column, new.column),
            ("primary key", old.primary_key, new.primary_key),
            ("many-to-many", old.many_to_many, new.many_to_many),
        )
        if before != after
    ]


def _db_type(field: Any, connection: Any) -> str:
    """The column's type as Django writes it, with its suffix (an identity, for example)."""
    return f"{field.db_parameters(connection)['type']} {field.db_type_suffix(connection) or ''}"


def _kept_foreign_key(editor: Any, old_model: Any, old: Any, model: Any, new: Any) -> str | None:
    """Name the foreign key Django would drop and add again unchanged (it does so whenever a
    foreign key field changes at all): it stays as it is, checked all along."""
    if not (old.remote_field and old.db_constraint and new.remote_field and new.db_constraint):
        return None
    before = editor._create_fk_sql(old_model, old, FK_SUFFIX)
    after = editor._create_fk_sql(model, new, FK_SUFFIX)
    return _name_of(after) if str(before) == str(after) else None


def _name_of(sql: Any) -> str | None:
    """The name a Django statement creates or drops, if it is one that names something."""
    if isinstance(sql, Statement) and "name" in sql.parts:
        return _name(sql)
    return None
