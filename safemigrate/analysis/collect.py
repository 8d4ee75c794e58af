"""The SQL each operation of a migration would run, collected as ``sqlmigrate`` does.

A schema editor in ``collect_sql`` mode records statements instead of running them. Unlike
``sqlmigrate``, SQL is attributed to the operation that caused it: deferred statements
(indexes and foreign keys Django adds at the end) are flushed after each operation. The
catalog questions the editor still asks are answered as the plan would have left the
database (``introspection``). An operation whose SQL cannot be rendered anyway keeps the
error instead: the analysis then judges it from the operation alone, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.analysis.introspection import PlanCatalog
from safemigrate.analysis.scope import advanced, scoped_state

Step = tuple[int, Operation, ProjectState, ProjectState]


@dataclass
class CollectedOperation:
    """One operation, the SQL it emits, and the state of the database before it runs.

    ``error`` says why its SQL could not be collected (the SQL is then what it emitted
    before failing, often nothing).
    """

    index: int
    operation: Operation
    sql: list[str] = field(default_factory=list)
    python: bool = False
    irreversible: bool = False
    from_state: ProjectState | None = None
    error: str = ""


def collect(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    state: ProjectState,
    *,
    backwards: bool = False,
    catalog: PlanCatalog | None = None,
) -> tuple[list[CollectedOperation], ProjectState]:
    """Return each operation of ``migration`` with its SQL, and the state after it.

    ``state`` is the project state before the migration; it is not modified. Nothing here
    raises for one operation's sake: a failure is kept on the operation it belongs to. From
    the part of the state the migration needs when that is enough (``scope``): an operation
    that fails there is collected again from the whole state.
    """
    catalog = catalog or PlanCatalog(connection, live=None)
    scoped = scoped_state(migration, state)
    if scoped is not None:
        collected, _ = _collect_from(connection, migration, scoped, backwards, catalog)
        if not any(item.error for item in collected):
            return collected, advanced(migration, state)
    return _collect_from(connection, migration, state, backwards, catalog)


def _collect_from(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    state: ProjectState,
    backwards: bool,
    catalog: PlanCatalog,
) -> tuple[list[CollectedOperation], ProjectState]:
    """``collect()`` from ``state`` as it is given, the whole or a part."""
    _render(migration, state)
    steps, failed = _forward_steps(migration, state)
    after = steps[-1][3] if steps else state
    if backwards:
        steps = [(i, op, after, before) for i, op, before, after in reversed(steps)]
    editor = connection.schema_editor(collect_sql=True, atomic=False)
    with editor, catalog.answering(editor):
        collected = [_collect_one(editor, migration, step, backwards, catalog) for step in steps]
    return [*collected, *failed], after


def _render(migration: Migration, state: ProjectState) -> None:
    """Render the models of the state before a migration whose SQL is collected.

    The states replayed from it are then clones of a rendered state, which render again only
    the models their operation changes, as ``migrate`` renders them; cloned from an
    unrendered state, each renders every model of the project when its SQL is collected
    (two full renders for a one-operation migration on the real apps' history: 70 ms). A
    state that does not render is left as it is: its operations' SQL says why.
    """
    if any(operation.reduces_to_sql for operation in migration.operations):
        with suppress(Exception):
            state.apps  # noqa: B018 (a cached property: the rendered models stay on the state)


def _forward_steps(
    migration: Migration, state: ProjectState
) -> tuple[list[Step], list[CollectedOperation]]:
    """Replay the migration's states; an operation whose state change fails ends the replay.

    The operations from there on are returned apart, each with the error: ``migrate``
    would fail at the same place, and nothing after it can be simulated.
    """
    steps: list[Step] = []
    current = state
    for index, operation in enumerate(migration.operations):
        after = current.clone()
        try:
            operation.state_forwards(migration.app_label, after)
        except Exception as error:  # any failure is the operation's finding
            reason = f"its state change failed: {_describe(error)}"
            return steps, [
                CollectedOperation(i, op, from_state=current, error=reason)
                for i, op in enumerate(migration.operations)
                if i >= index
            ]
        steps.append((index, operation, current, after))
        current = after
    return steps, []


def _collect_one(
    editor: BaseDatabaseSchemaEditor,
    migration: Migration,
    step: Step,
    backwards: bool,
    catalog: PlanCatalog,
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
    catalog.state = from_state
    with _capture(editor) as captured:
        try:
            run(migration.app_label, editor, from_state, to_state)
        except Exception as error:  # any failure is the operation's finding
            result.error = _describe(error)
    result.sql = captured
    return result


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()


@contextmanager
def _capture(editor: BaseDatabaseSchemaEditor) -> Iterator[list[str]]:
    """Collect what one operation emits, deferred statements included."""
    captured: list[str] = []
    start = len(editor.collected_sql)
    editor.deferred_sql = []
    try:
        yield captured
    finally:
        captured.extend(editor.collected_sql[start:])
        captured.extend(str(sql) for sql in editor.deferred_sql)
        editor.deferred_sql = []
