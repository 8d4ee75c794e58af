"""The SQL each operation of a migration would run, collected as ``sqlmigrate`` does.

A schema editor in ``collect_sql`` mode records statements instead of running them. Unlike
``sqlmigrate``, SQL is attributed to the operation that caused it: deferred statements
(indexes and foreign keys Django adds at the end) are flushed after each operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState


@dataclass
class CollectedOperation:
    """One operation, the SQL it emits, and the states around it."""

    index: int
    operation: Operation
    sql: list[str] = field(default_factory=list)
    python: bool = False
    irreversible: bool = False
    from_state: ProjectState | None = None


def collect(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    state: ProjectState,
    *,
    backwards: bool = False,
) -> tuple[list[CollectedOperation], ProjectState]:
    """Return each operation of ``migration`` with its SQL, and the state after it.

    ``state`` is the project state before the migration; it is not modified.
    """
    steps = _forward_steps(migration, state)
    after = steps[-1][3] if steps else state
    if backwards:
        steps = [(i, op, after, before) for i, op, before, after in reversed(steps)]
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        return [_collect_one(editor, migration, step, backwards) for step in steps], after


def _forward_steps(
    migration: Migration, state: ProjectState
) -> list[tuple[int, Operation, ProjectState, ProjectState]]:
    steps = []
    current = state
    for index, operation in enumerate(migration.operations):
        after = current.clone()
        operation.state_forwards(migration.app_label, after)
        steps.append((index, operation, current, after))
        current = after
    return steps


def _collect_one(
    editor: BaseDatabaseSchemaEditor,
    migration: Migration,
    step: tuple[int, Operation, ProjectState, ProjectState],
    backwards: bool,
) -> CollectedOperation:
    index, operation, from_state, to_state = step
    result = CollectedOperation(index, operation, from_state=from_state)
    if not operation.reduces_to_sql:
        result.python = True
        return result
    if backwards and not operation.reversible:
        result.irreversible = True
        return result
    run: Callable[..., Any] = (
        operation.database_backwards if backwards else operation.database_forwards
    )
    with _capture(editor) as captured:
        run(migration.app_label, editor, from_state, to_state)
    result.sql = captured
    return result


@contextmanager
def _capture(editor: BaseDatabaseSchemaEditor) -> Iterator[list[str]]:
    """Collect what one operation emits, deferred statements included."""
    captured: list[str] = []
    start = len(editor.collected_sql)
    editor.deferred_sql = []
    yield captured
    captured.extend(editor.collected_sql[start:])
    captured.extend(str(sql) for sql in editor.deferred_sql)
    editor.deferred_sql = []
