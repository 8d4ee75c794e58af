"""Rebuild a table through a shadow table (the seed's Strategy 2), changing column types.

``AlterField`` to another type rewrites the table under ACCESS EXCLUSIVE, once per column.
``RebuildTableSafely`` builds the new structure once, in a shadow table (``LIKE`` the table,
the new types set while it is empty); a trigger copies every write of the table into it; the
rows are copied in batches; the indexes and constraints are built on it concurrently, or
``NOT VALID`` then validated. Then, in one short transaction, the names are swapped: the old
table becomes the *archive* and the shadow takes its name, its indexes', its constraints' and
its sequence's; foreign keys pointing at it are added again ``NOT VALID`` and validated after.
A trigger keeps the archive in step with every write, so a rollback is the same swap back.
``FinishRebuildTable`` drops the archive in a later migration. Old code reads and writes the
table by its name throughout: no step waits for a deploy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.apps.registry import Apps
from django.db import NotSupportedError, connections
from django.db.models import Field

from safemigrate.backfill.batches import Target
from safemigrate.conf import conf
from safemigrate.models import Direction
from safemigrate.operations import triggers
from safemigrate.operations.base import DOCS, Editor, SafeOperation, State, checkpoint, execute
from safemigrate.operations.base import probe as run_probe
from safemigrate.operations.swap import Swap, build_structure
from safemigrate.operations.transition import TransitionOperation, column_type
from safemigrate.postgres import columns
from safemigrate.postgres.tables import quote_identifier, quote_relation, relation_exists, sibling
from safemigrate.postgres.types import same_type

MAX_NAME = 63
NEW, OLD = "__sm_new", "__sm_old"


def side_table(table: str, suffix: str) -> str:
    """The shadow (``__sm_new``) or archive (``__sm_old``) of ``table``, in its schema."""
    bare = _bare(table)
    name = f"{bare}{suffix}"
    if len(name.encode()) > MAX_NAME:
        digest = hashlib.md5(bare.encode(), usedforsecurity=False).hexdigest()[:6]
        name = f"{bare.encode()[: MAX_NAME - len(suffix) - 7].decode(errors='ignore')}_{digest}"
        name += suffix
    return sibling(table, name)


def _bare(table: str) -> str:
    return table.rsplit('"."', 1)[-1].strip('"') if table.startswith('"') else table


@dataclass(frozen=True)
class RowCopy:
    """Every write of ``table`` repeated into ``target`` (``key`` is their primary key).

    Each row is written whole, its values cast to the target's types by assignment, as an
    INSERT would; a deleted row is deleted, a row whose key changed moves.
    """

    table: str
    target: str
    key: str
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", _bare(self.target).lower()).strip("_")[:22]
        key = f"{self.table}\0{self.target}".encode()
        digest = hashlib.md5(key, usedforsecurity=False).hexdigest()[:8]
        return f"{triggers.SYNC_PREFIX}{slug}_{digest}"

    def body(self) -> str:
        target, key = quote_relation(self.target), quote_identifier(self.key)
        names = ", ".join(map(quote_identifier, self.columns))
        values = ", ".join(f"NEW.{quote_identifier(c)}" for c in self.columns)
        others = [quote_identifier(c) for c in self.columns if c != self.key]
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in others)
        upsert = f"ON CONFLICT ({key}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
        return (
            f"IF TG_OP = 'DELETE' THEN DELETE FROM {target} WHERE {key} = OLD.{key}; "
            "RETURN OLD; END IF; "
            f"IF TG_OP = 'UPDATE' AND NEW.{key} IS DISTINCT FROM OLD.{key} THEN "
            f"DELETE FROM {target} WHERE {key} = OLD.{key}; END IF; "
            f"INSERT INTO {target} ({names}) OVERRIDING SYSTEM VALUE VALUES ({values}) {upsert}; "
            "RETURN NEW;"
        )


class CopyTrigger(triggers.ManagedTrigger):
    """The trigger repeating each write of a table into another (a ``pgtrigger.Trigger``)."""

    when = pgtrigger.After

    def __init__(self, copy: RowCopy) -> None:
        self.copy = copy
        every = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete
        super().__init__(name=copy.name, operation=every, func=copy.body())


def archive_trigger(model: Any) -> CopyTrigger:
    """The trigger keeping a rebuilt table's archive in step, as the model names things."""
    table = model._meta.db_table
    names = sorted(f.column for f in model._meta.concrete_fields if not f.generated)
    return CopyTrigger(RowCopy(table, side_table(table, OLD), model._meta.pk.column, tuple(names)))


def row_copy(cursor: Any, table: str, target: str, key: str) -> RowCopy:
    """The copy of ``table``'s rows into ``target``: their common, written columns."""
    names = sorted(name for name, _ in columns.table_columns(cursor, table))
    return RowCopy(table, target, key, tuple(names))


class RebuildTableSafely(TransitionOperation):
    """Give columns of a model new types by rebuilding its table through a shadow table.

    ``fields`` maps field names to their new definitions; only their types may change (each
    new type must take the old values by assignment, as ``INSERT`` casts them). Follow it,
    once the rebuild has proven itself, with ``FinishRebuildTable``, which drops the archive.
    """

    docs_page = "rebuild-table"

    def __init__(self, model_name: str, fields: dict[str, Field[Any, Any]]) -> None:
        if not fields:
            raise ValueError("RebuildTableSafely needs the fields whose type changes.")
        self.model_name, self.fields = model_name, dict(fields)

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def transition_key(self, app_label: str) -> tuple[str, str, str]:
        """What pairs the rebuild with the contract that drops its archive."""
        return ("rebuild", app_label, self.model_name_lower)

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name, "fields": self.fields}

    def state_forwards(self, app_label: str, state: State) -> None:
        for name, field in self.fields.items():
            state.alter_field(app_label, self.model_name_lower, name, field, True)

    def target(self, apps: Apps, app_label: str, direction: Direction) -> Target | None:
        model = apps.get_model(app_label, self.model_name)
        table, pk = model._meta.db_table, model._meta.pk.column

        def copy(batch: Any) -> int:
            with connections[batch.db].cursor() as cursor:
                rows = row_copy(cursor, table, side_table(table, NEW), pk)
                keys, params = batch.values_list("pk", flat=True).query.sql_with_params()
                names = ", ".join(map(quote_identifier, rows.columns))
                cursor.execute(
                    f"INSERT INTO {quote_relation(rows.target)} ({names}) OVERRIDING SYSTEM "
                    f"VALUE SELECT {names} FROM {quote_relation(table)} WHERE "
                    f"{quote_identifier(pk)} IN ({keys}) FOR SHARE ON CONFLICT DO NOTHING",
                    params,
                )
                return int(cursor.rowcount)

        return Target(model, self.key, copy, conf.transition_batch_time_ms)

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, to_state):
            before = from_state.apps.get_model(app_label, self.model_name)
            self._rebuild(app_label, schema_editor, before, model, from_state, Direction.FORWARDS)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        current = from_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        archive = side_table(table, OLD)
        if run_probe(schema_editor, relation_exists, archive, default=False):
            swap = Swap(schema_editor, model, table, side_table(table, NEW), archive)
            swap.back(CopyTrigger(self._copy(schema_editor, table, archive, model)))
            return
        self._rebuild(app_label, schema_editor, current, model, to_state, Direction.BACKWARDS)

    def _copy(self, editor: Editor, table: str, target: str, model: Any) -> RowCopy:
        """Every written column of the table (the catalog's: a column Django's state forgot
        is still written by old code), the model's when only collecting SQL."""
        found = run_probe(editor, columns.table_columns, table, default=None)
        if found is None:
            found = [(f.column, "") for f in model._meta.concrete_fields if not f.generated]
        names = sorted(name for name, _ in found)
        return RowCopy(table, target, model._meta.pk.column, tuple(names))

    def _rebuild(
        self,
        app_label: str,
        editor: Editor,
        current: Any,
        wanted: Any,
        before: State,
        direction: Direction,
    ) -> None:
        """Give ``current``'s table ``wanted``'s column types through a shadow table."""
        table = wanted._meta.db_table
        shadow, archive = side_table(table, NEW), side_table(table, OLD)
        types = {
            wanted._meta.get_field(name).column: column_type(editor, wanted._meta.get_field(name))
            for name in self.fields
        }
        if self._done(editor, table, shadow, types):
            return
        self._refuse(current)
        build_structure(editor, table, shadow, types, self._label)
        copy = self._copy(editor, table, shadow, current)
        fill = self.filler(app_label, editor, before, direction)
        swap = Swap(editor, wanted, table, shadow, archive)
        swap.prepare(CopyTrigger(copy), fill, self._label)
        keep = direction == Direction.FORWARDS
        reverse = CopyTrigger(self._copy(editor, table, archive, wanted)) if keep else None
        swap.forth(CopyTrigger(copy), reverse)

    def _done(self, editor: Editor, table: str, shadow: str, types: dict[str, str]) -> bool:
        if editor.collect_sql or run_probe(editor, relation_exists, shadow, default=False):
            return False
        return all(
            (facts := run_probe(editor, columns.column_facts, table, column, default=None))
            and same_type(facts.type, kind.split(" COLLATE ")[0])
            for column, kind in types.items()
        )

    def _refuse(self, model: Any) -> None:
        if any(f.many_to_one or f.one_to_one for n, f in self.fields.items()):
            raise NotSupportedError(
                f"RebuildTableSafely on {self.model_name} changes only plain columns' types; "
                f"change a foreign key's with AlterFieldTypeSafely. See {DOCS}rebuild-table.md."
            )

    @property
    def _label(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        names = ", ".join(self.fields)
        return f"Rebuild the table of {self.model_name} through a shadow table ({names})"

    @property
    def migration_name_fragment(self) -> str:
        return f"rebuild_{self.model_name_lower}"


class FinishRebuildTable(SafeOperation):
    """Drop the archive a ``RebuildTableSafely`` kept, and the trigger keeping it in step.

    Pre-deploy: no code uses the archive. Backwards has nothing to restore:
    ``RebuildTableSafely``'s own backwards rebuilds the table when the archive is gone.
    """

    docs_page = "rebuild-table"

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def transition_key(self, app_label: str) -> tuple[str, str, str]:
        return ("rebuild", app_label, self.model_name.lower())

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        return type(self).__name__, [], {"model_name": self.model_name}

    def state_forwards(self, app_label: str, state: State) -> None:
        """The table changed in ``RebuildTableSafely``: nothing changes here."""

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, from_state)):
            return
        table = model._meta.db_table
        archive = side_table(table, OLD)
        name = triggers.pgid(model, archive_trigger(model))
        execute(
            schema_editor,
            f"{triggers.drop_sql(table, name)}; DROP TABLE IF EXISTS {quote_relation(archive)}",
        )
        checkpoint(schema_editor, type(self).__name__, "drop archive")

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        """The archive is gone; ``RebuildTableSafely`` rebuilds the table if rolled back."""

    def describe(self) -> str:
        return f"Drop the archive of {self.model_name}'s table, kept by RebuildTableSafely"

    @property
    def migration_name_fragment(self) -> str:
        return f"rebuild_{self.model_name.lower()}_drop_archive"
