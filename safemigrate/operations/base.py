"""What the safe operations share: context checks, catalog probes, step checkpoints.

Every multi-step operation commits each step on its own (it runs in a non-atomic migration)
and looks at the catalog before each step, so a rerun after a crash skips what is done and
finishes the rest. Under ``sqlmigrate`` (``collect_sql``) nothing is probed: every step's
SQL is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import NotSupportedError
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement

T = TypeVar("T")

logger = logging.getLogger("safemigrate.operations")

DOCS = "docs/operations/"


def _after_step(operation: str, step: str) -> None:
    """Called after every committed step; the tests replace it to inject a crash there."""


def checkpoint(schema_editor: BaseDatabaseSchemaEditor, operation: str, step: str) -> None:
    """Mark the end of one committed step of a multi-step operation (none when only
    collecting SQL, as ``sqlmigrate`` and the analysis do: nothing ran)."""
    if schema_editor.collect_sql:
        return
    logger.debug("%s: %s done", operation, step)
    _after_step(operation, step)


def ensure_not_in_transaction(
    name: str, schema_editor: BaseDatabaseSchemaEditor, page: str
) -> None:
    """Refuse to run inside a transaction, naming the fix.

    ``CONCURRENTLY`` cannot run in a transaction at all, and ``VALIDATE`` in the transaction
    that added the constraint would hold the ACCESS EXCLUSIVE lock of the ``ADD`` while it
    scans the whole table: the point of each of these operations is separate, short steps.
    """
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{name} cannot run inside a transaction: set `atomic = False` on the migration "
            f"(and keep other operations in their own migration). See {DOCS}{page}.md."
        )


def ensure_postgresql(name: str, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        raise NotSupportedError(f"{name} needs PostgreSQL, not {schema_editor.connection.vendor}.")


def probe(
    schema_editor: BaseDatabaseSchemaEditor, fn: Callable[..., T], *args: Any, default: Any
) -> T:
    """Run a catalog probe, or return ``default`` when only collecting SQL (``sqlmigrate``)."""
    if schema_editor.collect_sql:
        return cast(T, default)
    with schema_editor.connection.cursor() as cursor:
        return fn(cursor, *args)


def execute(
    schema_editor: BaseDatabaseSchemaEditor, sql: str | Statement, params: Any = ()
) -> None:
    """Run one statement through the schema editor, so ``sqlmigrate`` and the guard see it."""
    schema_editor.execute(sql, params if params else None)


def quote(schema_editor: BaseDatabaseSchemaEditor, name: str) -> str:
    return schema_editor.quote_name(name)


def server_version(schema_editor: BaseDatabaseSchemaEditor) -> int:
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
