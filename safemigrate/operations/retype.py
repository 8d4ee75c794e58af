"""Change a column's type, keeping its name, without rewriting the table under a lock.

``AlterField`` to another type runs ``ALTER COLUMN ... TYPE``: every row rewritten and every
index rebuilt under ACCESS EXCLUSIVE, nothing read or written meanwhile. Here a shadow
column of the new type is added, kept equal to the column by a trigger, filled in batches,
given copies of the column's indexes and constraints (built concurrently, or ``NOT VALID``
then validated), and swapped in in one short transaction: drop the trigger and the column,
rename the shadow, take back the names, default and sequence. The final schema is the one
``AlterField`` makes. Old code reads and writes the column as before throughout, so no step
waits for a deploy: the whole change is pre-deploy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db.migrations.operations import AlterField
from django.db.models import Field

from safemigrate.models import Direction
from safemigrate.operations import triggers
from safemigrate.operations.base import DOCS, Editor, State
from safemigrate.operations.copies import facts_of, opclasses_for, refuse_unsupported
from safemigrate.operations.transition import ColumnSwitch, TransitionOperation, column_type
from safemigrate.operations.triggers import Sync, check_expressions
from safemigrate.postgres.tables import quote_identifier, quote_relation, sibling

#: Every shadow column's name starts so, for the doctor to find one left behind.
SHADOW_PREFIX = "sm_shadow_"
MAX_NAME = 63
#: What may differ besides the type: nothing about the column itself but how Django shows it.
_KEPT = ("null", "primary_key", "db_column", "db_default", "db_index", "db_collation")
_AUTO = ("AutoField", "BigAutoField", "SmallAutoField")


def shadow_name(column: str) -> str:
    """The shadow column of ``column``: its prefix, and the column's name if it fits."""
    name = f"{SHADOW_PREFIX}{column}"
    if len(name.encode()) <= MAX_NAME:
        return name
    digest = hashlib.md5(column.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name.encode()[: MAX_NAME - 9].decode(errors='ignore')}_{digest}"


class AlterFieldTypeSafely(TransitionOperation, AlterField):
    """Change a field's column type in place, through a shadow column swapped in at the end.

    ``using`` is the SQL computing the new value from the column (a cast by default), and
    ``reverse_using`` the way back, for a rollback (a cast to the old type by default).
    Only the type may change; alter the rest in an ``AlterFieldSafely`` of its own.
    """

    docs_page = "type-changes"

    def __init__(
        self,
        model_name: str,
        name: str,
        field: Field[Any, Any],
        preserve_default: bool = True,
        using: str | None = None,
        reverse_using: str | None = None,
    ) -> None:
        super().__init__(model_name, name, field, preserve_default)
        self.using, self.reverse_using = using, reverse_using

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        _, args, kwargs = super().deconstruct()
        for attribute in ("using", "reverse_using"):
            if value := getattr(self, attribute):
                kwargs[attribute] = value
        return type(self).__name__, args, kwargs

    def touched_field(self, direction: Direction) -> str | None:
        return self.name

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        new = model._meta.get_field(self.name)
        self._refuse_other_changes(old, new)
        fill = self.filler(app_label, schema_editor, from_state, Direction.FORWARDS)
        self._switch(schema_editor, model, old, new, self.using, fill)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        new = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        old = model._meta.get_field(self.name)
        fill = self.filler(app_label, schema_editor, to_state, Direction.BACKWARDS)
        self._switch(schema_editor, model, new, old, self.reverse_using, fill)

    def _switch(
        self, editor: Editor, model: Any, current: Any, wanted: Any, using: str | None, fill: Any
    ) -> None:
        """Give ``current``'s column ``wanted``'s type through a shadow column."""
        table, column, kind = model._meta.db_table, wanted.column, column_type(editor, wanted)
        shadow = shadow_name(column)
        sync = Sync(table, column, shadow, using or f"CAST({quote_identifier(column)} AS {kind})")
        switch = ColumnSwitch(editor, model, sync, type(self).__name__)
        if switch.has_type(column, wanted.db_parameters(connection=editor.connection)["type"]):
            # Done already, or undone: nothing must be left of the way there.
            if switch.exists(shadow) or triggers.installed(editor, model, sync):
                switch.drop(shadow)
            return
        check_expressions(sync)
        refuse_unsupported(editor, table, column, type(self).__name__)
        sequence = _sequence_type(editor, table, column, current, wanted)
        switch.prepare(
            shadow, kind, column, fill, not_null=not wanted.null, opclasses=opclasses_for(kind)
        )
        switch.retire(column, shadow, final=column, verify=True, extra=sequence)

    def _refuse_other_changes(self, old: Any, new: Any) -> None:
        changed = [name for name in _KEPT if getattr(old, name, None) != getattr(new, name, None)]
        if old.unique != new.unique:
            changed.append("unique")
        if changed:
            raise ValueError(
                f"AlterFieldTypeSafely on {self.model_name}.{self.name} may change only the "
                f"column's type, not {' or '.join(changed)}: change those in an "
                f"AlterFieldSafely of its own. See {DOCS}{self.docs_page}.md."
            )

    def describe(self) -> str:
        return f"Safely change the type of {self.model_name}.{self.name} (shadow column, swap)"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}_type_safely"


def _sequence_type(editor: Editor, table: str, column: str, current: Any, wanted: Any) -> list[str]:
    """``ALTER SEQUENCE ... AS`` for a serial column between auto field types, as
    ``AlterField`` does (an identity's new sequence has the new type already)."""
    if current.get_internal_type() not in _AUTO or wanted.get_internal_type() not in _AUTO:
        return []
    facts = facts_of(editor, table, column)
    if facts is None or facts.sequence is None or facts.identity:
        return []
    kind = wanted.db_parameters(connection=editor.connection)["type"]
    return [f"ALTER SEQUENCE {quote_relation(sibling(table, facts.sequence))} AS {kind}"]
