"""Constraints added without a long lock: unique through a concurrent index, checks NOT VALID.

``ALTER TABLE ... ADD CONSTRAINT ... UNIQUE`` builds its index under an ACCESS EXCLUSIVE lock
and ``ADD CONSTRAINT ... CHECK`` scans the table under it: reads and writes wait for the
whole build or scan. Here the index is built ``CONCURRENTLY`` first and then attached
(``UNIQUE USING INDEX``, instant), and checks are added ``NOT VALID`` (instant) and
validated later under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from django.contrib.postgres import operations as postgres_operations
from django.db.backends.ddl_references import Statement
from django.db.migrations.operations import AddConstraint
from django.db.models import UniqueConstraint
from django.db.models.constraints import BaseConstraint

from safemigrate.declarations import Reach
from safemigrate.operations.base import (
    Editor,
    NonAtomicOperation,
    SafeOperation,
    State,
    alter_table,
    checkpoint,
    execute,
    probe,
)
from safemigrate.operations.indexes import build_index, concurrently, drop_index
from safemigrate.postgres import catalog
from safemigrate.postgres.tables import quote_identifier, split_relation

MAX_NAME = 63
#: The suffix Django names a field's foreign key constraint with.
FK_SUFFIX = "_fk_%(to_table)s_%(to_column)s"


def constraint_exists(schema_editor: Editor, table: str, name: str) -> bool:
    return probe(schema_editor, catalog.constraint_validity, table, name, default=None) is not None


def validate_constraint(schema_editor: Editor, table: str, name: str) -> None:
    """Check existing rows against a NOT VALID constraint without blocking writes."""
    alter_table(schema_editor, table, f"VALIDATE CONSTRAINT {quote_identifier(name)}")


def not_null_check_name(table: str, column: str) -> str:
    """Name the helper check of ``column``: recognisable by its prefix, at most 63 bytes."""
    name = f"{catalog.NOT_NULL_CHECK_PREFIX}{split_relation(table)[1]}_{column}"
    if len(name.encode()) <= MAX_NAME:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name.encode()[: MAX_NAME - 9].decode(errors='ignore')}_{digest}"


def set_not_null(schema_editor: Editor, table: str, column: str) -> None:
    """Make ``column`` NOT NULL without scanning the table under an ACCESS EXCLUSIVE lock.

    ``SET NOT NULL`` scans every row under that lock, unless (PostgreSQL >= 12) a validated
    ``CHECK (column IS NOT NULL)`` already proves the scan unnecessary. So: add that check
    NOT VALID (instant), VALIDATE it (a scan that lets writes through), SET NOT NULL
    (instant), and drop the helper check. Each step is skipped when already done. A
    ``NOT NULL ... NOT VALID`` (PostgreSQL 18) is validated instead, under the same weak lock.
    """
    operation = "SetNotNull"
    info = probe(schema_editor, catalog.column_info, table, column, default=(True, False))
    check = not_null_check_name(table, column)
    if info is not None and info[0]:
        if not constraint_exists(schema_editor, table, check):
            not_null = f"CHECK ({quote_identifier(column)} IS NOT NULL) NOT VALID"
            alter_table(
                schema_editor, table, f"ADD CONSTRAINT {quote_identifier(check)} {not_null}"
            )
            checkpoint(schema_editor, operation, "add check not valid")
        validate_constraint(schema_editor, table, check)
        checkpoint(schema_editor, operation, "validate check")
        alter_table(schema_editor, table, f"ALTER COLUMN {quote_identifier(column)} SET NOT NULL")
        checkpoint(schema_editor, operation, "set not null")
    elif pending := probe(schema_editor, catalog.unvalidated_not_null, table, column, default=None):
        validate_constraint(schema_editor, table, pending)
        checkpoint(schema_editor, operation, "validate not null")
    alter_table(schema_editor, table, f"DROP CONSTRAINT IF EXISTS {quote_identifier(check)}")


def add_foreign_key(schema_editor: Any, model: Any, field: Any, operation: str) -> None:
    """Add ``field``'s foreign key ``NOT VALID`` (a moment's lock on both tables), then
    validate it without blocking writes; each step is skipped when already done."""
    table, target = model._meta.db_table, field.target_field
    suffix = FK_SUFFIX % {
        "to_table": split_relation(target.model._meta.db_table)[1],
        "to_column": target.column,
    }
    name = schema_editor._create_index_name(table, [field.column], suffix=suffix)
    if not constraint_exists(schema_editor, table, name):
        execute(schema_editor, f"{schema_editor._create_fk_sql(model, field, FK_SUFFIX)} NOT VALID")
        checkpoint(schema_editor, operation, "add foreign key not valid")
    validate_constraint(schema_editor, table, name)


def drop_constraint(schema_editor: Editor, table: str, name: str) -> None:
    """Drop a constraint if it is there: a catalog change, under a moment's lock."""
    alter_table(schema_editor, table, f"DROP CONSTRAINT IF EXISTS {quote_identifier(name)}")


def _nulls(constraint: Any) -> str:
    return " NULLS NOT DISTINCT" if getattr(constraint, "nulls_distinct", None) is False else ""


def _is_plain(constraint: Any) -> bool:
    """Whether the constraint is a table constraint (else Django makes it a unique index)."""
    return not (
        constraint.condition or constraint.expressions or constraint.include or constraint.opclasses
    )


class AddUniqueConstraintConcurrently(NonAtomicOperation, AddConstraint):
    """Add a unique constraint through a unique index built ``CONCURRENTLY``.

    The index is built first without blocking writes (resuming a failed earlier build), then
    attached with ``ADD CONSTRAINT ... UNIQUE USING INDEX``, which only needs a moment's lock.
    A constraint with a condition, expressions, ``include`` or ``opclasses`` is a unique index
    in Django's schema, and stays one here.
    """

    reach = Reach.OWN_TABLE
    # Declared here too: django-stubs for Django 5.2 leave them out of AddConstraint.
    model_name: str
    constraint: BaseConstraint

    docs_page = "constraints"

    def __init__(self, model_name: str, constraint: UniqueConstraint) -> None:
        if not isinstance(constraint, UniqueConstraint):
            raise TypeError(
                "AddUniqueConstraintConcurrently.constraint must be a UniqueConstraint; "
                "add check constraints with AddConstraintNotValid and ValidateConstraint."
            )
        super().__init__(model_name, constraint)

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        constraint: Any = self.constraint
        table, name, operation = model._meta.db_table, constraint.name, type(self).__name__
        if not _is_plain(constraint):
            statement = concurrently(cast(Statement, constraint.create_sql(model, schema_editor)))
            build_index(schema_editor, table, name, statement, operation)
            return
        if constraint_exists(schema_editor, table, name):
            return
        build_index(schema_editor, table, name, self._index_sql(model, schema_editor), operation)
        deferred = schema_editor._deferrable_constraint_sql(constraint.deferrable)  # type: ignore[attr-defined]
        add_unique_using_index(schema_editor, table, name, deferred)

    def _index_sql(self, model: Any, schema_editor: Any) -> Any:
        constraint: Any = self.constraint
        fields = [model._meta.get_field(name) for name in constraint.fields]
        template = (
            "CREATE UNIQUE INDEX CONCURRENTLY %(name)s ON %(table)s%(using)s (%(columns)s)"
            f"{_nulls(constraint)}%(include)s%(extra)s%(condition)s"
        )
        return schema_editor._create_index_sql(
            model, fields=fields, name=self.constraint.name, sql=template
        )

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, to_state):
            table, name = model._meta.db_table, self.constraint.name
            drop_constraint(schema_editor, table, name)
            drop_index(schema_editor, table, name)

    def describe(self) -> str:
        return (
            f"Concurrently create unique constraint {self.constraint.name} "
            f"on model {self.model_name}"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"{super().migration_name_fragment}_concurrently"


def add_unique_using_index(
    schema_editor: Editor, table: str, name: str, deferred: str = ""
) -> None:
    """Make the unique index ``name`` the unique constraint ``name``: a catalog change.

    ``deferred`` is Django's SQL for the constraint's ``deferrable`` (`` DEFERRABLE ...``).
    """
    quoted = quote_identifier(name)
    alter_table(
        schema_editor, table, f"ADD CONSTRAINT {quoted} UNIQUE USING INDEX {quoted}{deferred}"
    )


class AddConstraintNotValid(SafeOperation, postgres_operations.AddConstraintNotValid):
    """Add a check constraint ``NOT VALID``: new rows are checked, old ones not yet.

    Follow it with ``ValidateConstraint``, in a later transaction (a non-atomic migration,
    or the next migration), so the scan does not run under the ``ADD``'s lock. A rerun
    skips a constraint that already exists.
    """

    reach = Reach.OWN_TABLE
    # Declared here too: django-stubs for Django 5.2 leave them out of AddConstraint.
    model_name: str
    constraint: BaseConstraint

    docs_page = "constraints"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        model = self.routed_model(app_label, schema_editor, from_state)
        table = model._meta.db_table if model else None
        if table and not constraint_exists(schema_editor, table, self.constraint.name):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, to_state):
            drop_constraint(schema_editor, model._meta.db_table, self.constraint.name)


class ValidateConstraint(SafeOperation, postgres_operations.ValidateConstraint):
    """Validate a NOT VALID constraint under a lock that lets reads and writes through.

    Validating a valid constraint does nothing, so a rerun is safe. Backwards does nothing:
    PostgreSQL has no way to mark a constraint not valid again, and a valid constraint
    is what the previous state's NOT VALID constraint would become anyway.
    """

    reach = Reach.OWN_TABLE
    docs_page = "constraints"
