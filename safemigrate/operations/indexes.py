"""Concurrent index creation and removal that survive a failed earlier attempt.

Django's ``AddIndexConcurrently`` fails on a rerun after a crash: the crashed ``CREATE INDEX
CONCURRENTLY`` left an INVALID index under the same name. These subclasses look at
``pg_index.indisvalid`` first: a valid index is kept, an invalid one is dropped
(concurrently) and rebuilt, and the build's progress is logged while it runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres import operations as postgres_operations
from django.db.backends.ddl_references import Statement
from django.db.models import Index

from safemigrate.declarations import Reach
from safemigrate.operations import progress
from safemigrate.operations.base import (
    Editor,
    NonAtomicOperation,
    State,
    checkpoint,
    execute,
    index_relation,
    probe,
)
from safemigrate.postgres import catalog

CREATE_INDEX = "CREATE INDEX "
CREATE_UNIQUE_INDEX = "CREATE UNIQUE INDEX "


def concurrently(statement: Statement) -> Statement:
    """Return ``statement`` (a ``CREATE [UNIQUE] INDEX``) as its ``CONCURRENTLY`` form."""
    template = str(statement.template)
    if "CONCURRENTLY" not in template:
        for prefix in (CREATE_UNIQUE_INDEX, CREATE_INDEX):
            if template.startswith(prefix):
                template = f"{prefix}CONCURRENTLY {template[len(prefix) :]}"
                break
    return Statement(template, **statement.parts)


def build_index(
    schema_editor: Editor, table: str, name: str, create: Statement | str, operation: str
) -> None:
    """Build ``table``'s index ``name`` with ``create`` (a ``CONCURRENTLY`` statement),
    resumably.

    A valid index of that name means an earlier run finished: nothing to do. An INVALID one
    is what a crashed or cancelled build leaves; it is dropped concurrently and rebuilt.
    """
    valid = probe(schema_editor, catalog.index_validity, table, name, default=None)
    if valid:
        return
    if valid is False:
        drop_index(schema_editor, table, name)
        checkpoint(schema_editor, operation, f"drop invalid index {name}")
    connection = schema_editor.connection
    with progress.watching(connection, name, schema_editor.collect_sql):
        execute(schema_editor, create)
    checkpoint(schema_editor, operation, f"build index {name}")


def drop_index(schema_editor: Editor, table: str, name: str) -> None:
    """Drop ``table``'s index ``name`` without blocking reads or writes on the table."""
    execute(schema_editor, f"DROP INDEX CONCURRENTLY IF EXISTS {index_relation(table, name)}")


def _create_index(index: Index, model: Any, schema_editor: Editor) -> Statement:
    statement = index.create_sql(model, schema_editor, concurrently=True)
    return concurrently(statement)


class AddIndexConcurrently(NonAtomicOperation, postgres_operations.AddIndexConcurrently):
    """Create an index with ``CREATE INDEX CONCURRENTLY``, resuming a failed earlier attempt."""

    reach = Reach.OWN_TABLE
    docs_page = "indexes"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, to_state):
            statement = _create_index(self.index, model, schema_editor)
            table, name = model._meta.db_table, self.index.name
            build_index(schema_editor, table, name, statement, type(self).__name__)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, from_state):
            drop_index(schema_editor, model._meta.db_table, self.index.name)


class RemoveIndexConcurrently(NonAtomicOperation, postgres_operations.RemoveIndexConcurrently):
    """Drop an index with ``DROP INDEX CONCURRENTLY``; backwards rebuilds it resumably.

    A plain ``DROP INDEX`` takes an ACCESS EXCLUSIVE lock on the table: while it waits for
    a long query to finish, every read and write of the table queues behind it.
    """

    reach = Reach.OWN_TABLE
    docs_page = "indexes"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, from_state):
            drop_index(schema_editor, model._meta.db_table, self.name)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if model := self.routed_model(app_label, schema_editor, to_state):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            statement = _create_index(index, model, schema_editor)
            build_index(
                schema_editor, model._meta.db_table, self.name, statement, type(self).__name__
            )
