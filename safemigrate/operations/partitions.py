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

from django.db.backends.ddl_references import Statement
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.operations import AddIndex

from safemigrate.declarations import Phase
from safemigrate.operations.base import (
    Editor,
    NonAtomicOperation,
    SafeOperation,
    State,
    alter_table,
    checkpoint,
    execute,
    index_relation,
    name_fragment,
    probe,
    server_version,
)
from safemigrate.operations.indexes import build_index, concurrently
from safemigrate.postgres import catalog
from safemigrate.postgres.tables import quote_identifier, quote_relation, sibling, split_relation

MAX_NAME = 63
DETACH_CONCURRENTLY_VERSION = 140000


def partition_index_name(partition: str, index: str) -> str:
    """Name a partition's index after the partition and the parent's index, within 63 bytes."""
    name = f"{split_relation(partition)[1]}_{index}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def _retarget(statement: Statement, template: str, name: str, table: str) -> Statement:
    """``statement`` (a ``CREATE INDEX``) for index ``name`` on ``table`` instead."""
    parts = dict(statement.parts, name=quote_identifier(name), table=quote_relation(table))
    return Statement(template, **parts)


class AddIndexToPartitionedTable(NonAtomicOperation, AddIndex):
    """Add an index to a partitioned table without locking its partitions against writes.

    Resumable: the parent's index is created ``IF NOT EXISTS``, a partition's valid index is
    kept, an invalid one rebuilt, and an attached one left attached.
    """

    docs_page = "partitions"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not (model := self.routed_model(app_label, schema_editor, to_state)):
            return
        table, name = model._meta.db_table, self.index.name
        statement = self.index.create_sql(model, schema_editor)
        template = str(statement.template).replace(
            "CREATE INDEX %(name)s ON %(table)s",
            "CREATE INDEX IF NOT EXISTS %(name)s ON ONLY %(table)s",
        )
        execute(schema_editor, _retarget(statement, template, name, table))
        checkpoint(schema_editor, type(self).__name__, "parent index")
        for partition in probe(schema_editor, catalog.partitions_of, table, default=[]):
            self._partition(schema_editor, table, statement, partition)

    def _partition(
        self, schema_editor: Editor, table: str, statement: Statement, partition: str
    ) -> None:
        child = partition_index_name(partition, self.index.name)
        create = concurrently(statement)
        build_index(
            schema_editor,
            partition,
            child,
            _retarget(create, str(create.template), child, partition),
            type(self).__name__,
        )
        parent_index, child_index = sibling(table, self.index.name), sibling(partition, child)
        if not probe(
            schema_editor, catalog.index_attached, parent_index, child_index, default=False
        ):
            execute(
                schema_editor,
                f"ALTER INDEX {quote_relation(parent_index)} "
                f"ATTACH PARTITION {quote_relation(child_index)}",
            )
            checkpoint(schema_editor, type(self).__name__, f"attach {child}")

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        model = self.routed_model(app_label, schema_editor, from_state, in_transaction=True)
        if model:
            # A partitioned index cannot be dropped CONCURRENTLY; dropping is quick.
            index = index_relation(model._meta.db_table, self.index.name)
            execute(schema_editor, f"DROP INDEX IF EXISTS {index}")

    def describe(self) -> str:
        return f"Create index {self.index.name} on partitioned model {self.model_name}"


class DetachPartitionConcurrently(SafeOperation):
    """Detach a partition with ``DETACH PARTITION ... CONCURRENTLY`` (PostgreSQL >= 14).

    A plain ``DETACH`` takes ACCESS EXCLUSIVE on the parent: every query of the partitioned
    table waits. A cancelled concurrent detach leaves the partition "detach pending"; a
    rerun finishes it with ``DETACH ... FINALIZE``. On older servers a plain ``DETACH`` runs
    under the lock timeout. ``bound`` (e.g. ``"FROM ('2024-01-01') TO ('2024-02-01')"``)
    makes it reversible: backwards attaches the partition again ``FOR VALUES`` that bound.
    """

    #: Old code still reads and writes the partition's rows through the parent: it runs
    #: only once the old code is gone.
    deploy_phase = Phase.POST_DEPLOY
    docs_page = "partitions"

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

    def state_forwards(self, app_label: str, state: State) -> None:
        """Partitions are tables Django's state does not model."""

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not self.routed(app_label, schema_editor):
            return
        table, partition = self.table, self.partition
        state = probe(schema_editor, catalog.partition_state, table, partition, default="attached")
        detach = f"DETACH PARTITION {quote_relation(partition)}"
        if state == "detach pending":
            alter_table(schema_editor, table, f"{detach} FINALIZE")
        elif state and server_version(schema_editor) >= DETACH_CONCURRENTLY_VERSION:
            self.ensure_not_in_transaction(schema_editor)
            alter_table(schema_editor, table, f"{detach} CONCURRENTLY")
        elif state:
            alter_table(schema_editor, table, detach)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if not self.bound:
            raise IrreversibleError(
                f"DetachPartitionConcurrently of {self.partition} has no bound: give "
                'bound="FROM (...) TO (...)" to attach it again backwards.'
            )
        if not self.routed(app_label, schema_editor):
            return
        state = probe(
            schema_editor, catalog.partition_state, self.table, self.partition, default=None
        )
        if state is None:
            attach = f"ATTACH PARTITION {quote_relation(self.partition)} FOR VALUES {self.bound}"
            alter_table(schema_editor, self.table, attach)

    def describe(self) -> str:
        return f"Detach partition {self.partition} from {self.table}"

    @property
    def migration_name_fragment(self) -> str:
        return name_fragment("detach", self.partition)
