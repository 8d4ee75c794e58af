"""Indexes on partitioned tables, and detaching partitions, without blocking traffic.

``CREATE INDEX`` on a partitioned table cannot be ``CONCURRENTLY``: it locks every partition
against writes for the whole build. The non-blocking recipe: an index on the parent alone
(``ON ONLY``, instant, INVALID until complete), each partition's index built
``CONCURRENTLY``, each attached to the parent's; once all are attached the parent's index
turns valid by itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement, Table
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.operations import AddIndex
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.declarations import Phase
from safemigrate.operations.base import (
    checkpoint,
    ensure_not_in_transaction,
    execute,
    probe,
    quote,
    server_version,
)
from safemigrate.operations.indexes import build_index, concurrently
from safemigrate.postgres import catalog

MAX_NAME = 63
DETACH_CONCURRENTLY_VERSION = 140000


def partition_index_name(partition: str, index: str) -> str:
    """Name a partition's index after the partition and the parent's index, within 63 bytes."""
    name = f"{partition}_{index}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def _retarget(statement: Statement, template: str, name: str, table: str, quote_name: Any) -> Any:
    parts = dict(statement.parts, name=quote_name(name), table=Table(table, quote_name))
    return Statement(template, **parts)


class AddIndexToPartitionedTable(AddIndex):
    """Add an index to a partitioned table without locking its partitions against writes.

    Resumable: the parent's index is created ``IF NOT EXISTS``, a partition's valid index is
    kept, an invalid one rebuilt, and an attached one left attached.
    """

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True
    atomic = False

    def describe(self) -> str:
        return f"Create index {self.index.name} on partitioned model {self.model_name}"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        ensure_not_in_transaction(type(self).__name__, schema_editor, "partitions")
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table, name = model._meta.db_table, self.index.name
        statement = self.index.create_sql(model, schema_editor)
        template = str(statement.template).replace(
            "CREATE INDEX %(name)s ON %(table)s",
            "CREATE INDEX IF NOT EXISTS %(name)s ON ONLY %(table)s",
        )
        execute(
            schema_editor, _retarget(statement, template, name, table, schema_editor.quote_name)
        )
        checkpoint(schema_editor, type(self).__name__, "parent index")
        for partition in probe(schema_editor, catalog.partitions_of, table, default=[]):
            self._partition(schema_editor, statement, partition)

    def _partition(
        self, schema_editor: BaseDatabaseSchemaEditor, statement: Statement, partition: str
    ) -> None:
        child = partition_index_name(partition, self.index.name)
        create = concurrently(statement)
        create = _retarget(create, str(create.template), child, partition, schema_editor.quote_name)
        build_index(schema_editor, child, create, type(self).__name__)
        if not probe(schema_editor, catalog.index_attached, self.index.name, child, default=False):
            execute(
                schema_editor,
                f"ALTER INDEX {quote(schema_editor, self.index.name)} "
                f"ATTACH PARTITION {quote(schema_editor, child)}",
            )
            checkpoint(schema_editor, type(self).__name__, f"attach {child}")

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            # A partitioned index cannot be dropped CONCURRENTLY; dropping is quick.
            execute(schema_editor, f"DROP INDEX IF EXISTS {quote(schema_editor, self.index.name)}")


class DetachPartitionConcurrently(Operation):
    """Detach a partition with ``DETACH PARTITION ... CONCURRENTLY`` (PostgreSQL >= 14).

    A plain ``DETACH`` takes ACCESS EXCLUSIVE on the parent: every query of the partitioned
    table waits. A cancelled concurrent detach leaves the partition "detach pending"; a
    rerun finishes it with ``DETACH ... FINALIZE``. On older servers a plain ``DETACH`` runs
    under the lock timeout. ``bound`` (e.g. ``"FROM ('2024-01-01') TO ('2024-02-01')"``)
    makes it reversible: backwards attaches the partition again ``FOR VALUES`` that bound.
    """

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True
    #: Old code still reads and writes the partition's rows through the parent: it runs
    #: only once the old code is gone.
    deploy_phase = Phase.POST_DEPLOY
    atomic = False

    def __init__(self, table: str, partition: str, bound: str = "") -> None:
        self.table = table
        self.partition = partition
        self.bound = bound

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return bool(self.bound)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"table": self.table, "partition": self.partition}
        if self.bound:
            kwargs["bound"] = self.bound
        return (type(self).__name__, [], kwargs)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Partitions are tables Django's state does not model."""

    def describe(self) -> str:
        return f"Detach partition {self.partition} from {self.table}"

    @property
    def migration_name_fragment(self) -> str:
        return f"detach_{self.partition.lower()}"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        state = probe(
            schema_editor, catalog.partition_state, self.table, self.partition, default="attached"
        )
        if state is None:
            return
        detach = (
            f"ALTER TABLE {quote(schema_editor, self.table)} "
            f"DETACH PARTITION {quote(schema_editor, self.partition)}"
        )
        if state == "detach pending":
            execute(schema_editor, f"{detach} FINALIZE")
        elif server_version(schema_editor) >= DETACH_CONCURRENTLY_VERSION:
            ensure_not_in_transaction(type(self).__name__, schema_editor, "partitions")
            execute(schema_editor, f"{detach} CONCURRENTLY")
        else:
            execute(schema_editor, detach)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not self.bound:
            raise IrreversibleError(
                f"DetachPartitionConcurrently of {self.partition} has no bound: give "
                'bound="FROM (...) TO (...)" to attach it again backwards.'
            )
        state = probe(
            schema_editor, catalog.partition_state, self.table, self.partition, default=None
        )
        if state is None:
            execute(
                schema_editor,
                f"ALTER TABLE {quote(schema_editor, self.table)} ATTACH PARTITION "
                f"{quote(schema_editor, self.partition)} FOR VALUES {self.bound}",
            )
