"""What the safe operations share: one skeleton, catalog probes, quoting, step checkpoints.

``SafeOperation`` is the skeleton: the refusal of a transaction, the model lookup with the
router's check, the model-less routing check. Each operation's class keeps Django's
contract in view (``state_forwards``, ``database_forwards``, ``database_backwards``,
``describe``, ``migration_name_fragment``, ``deconstruct``), as Django's own
``django.contrib.postgres.operations`` does, and calls the skeleton for what is the same.

Every multi-step operation commits each step on its own (it runs in a non-atomic migration)
and looks at the catalog before each step, so a rerun after a crash skips what is done and
finishes the rest. Under ``sqlmigrate`` (``collect_sql``) nothing is probed: every step's
SQL is shown. Every name reaches SQL through ``postgres.tables``: a table by
``quote_relation`` (which keeps Django's ``"schema"."table"`` form), a column or a
constraint by ``quote_identifier``, an index by ``index_relation`` (beside its table).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import NotSupportedError, router
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.postgres.tables import quote_relation, sibling

T = TypeVar("T")
#: Short names for the types of Django's operation contract, so each signature reads in a line.
Editor = BaseDatabaseSchemaEditor
State = ProjectState

logger = logging.getLogger("safemigrate.operations")

DOCS = "docs/operations/"


def _after_step(operation: str, step: str) -> None:
    """Called after every committed step; the tests replace it to inject a crash there."""


def checkpoint(schema_editor: Editor, operation: str, step: str) -> None:
    """Mark the end of one committed step of a multi-step operation (none when only
    collecting SQL, as ``sqlmigrate`` and the analysis do: nothing ran)."""
    if schema_editor.collect_sql:
        return
    logger.debug("%s: %s done", operation, step)
    _after_step(operation, step)


class SafeOperation(Operation):
    """The skeleton of a safe operation: what every one checks the same way.

    List it first, before the Django operation it refines, as Django lists its
    ``NotInTransactionMixin``: ``class AddConstraintNotValid(SafeOperation,
    postgres_operations.AddConstraintNotValid)``.
    """

    # Set in ``__init__`` by the operations on a model (and a field); declared for mypy.
    model_name: str
    name: str

    #: A rerun after a crash finishes the job: it looks at the catalog before each step.
    idempotent = True
    #: Whether it must run outside a transaction (``NonAtomicOperation`` says so).
    outside_transaction = False
    #: The page of ``docs/operations/`` its errors point to.
    docs_page = "index"

    def ensure_not_in_transaction(self, schema_editor: Editor) -> None:
        """Refuse to run inside a transaction, naming the fix.

        ``CONCURRENTLY`` cannot run in a transaction at all, and ``VALIDATE`` in the
        transaction that added the constraint would hold the ACCESS EXCLUSIVE lock of the
        ``ADD`` while it scans the whole table: the point of these operations is separate,
        short steps.
        """
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                f"{type(self).__name__} cannot run inside a transaction: set `atomic = False` "
                "on the migration (and keep other operations in their own migration). "
                f"See {DOCS}{self.docs_page}.md."
            )

    def routed_model(
        self, app_label: str, schema_editor: Editor, state: State, *, in_transaction: bool = False
    ) -> Any | None:
        """Return the operation's model in ``state``, or ``None`` when the database router
        keeps that model off this database; first refuse a transaction if it must (a step
        that is one catalog change, such as most backwards ones, passes ``in_transaction``)."""
        if self.outside_transaction and not in_transaction:
            self.ensure_not_in_transaction(schema_editor)
        model = state.apps.get_model(app_label, self.model_name)
        return model if self.allow_migrate_model(schema_editor.connection.alias, model) else None

    def altered_field(
        self, app_label: str, model: Any, from_state: State, allowed: set[str]
    ) -> tuple[Any, Any]:
        """Return the field before and after the operation, refusing any change but of
        ``allowed`` attributes (an ``AlterField`` form that does one thing only)."""
        old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        new = model._meta.get_field(self.name)
        if not only_changes(old, new, allowed):
            raise ValueError(
                f"{type(self).__name__} on {self.model_name}.{self.name} may change only "
                f"{' and '.join(sorted(allowed))}: put other changes in an AlterField of their "
                f"own. See {DOCS}{self.docs_page}.md."
            )
        return old, new

    def routed(self, app_label: str, schema_editor: Editor) -> bool:
        """Whether the router lets an operation without a model (a table named by hand) run
        on this database, as ``RunSQL`` asks it."""
        if self.outside_transaction:
            self.ensure_not_in_transaction(schema_editor)
        return bool(router.allow_migrate(schema_editor.connection.alias, app_label))


class NonAtomicOperation(SafeOperation):
    """A safe operation that must run outside a transaction: its steps run ``CONCURRENTLY``
    or commit one by one, so its migration needs ``atomic = False``."""

    outside_transaction = True


def probe(schema_editor: Editor, fn: Callable[..., T], *args: Any, default: Any) -> T:
    """Run a catalog probe, or return ``default`` when only collecting SQL (``sqlmigrate``)."""
    if schema_editor.collect_sql:
        return cast(T, default)
    with schema_editor.connection.cursor() as cursor:
        return fn(cursor, *args)


def execute(schema_editor: Editor, sql: str | Statement, params: Any = ()) -> None:
    """Run one statement through the schema editor, so ``sqlmigrate`` and the guard see it."""
    schema_editor.execute(sql, params if params else None)


def alter_table(schema_editor: Editor, table: str, change: str, params: Any = ()) -> None:
    """Run ``ALTER TABLE <table> <change>``, the table quoted as a relation."""
    execute(schema_editor, f"ALTER TABLE {quote_relation(table)} {change}", params)


def name_fragment(*words: str) -> str:
    """Join words into a migration name fragment Django can put in a file name."""
    return "_".join(re.sub(r"\W+", "_", word.lower()).strip("_") for word in words)


def index_relation(table: str, index: str) -> str:
    """Quote index ``index`` of ``table`` as SQL names it: in the table's schema."""
    return quote_relation(sibling(table, index))


def server_version(schema_editor: Editor) -> int:
    """Return the server version as PostgreSQL numbers it (150004 for 15.4)."""
    version = getattr(schema_editor.connection, "pg_version", None)
    return int(version) if version else 0


def only_changes(old: Any, new: Any, attributes: set[str]) -> bool:
    """Whether ``old`` and ``new`` differ in nothing but ``attributes``."""
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()
    for name in attributes:
        old_kwargs.pop(name, None)
        new_kwargs.pop(name, None)
    return bool((old_path, old_args, old_kwargs) == (new_path, new_args, new_kwargs))
