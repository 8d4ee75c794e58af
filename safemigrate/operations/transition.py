"""What every column replacement does: prepare the new column, then retire the old one.

**Prepare** (each step committed alone, each skipped on a rerun when the catalog shows it
done): add the new column, nullable; install the sync trigger, so that from then on every
write of either column reaches the other; fill the existing rows in batches through the
``Backfill`` engine (a batch rewrites the old column to itself, and the trigger computes the
new one); make it NOT NULL through a validated check; copy the old column's indexes and
constraints to it without long locks.

**Retire**, in one short transaction under the lock timeout (retried as any statement):
drop the trigger and the old column, and give the new column the old one's names, default
and sequence (and, for a type change under the same name, the old column's name).

A trigger installed now (the first run, or a rerun after it went missing) restarts the
backfill from the first row: rows filled before may have missed writes made without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps.registry import Apps
from django.db.models import F

from safemigrate.backfill import control
from safemigrate.backfill.batches import Target
from safemigrate.backfill.operation import BackfillOperation
from safemigrate.conf import conf
from safemigrate.models import Direction
from safemigrate.operations import triggers
from safemigrate.operations.base import (
    Editor,
    NonAtomicOperation,
    State,
    alter_table,
    checkpoint,
    execute,
    probe,
)
from safemigrate.operations.constraints import set_not_null
from safemigrate.operations.copies import (
    build_copies,
    exchange_statements,
    facts_of,
    move_generated_statements,
    retire_statements,
    source_dependents,
)
from safemigrate.operations.triggers import Sync
from safemigrate.postgres import catalog
from safemigrate.postgres.tables import quote_identifier, quote_relation
from safemigrate.postgres.types import same_type

#: Fills the new column: ``fill(restart)``, ``restart`` when earlier batches no longer count.
Fill = Callable[[bool], None]


@dataclass
class ColumnSwitch:
    """One column of a table replaced by another, kept equal by ``sync``'s trigger.

    ``model`` is a historical model of the table: pgtrigger names the trigger after it.
    """

    editor: Editor
    model: Any
    sync: Sync
    operation: str

    @property
    def table(self) -> str:
        return self.sync.table

    def exists(self, column: str) -> bool:
        """Whether the table has ``column`` (``True`` when only collecting SQL)."""
        info = probe(self.editor, catalog.column_info, self.table, column, default=(True, False))
        return info is not None

    def prepare(
        self,
        column: str,
        definition: str,
        copy_from: str,
        fill: Fill,
        *,
        not_null: bool,
        opclasses: Any = None,
    ) -> None:
        """Add ``column`` (of type ``definition``), keep it in sync, fill it, make it NOT
        NULL when asked, and give it copies of ``copy_from``'s indexes and constraints."""
        if not self.exists(column) or self.editor.collect_sql:
            change = f"ADD COLUMN IF NOT EXISTS {quote_identifier(column)} {definition} NULL"
            alter_table(self.editor, self.table, change)
            checkpoint(self.editor, self.operation, f"add column {column}")
        fill(self.ensure_trigger())
        checkpoint(self.editor, self.operation, "backfill")
        if not_null:
            set_not_null(self.editor, self.table, column)
        build_copies(self.editor, self.table, copy_from, column, self.operation, opclasses)
        checkpoint(self.editor, self.operation, "prepared")

    def ensure_trigger(self) -> bool:
        """Install the sync trigger unless it is there; whether it was installed now."""
        if triggers.installed(self.editor, self.model, self.sync):
            return False
        triggers.install(self.editor, self.model, self.sync)
        checkpoint(self.editor, self.operation, "install trigger")
        return True

    def retire(
        self,
        dropped: str,
        kept: str,
        *,
        final: str | None = None,
        move_generated: bool = True,
        verify: bool = False,
        extra: list[str] | None = None,
    ) -> None:
        """Drop the trigger and ``dropped``, hand its names (and, if asked, its default and
        sequence) to ``kept``, renamed ``final`` if given: one short transaction.

        ``verify`` first checks that the trigger is still there: a shadow column that lost
        its trigger may have missed writes, and must not replace the column.
        """
        if not self.editor.collect_sql and not (self.exists(dropped) and self.exists(kept)):
            return  # retired already: the transaction committed whole
        dependents = source_dependents(self.editor, self.table, dropped)
        present = None
        if not self.editor.collect_sql:
            present = {d.name for d in source_dependents(self.editor, self.table, kept)}
        facts = facts_of(self.editor, self.table, dropped)
        pgid = triggers.pgid(self.model, self.sync)
        statements = [verify_sql(self.table, pgid)] if verify else []
        statements.append(triggers.drop_sql(self.table, pgid))
        statements += retire_statements(
            self.table,
            dropped,
            kept,
            dependents,
            facts,
            present=present,
            move_generated=move_generated,
            final=final,
        )
        execute(self.editor, "; ".join([*statements, *(extra or [])]))
        checkpoint(self.editor, self.operation, f"retire {dropped}")

    def has_type(self, column: str, wanted: str) -> bool:
        """Whether ``column`` is of type ``wanted`` already (never when only collecting SQL)."""
        facts = facts_of(self.editor, self.table, column)
        return facts is not None and same_type(facts.type, wanted)

    def move_generated(self, source: str, kept: str) -> None:
        """Hand ``source``'s default, identity or sequence to ``kept``: one transaction."""
        facts = facts_of(self.editor, self.table, source)
        if statements := move_generated_statements(self.table, source, kept, facts):
            execute(self.editor, "; ".join(statements))

    def exchange_names(self, source: str, kept: str) -> None:
        """Give ``source``'s index and constraint names back to their copies on ``kept``
        (and the copies' names to ``source``'s): one short transaction."""
        dependents = source_dependents(self.editor, self.table, source)
        present = None
        if not self.editor.collect_sql:
            present = {d.name for d in source_dependents(self.editor, self.table, kept)}
        if renames := exchange_statements(self.table, source, kept, dependents, present):
            execute(self.editor, "; ".join(renames))

    def drop(self, column: str) -> None:
        """Drop the trigger and ``column`` (with the copies it carries): one transaction."""
        pgid = triggers.pgid(self.model, self.sync)
        table, qcolumn = quote_relation(self.table), quote_identifier(column)
        drop = f"ALTER TABLE {table} DROP COLUMN IF EXISTS {qcolumn}"
        execute(self.editor, f"{triggers.drop_sql(self.table, pgid)}; {drop}")


def column_type(schema_editor: Editor, field: Any) -> str:
    """The field's column type as ``ADD COLUMN`` writes it, with its collation."""
    params = field.db_parameters(connection=schema_editor.connection)
    collation = params.get("collation")
    return (
        f"{params['type']} COLLATE {quote_identifier(collation)}" if collation else params["type"]
    )


def verify_sql(table: str, pgid: str) -> str:
    """A statement failing the transaction when ``table`` lacks trigger ``pgid``."""
    table_literal = "'" + quote_relation(table).replace("'", "''") + "'"
    return (
        "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = "
        f"to_regclass({table_literal}) AND tgname = '{pgid}') THEN RAISE EXCEPTION "
        f"'safemigrate: the sync trigger {pgid} is missing: the shadow column may have "
        "missed writes; run manage.py safemigrate --doctor'; END IF; END$$"
    )


class TransitionOperation(NonAtomicOperation, BackfillOperation):
    """An operation that replaces a column: schema steps around batches of the engine.

    Its SQL is collected like any operation's (``sqlmigrate`` and the analysis show it);
    the batches run only for real.
    """

    reduces_to_sql = True
    key = "pk"

    def touched_field(self, direction: Direction) -> str | None:
        """The field whose batches rewrite it to itself in ``direction`` (``None``: none)."""
        raise NotImplementedError

    def target(self, apps: Apps, app_label: str, direction: Direction) -> Target | None:
        name = self.touched_field(direction)
        if name is None:
            return None
        model = apps.get_model(app_label, self.model_name)

        def touch(batch: Any) -> int:
            return int(batch.update(**{name: F(name)}))

        return Target(model, self.key, touch, conf.transition_batch_time_ms)

    def filler(
        self, app_label: str, schema_editor: Editor, before: State, direction: Direction
    ) -> Fill:
        """The backfill step of ``direction``, from the state before the operation."""

        def fill(restart: bool) -> None:
            if schema_editor.collect_sql:
                return
            connection = schema_editor.connection
            if restart:
                control.forget(self, app_label, connection.alias, direction)
            target = self.target(before.apps, app_label, direction)
            control.execute(self, app_label, connection, target, direction, wait=True)

        return fill

    def reduce(self, operation: Any, app_label: str) -> Any:
        """Never merged with another operation by Django's optimizer: its steps are its own."""
        return False
