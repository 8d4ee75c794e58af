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
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement
from django.db.migrations.operations import AddConstraint
from django.db.migrations.state import ProjectState
from django.db.models import UniqueConstraint
from django.db.models.constraints import BaseConstraint

from safemigrate.operations.base import (
    checkpoint,
    ensure_not_in_transaction,
    execute,
    probe,
    quote,
)
from safemigrate.operations.indexes import build_index, concurrently, drop_index
from safemigrate.postgres import catalog

MAX_NAME = 63


def constraint_exists(schema_editor: BaseDatabaseSchemaEditor, table: str, name: str) -> bool:
    return probe(schema_editor, catalog.constraint_validity, table, name, default=None) is not None


def validate_constraint(schema_editor: BaseDatabaseSchemaEditor, table: str, name: str) -> None:
    """Check existing rows against a NOT VALID constraint without blocking writes."""
    execute(
        schema_editor,
        f"ALTER TABLE {quote(schema_editor, table)} VALIDATE CONSTRAINT "
        f"{quote(schema_editor, name)}",
    )


def not_null_check_name(table: str, column: str) -> str:
    """Name the helper check of ``column``: recognisable by its prefix, at most 63 bytes."""
    name = f"{catalog.NOT_NULL_CHECK_PREFIX}{table}_{column}"
    if len(name.encode()) <= MAX_NAME:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name.encode()[: MAX_NAME - 9].decode(errors='ignore')}_{digest}"


def set_not_null(schema_editor: BaseDatabaseSchemaEditor, table: str, column: str) -> None:
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
    qtable, qcheck = quote(schema_editor, table), quote(schema_editor, check)
    if info is not None and info[0]:
        if not constraint_exists(schema_editor, table, check):
            execute(
                schema_editor,
                f"ALTER TABLE {qtable} ADD CONSTRAINT {qcheck} "
                f"CHECK ({quote(schema_editor, column)} IS NOT NULL) NOT VALID",
            )
            checkpoint(schema_editor, operation, "add check not valid")
        validate_constraint(schema_editor, table, check)
        checkpoint(schema_editor, operation, "validate check")
        execute(
            schema_editor,
            f"ALTER TABLE {qtable} ALTER COLUMN {quote(schema_editor, column)} SET NOT NULL",
        )
        checkpoint(schema_editor, operation, "set not null")
    elif pending := probe(schema_editor, catalog.unvalidated_not_null, table, column, default=None):
        validate_constraint(schema_editor, table, pending)
        checkpoint(schema_editor, operation, "validate not null")
    execute(schema_editor, f"ALTER TABLE {qtable} DROP CONSTRAINT IF EXISTS {qcheck}")


def _nulls(constraint: Any) -> str:
    return " NULLS NOT DISTINCT" if getattr(constraint, "nulls_distinct", None) is False else ""


def _is_plain(constraint: Any) -> bool:
    """Whether the constraint is a table constraint (else Django makes it a unique index)."""
    return not (
        constraint.condition or constraint.expressions or constraint.include or constraint.opclasses
    )


class AddUniqueConstraintConcurrently(AddConstraint):
    """Add a unique constraint through a unique index built ``CONCURRENTLY``.

    The index is built first without blocking writes (resuming a failed earlier build), then
    attached with ``ADD CONSTRAINT ... UNIQUE USING INDEX``, which only needs a moment's lock.
    A constraint with a condition, expressions, ``include`` or ``opclasses`` is a unique index
    in Django's schema, and stays one here.
    """

    # Declared here too: django-stubs for Django 5.2 leave them out of AddConstraint.
    model_name: str
    constraint: BaseConstraint

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True
    atomic = False

    def __init__(self, model_name: str, constraint: UniqueConstraint) -> None:
        if not isinstance(constraint, UniqueConstraint):
            raise TypeError(
                "AddUniqueConstraintConcurrently.constraint must be a UniqueConstraint; "
                "add check constraints with AddConstraintNotValid and ValidateConstraint."
            )
        super().__init__(model_name, constraint)

    def describe(self) -> str:
        return (
            f"Concurrently create unique constraint {self.constraint.name} "
            f"on model {self.model_name}"
        )

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        ensure_not_in_transaction(type(self).__name__, schema_editor, "constraints")
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        constraint: Any = self.constraint
        table, name = model._meta.db_table, constraint.name
        if not _is_plain(constraint):
            statement = concurrently(cast(Statement, constraint.create_sql(model, schema_editor)))
            build_index(schema_editor, name, statement, type(self).__name__)
            return
        if constraint_exists(schema_editor, table, name):
            return
        build_index(schema_editor, name, self._index_sql(model, schema_editor), type(self).__name__)
        editor: Any = schema_editor
        deferrable = editor._deferrable_constraint_sql(constraint.deferrable)
        execute(
            schema_editor,
            f"ALTER TABLE {quote(schema_editor, table)} ADD CONSTRAINT {quote(schema_editor, name)}"
            f" UNIQUE USING INDEX {quote(schema_editor, name)}{deferrable}",
        )

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
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        name = self.constraint.name
        execute(
            schema_editor,
            f"ALTER TABLE {quote(schema_editor, model._meta.db_table)} "
            f"DROP CONSTRAINT IF EXISTS {quote(schema_editor, name)}",
        )
        drop_index(schema_editor, name)

    @property
    def migration_name_fragment(self) -> str:
        return f"{super().migration_name_fragment}_concurrently"


class AddConstraintNotValid(postgres_operations.AddConstraintNotValid):
    """Add a check constraint ``NOT VALID``: new rows are checked, old ones not yet.

    Follow it with ``ValidateConstraint``, in a later transaction (a non-atomic migration,
    or the next migration), so the scan does not run under the ``ADD``'s lock. A rerun
    skips a constraint that already exists.
    """

    # Declared here too: django-stubs for Django 5.2 leave them out of AddConstraint.
    model_name: str
    constraint: BaseConstraint

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        if constraint_exists(schema_editor, table, self.constraint.name):
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            execute(
                schema_editor,
                f"ALTER TABLE {quote(schema_editor, model._meta.db_table)} "
                f"DROP CONSTRAINT IF EXISTS {quote(schema_editor, self.constraint.name)}",
            )


class ValidateConstraint(postgres_operations.ValidateConstraint):
    """Validate a NOT VALID constraint under a lock that lets reads and writes through.

    Validating a valid constraint does nothing, so a rerun is safe. Backwards does nothing:
    PostgreSQL has no way to mark a constraint not valid again, and a valid constraint
    is what the previous state's NOT VALID constraint would become anyway.
    """

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True
