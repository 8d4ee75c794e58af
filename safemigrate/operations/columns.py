"""Adding a column, making it NOT NULL and changing its default without long locks.

``AddField`` does everything in one transaction under ACCESS EXCLUSIVE: the column, its
foreign key (which scans the table), its indexes (which read the whole table), and with a
volatile default a rewrite of every row. ``AddFieldSafely`` splits that into short steps,
each committed and each skipped on a rerun when the catalog shows it done.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import NotSupportedError
from django.db.migrations.operations import AddField, AlterField
from django.db.models import NOT_PROVIDED, Field

from safemigrate.conf import conf
from safemigrate.declarations import Reach
from safemigrate.operations.base import (
    Editor,
    NonAtomicOperation,
    State,
    alter_table,
    checkpoint,
    execute,
    logger,
    probe,
    server_version,
)
from safemigrate.operations.constraints import (
    add_foreign_key,
    add_unique_using_index,
    constraint_exists,
    set_not_null,
)
from safemigrate.operations.indexes import build_index, concurrently
from safemigrate.postgres import catalog
from safemigrate.postgres.tables import quote_identifier, quote_relation, split_relation

_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
FAST_DEFAULT_VERSION = 110000
MAX_IDENTIFIER = 63


def has_volatile_default(schema_editor: Editor, field: Field[Any, Any]) -> bool:
    """Whether adding ``field``'s column with its default would rewrite the table.

    Since PostgreSQL 11 a default is stored once in the catalog unless it is volatile
    (``gen_random_uuid()``, ``random()``, ``clock_timestamp()``; ``now()`` is stable).
    Python defaults (``default=``) are computed once by Django, so they are never volatile.
    """
    if not field.has_db_default():  # type: ignore[attr-defined, unused-ignore]
        return False
    if server_version(schema_editor) < FAST_DEFAULT_VERSION:
        return True
    sql, _params = schema_editor.db_default_sql(field)
    names = _FUNCTION.findall(str(sql))
    return probe(schema_editor, catalog.any_volatile, names, default=bool(names))


def _nullable_copy(field: Field[Any, Any], model: Any) -> Any:
    """Return ``field`` as a nullable column without a default, unique or index."""
    copy: Any = field.clone()  # type: ignore[attr-defined, unused-ignore]
    copy.set_attributes_from_name(field.name)
    copy.model = model
    copy.null = True
    copy.db_default = NOT_PROVIDED
    copy.default = NOT_PROVIDED
    copy._unique = False
    copy.db_index = False
    if field.remote_field:
        copy.remote_field.model = field.remote_field.model
    return copy


def unique_key_name(table: str, column: str) -> str:
    """Return the name PostgreSQL gives an inline ``UNIQUE`` (what ``AddField`` makes).

    PostgreSQL's ``makeObjectName``: ``table_column_key``, the longer of table and column
    shortened a character at a time until the name fits in 63 bytes.
    """
    available = MAX_IDENTIFIER - len("_") - len("_key")
    table_chars, column_chars = len(table), len(column)
    while table_chars + column_chars > available:
        if table_chars > column_chars:
            table_chars -= 1
        else:
            column_chars -= 1
    return f"{table[:table_chars]}_{column[:column_chars]}_key"


def integer_pk(model: Any) -> str:
    """Return the primary key column ``backfill_default`` walks; it must be an integer."""
    pk = model._meta.pk
    if pk.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField") and (
        "Integer" not in pk.get_internal_type()
    ):
        raise NotSupportedError(
            f"safemigrate fills a column's new default in batches by integer primary key, and "
            f"{model._meta.label} has a {pk.get_internal_type()}: add the column nullable, "
            "backfill it, then use SetNotNull. See docs/operations/columns.md."
        )
    return str(pk.column)


def _column_suffix(schema_editor: Editor, field: Any) -> str:
    """The type suffix and inline check that ``AddField`` puts after the column definition."""
    suffix = ""
    if type_suffix := field.db_type_suffix(connection=schema_editor.connection):
        suffix += f" {type_suffix}"
    db_params = field.db_parameters(connection=schema_editor.connection)
    if db_params["check"]:
        suffix += " " + schema_editor.sql_check_constraint % db_params
    return suffix


def backfill_default(schema_editor: Editor, table: str, column: str, pk: str) -> None:
    """Fill existing rows' NULLs with the column's default, one short transaction per batch.

    ``SET column = DEFAULT`` evaluates a volatile default once per row, as an ``ADD COLUMN``
    with that default would have, without rewriting the table under ACCESS EXCLUSIVE. Batches
    walk the primary key, so a row updated meanwhile by the application is still found; rows
    inserted after the default was set already have a value.
    """
    qtable, qcolumn, qpk = quote_relation(table), quote_identifier(column), quote_identifier(pk)
    # One batch: a primary-key range, bounded by LIMIT too so it reads as one batch.
    sql = (
        f"UPDATE {qtable} SET {qcolumn} = DEFAULT WHERE {qpk} IN ("
        f"SELECT {qpk} FROM {qtable} WHERE {qpk} >= %s AND {qpk} < %s AND {qcolumn} IS NULL "
        "LIMIT %s)"
    )
    size = conf.backfill_batch_size
    if schema_editor.collect_sql:
        execute(schema_editor, sql, [0, size, size])
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT min({qpk}), max({qpk}) FROM {qtable}")
        low, high = cursor.fetchone()
    if low is None:
        return
    for start in range(low, high + 1, size):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql, [start, start + size, size])
        logger.info("Backfilled %s.%s up to %s=%s", table, column, pk, start + size - 1)


class AddFieldSafely(NonAtomicOperation, AddField):
    """Add a field in short, committed, resumable steps.

    1. ``ADD COLUMN`` (instant: a stable default is stored in the catalog on PostgreSQL >= 11;
       a volatile one is added for new rows only, existing rows are filled in batches and
       NOT NULL is then set with a validated check);
    2. its indexes, and its unique constraint, built ``CONCURRENTLY``;
    3. its foreign key added ``NOT VALID``, then validated without blocking writes.
    """

    reach = Reach.OWN_TABLE
    docs_page = "columns"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        field = model._meta.get_field(self.name)
        if field.many_to_many:
            # A many-to-many field is a new (empty) table: AddField creates it without waiting.
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        if not self.preserve_default:
            field.default = self.field.default
        try:
            self._add_column(schema_editor, model, field)
        finally:
            if not self.preserve_default:
                field.default = NOT_PROVIDED
        self._add_indexes(schema_editor, model, field)
        self._add_unique(schema_editor, model, field)
        self._add_foreign_key(schema_editor, model, field)

    def _add_column(self, schema_editor: Editor, model: Any, field: Any) -> None:
        table, column = model._meta.db_table, field.column
        exists = probe(schema_editor, catalog.column_info, table, column, default=None)
        volatile = has_volatile_default(schema_editor, field)
        if exists is None:
            target = _nullable_copy(field, model) if volatile else self._plain_copy(field, model)
            definition, params = schema_editor.column_sql(model, target, include_default=True)
            definition = f"{definition}{_column_suffix(schema_editor, field)}"
            alter_table(
                schema_editor,
                table,
                f"ADD COLUMN IF NOT EXISTS {quote_identifier(column)} {definition}",
                params,
            )
            checkpoint(schema_editor, type(self).__name__, "add column")
        if exists is None or exists[1]:
            # A rerun after a crash right after ADD COLUMN still drops the one-off default.
            self._drop_python_default(schema_editor, model, field, volatile)
        if volatile:
            self._fill_volatile(schema_editor, model, field)

    @staticmethod
    def _plain_copy(field: Any, model: Any) -> Any:
        copy = _nullable_copy(field, model)
        copy.null, copy.db_default, copy.default = field.null, field.db_default, field.default
        return copy

    @staticmethod
    def _drop_python_default(schema_editor: Editor, model: Any, field: Any, volatile: bool) -> None:
        """Drop the one-off default that filled existing rows, as ``AddField`` does."""
        if volatile or field.has_db_default() or schema_editor.effective_default(field) is None:
            return
        alter_table(
            schema_editor,
            model._meta.db_table,
            f"ALTER COLUMN {quote_identifier(field.column)} DROP DEFAULT",
        )

    def _fill_volatile(self, schema_editor: Editor, model: Any, field: Any) -> None:
        table, column = model._meta.db_table, field.column
        default_sql, params = schema_editor.db_default_sql(field)
        alter_table(
            schema_editor,
            table,
            f"ALTER COLUMN {quote_identifier(column)} SET DEFAULT {default_sql}",
            params,
        )
        backfill_default(schema_editor, table, column, integer_pk(model))
        checkpoint(schema_editor, type(self).__name__, "backfill")
        if not field.null:
            set_not_null(schema_editor, table, column)

    def _add_indexes(self, schema_editor: Any, model: Any, field: Any) -> None:
        table = model._meta.db_table
        for statement in schema_editor._field_indexes_sql(model, field):
            name = str(statement.parts["name"]).strip('"')
            build_index(schema_editor, table, name, concurrently(statement), type(self).__name__)

    def _add_unique(self, schema_editor: Any, model: Any, field: Any) -> None:
        if not field.unique or field.primary_key:
            return
        table = model._meta.db_table
        name = unique_key_name(split_relation(table)[1], field.column)
        if constraint_exists(schema_editor, table, name):
            return
        template = (
            "CREATE UNIQUE INDEX CONCURRENTLY %(name)s ON %(table)s%(using)s "
            "(%(columns)s)%(include)s%(extra)s%(condition)s"
        )
        create = schema_editor._create_index_sql(model, fields=[field], name=name, sql=template)
        build_index(schema_editor, table, name, create, type(self).__name__)
        add_unique_using_index(schema_editor, table, name)

    def _add_foreign_key(self, schema_editor: Any, model: Any, field: Any) -> None:
        if field.remote_field and field.db_constraint:
            add_foreign_key(schema_editor, model, field, type(self).__name__)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        model = self.routed_model(app_label, schema_editor, from_state, in_transaction=True)
        if not model:
            return
        field = model._meta.get_field(self.name)
        if field.many_to_many:
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        change = f"DROP COLUMN IF EXISTS {quote_identifier(field.column)} CASCADE"
        alter_table(schema_editor, model._meta.db_table, change)

    def describe(self) -> str:
        return f"Safely add field {self.name} to {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{super().migration_name_fragment}_safely"


class SetNotNull(NonAtomicOperation, AlterField):
    """Make a nullable field NOT NULL without a scan under ACCESS EXCLUSIVE.

    Adds ``CHECK (column IS NOT NULL) NOT VALID``, validates it, sets NOT NULL (PostgreSQL
    >= 12 skips the scan thanks to the check) and drops the check. Backwards drops NOT NULL.
    """

    reach = Reach.OWN_TABLE
    docs_page = "not-null"

    def __init__(self, model_name: str, name: str, field: Field[Any, Any] | None = None) -> None:
        if field is not None and field.null:
            raise ValueError("SetNotNull.field must have null=False: it makes the column NOT NULL.")
        super().__init__(model_name, name, field)  # type: ignore[arg-type]

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        """Leave ``field`` out when it was not given: the state's field, made NOT NULL."""
        name, args, kwargs = super().deconstruct()
        if self.field is None:
            kwargs.pop("field", None)
        return name, args, kwargs

    def state_forwards(self, app_label: str, state: State) -> None:
        field = self.field
        if field is None:
            field = state.models[app_label, self.model_name_lower].fields[self.name].clone()
            field.null = False
        state.alter_field(app_label, self.model_name_lower, self.name, field, True)

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        _, new = self.altered_field(app_label, model, from_state, {"null", "blank"})
        set_not_null(schema_editor, model._meta.db_table, new.column)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, to_state, in_transaction=True):
            column = model._meta.get_field(self.name).column
            alter_table(
                schema_editor,
                model._meta.db_table,
                f"ALTER COLUMN {quote_identifier(column)} DROP NOT NULL",
            )

    def describe(self) -> str:
        return f"Safely set NOT NULL on {self.model_name}.{self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}_not_null"


class SafeAddNotNull(SetNotNull):
    """``SetNotNull`` under the name the analysis rules (SM101-SM103) suggest."""
