"""Rename a column (or move a field to a new column of another type) across two deploys.

``RenameField`` renames the column at once: until every process runs the new code, the old
code's queries name a column that is gone. ``RenameFieldSafely`` (pre-deploy) adds the new
column next to the old one, keeps both equal with a trigger whichever code writes, fills
the existing rows in batches and copies the old column's indexes and constraints; Django's
state follows the rename here, so the code deployed with it uses the new name.
``FinishRenameField`` (post-deploy, once no process runs the old code) drops the trigger and
the old column in one short transaction, and gives the new column the old one's index and
constraint names, default and sequence: the schema ``RenameField`` would have made.

With ``field``, the new column also has a new type, computed from the old with ``using``
(SQL naming the old column, ``price * 100``; a cast by default) and back with
``reverse_using``: the seed's ``price`` (decimal) becoming ``price_cents`` (bigint).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.migrations.operations import RenameField
from django.db.models import Field

from safemigrate.declarations import Phase, Reach
from safemigrate.models import Direction
from safemigrate.operations.base import Editor, State, execute, name_fragment
from safemigrate.operations.copies import opclasses_for, refuse_unsupported
from safemigrate.operations.transition import ColumnSwitch, TransitionOperation, column_type
from safemigrate.operations.triggers import Sync, check_expressions
from safemigrate.postgres.tables import quote_identifier, quote_relation


class _RenameTransition(TransitionOperation):
    """What the two halves of a rename share: the columns, and the trigger between them."""

    docs_page = "rename-column"
    model_name: str
    old_name: str
    new_name: str
    using: str | None
    reverse_using: str | None

    def _expressions(self, using: str | None, reverse_using: str | None, retyped: bool) -> None:
        if retyped and not reverse_using:
            raise ValueError(
                f"{type(self).__name__} of {self.model_name}.{self.old_name} to a field of "
                "another type needs reverse_using: the SQL computing the old column from the "
                f"new one (e.g. '{self.new_name} / 100.0'), since old code still reads it. "
                f"See docs/operations/{self.docs_page}.md."
            )
        if not retyped and (using or reverse_using):
            raise ValueError(
                f"{type(self).__name__} of {self.model_name}.{self.old_name}: using and "
                "reverse_using convert between two types; give the new field (field=...) too."
            )
        self.using, self.reverse_using = using, reverse_using

    @property
    def retyped(self) -> bool:
        """Whether the new column has a type of its own (the old one's is kept otherwise)."""
        return self.reverse_using is not None

    def transition_key(self, app_label: str) -> tuple[str, str, str, str]:
        """What pairs an expand with its contract: the model and the two names."""
        return (app_label, self.model_name.lower(), self.old_name, self.new_name)

    def old_column(self, new: Any) -> str:
        """The old column's name: the old field's, named as the new field is named."""
        return self.old_name + str(new.get_attname())[len(new.name) :]

    def sync_of(self, new: Any, connection: Any) -> Sync | None:
        """The trigger keeping the old column and ``new``'s equal (``None``: the column
        keeps its name, as with a ``db_column``, and nothing is to keep equal)."""
        old_column, table = self.old_column(new), new.model._meta.db_table
        if not self.retyped:
            if old_column == new.column:
                return None
            forward, backward = quote_identifier(old_column), quote_identifier(new.column)
            return Sync(table, old_column, new.column, forward, backward)
        kind = new.db_parameters(connection=connection)["type"]
        forward = self.using or f"CAST({quote_identifier(old_column)} AS {kind})"
        return Sync(table, old_column, new.column, forward, self.reverse_using)

    def switch(self, schema_editor: Editor, model: Any) -> ColumnSwitch | None:
        new = model._meta.get_field(self.new_name)
        sync = self.sync_of(new, schema_editor.connection)
        return None if sync is None else ColumnSwitch(schema_editor, model, sync, self._label)

    @property
    def _label(self) -> str:
        return type(self).__name__

    def _kwargs(self) -> dict[str, Any]:
        names = {"model_name": self.model_name, "old_name": self.old_name}
        names["new_name"] = self.new_name
        return names | {k: getattr(self, k) for k in ("using", "reverse_using") if getattr(self, k)}


class RenameFieldSafely(_RenameTransition, RenameField):
    """Rename a field, and its column, while old and new code both run (the expand).

    Follow it, in a migration applied once no process runs the old code, with
    ``FinishRenameField`` and the same arguments, plus the old field.
    """

    reach = Reach.OWN_TABLE

    def __init__(
        self,
        model_name: str,
        old_name: str,
        new_name: str,
        field: Field[Any, Any] | None = None,
        using: str | None = None,
        reverse_using: str | None = None,
    ) -> None:
        super().__init__(model_name, old_name, new_name)
        self.field = field
        self._expressions(using, reverse_using, field is not None)

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        field = {"field": self.field} if self.field is not None else {}
        return type(self).__name__, [], self._kwargs() | field

    def state_forwards(self, app_label: str, state: State) -> None:
        super().state_forwards(app_label, state)
        if self.field is not None:
            state.alter_field(app_label, self.model_name_lower, self.new_name, self.field, True)

    def touched_field(self, direction: Direction) -> str | None:
        return self.old_name if direction == Direction.FORWARDS else None

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        if not (switch := self.switch(schema_editor, model)):
            return
        new, sync = model._meta.get_field(self.new_name), switch.sync
        old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.old_name)
        check_expressions(sync)
        refuse_unsupported(schema_editor, sync.table, sync.source, self._label)
        kind = column_type(schema_editor, new)
        opclasses = opclasses_for(kind) if self.retyped else None
        fill = self.filler(app_label, schema_editor, from_state, Direction.FORWARDS)
        not_null = not (new.null or old.null)
        switch.prepare(sync.target, kind, sync.source, fill, not_null=not_null, opclasses=opclasses)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        model = self.routed_model(app_label, schema_editor, from_state, in_transaction=True)
        if model and (switch := self.switch(schema_editor, model)):
            switch.retire(switch.sync.target, switch.sync.source)

    def describe(self) -> str:
        return (
            f"Rename field {self.old_name} on {self.model_name} to {self.new_name}: expand "
            "(new column, sync trigger, backfill, copies of its indexes and constraints)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return name_fragment("rename", self.model_name, self.old_name, self.new_name, "expand")


class FinishRenameField(_RenameTransition):
    """Drop the old column of a ``RenameFieldSafely`` (the contract; post-deploy).

    ``old_field`` is the old field's definition: backwards puts the old column back, filled
    from the new one, with its indexes, constraints and default, and the trigger between.
    """

    reach = Reach.OWN_TABLE
    #: Old code still reads and writes the column this drops.
    deploy_phase = Phase.POST_DEPLOY

    def __init__(
        self,
        model_name: str,
        old_name: str,
        new_name: str,
        old_field: Field[Any, Any],
        using: str | None = None,
        reverse_using: str | None = None,
    ) -> None:
        self.model_name, self.old_name, self.new_name = model_name, old_name, new_name
        self.old_field = old_field
        self._expressions(using, reverse_using, reverse_using is not None)

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        return type(self).__name__, [], self._kwargs() | {"old_field": self.old_field}

    def state_forwards(self, app_label: str, state: State) -> None:
        """Django's state followed the rename in ``RenameFieldSafely``: nothing changes."""

    def touched_field(self, direction: Direction) -> str | None:
        return self.new_name if direction == Direction.BACKWARDS else None

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, from_state)):
            return
        if switch := self.switch(schema_editor, model):
            new = model._meta.get_field(self.new_name)
            # A new type has a default of its own: the field's, as AddField would set it.
            extra = default_sql(schema_editor, new) if self.retyped else []
            switch.retire(
                switch.sync.source, switch.sync.target, move_generated=not self.retyped, extra=extra
            )

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        if not (switch := self.switch(schema_editor, model)):
            return
        old, sync = self.bound_old_field(model), switch.sync
        kind = column_type(schema_editor, old)
        fill = self.filler(app_label, schema_editor, to_state, Direction.BACKWARDS)
        opclasses = opclasses_for(kind) if self.retyped else None
        switch.prepare(
            sync.source, kind, sync.target, fill, not_null=not old.null, opclasses=opclasses
        )
        switch.exchange_names(sync.target, sync.source)
        if not self.retyped:
            switch.move_generated(sync.target, sync.source)
            return
        new = model._meta.get_field(self.new_name)
        defaults = default_sql(schema_editor, new, drop=True) + default_sql(schema_editor, old)
        execute(schema_editor, "; ".join(defaults))

    def bound_old_field(self, model: Any) -> Any:
        """The old field, as it was on the model (its column, its type)."""
        field: Any = self.old_field.clone()  # type: ignore[attr-defined, unused-ignore]
        field.set_attributes_from_name(self.old_name)
        field.model = model
        remote: Any = field.remote_field
        if remote and isinstance(remote.model, str):
            remote.model = model._meta.apps.get_model(remote.model)
        return field

    def describe(self) -> str:
        return (
            f"Finish renaming field {self.old_name} on {self.model_name} to {self.new_name}: "
            "contract (drop the trigger and the old column)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return name_fragment("rename", self.model_name, self.old_name, self.new_name, "contract")


def default_sql(schema_editor: Editor, field: Any, *, drop: bool = False) -> list[str]:
    """``ALTER TABLE`` giving the column the field's ``db_default`` (its value inlined, as
    one statement among others of a transaction), or dropping its default."""
    table, column = quote_relation(field.model._meta.db_table), quote_identifier(field.column)
    if drop:
        return [f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT"]
    if not field.has_db_default():
        return []
    sql, params = schema_editor.db_default_sql(field)
    value = sql % tuple(schema_editor.quote_value(param) for param in params)
    return [f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {value}"]
