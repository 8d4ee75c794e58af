"""Facts read from the Django operation itself rather than from its SQL.

Some facts only the operation shows (a ``RunPython`` without reverse code). And when an
operation's SQL cannot be collected, the operation alone still says most of what it will do
to the table: that it builds an index, drops a column or changes a type. Those facts are
judged like any other, next to the finding that says the SQL was not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.analysis.sqlfacts import Fact
from safemigrate.analysis.state import table_of


def _runpython(operation: Any, backwards: bool) -> list[Fact]:
    if backwards or operation.reverse_code is not None:
        return []
    return [Fact("runpython_irreversible", "")]


def _runsql(operation: Any, backwards: bool) -> list[Fact]:
    if backwards or operation.reverse_sql is not None:
        return []
    return [Fact("runsql_irreversible", "")]


#: Facts only the operation object shows, by operation class.
OPERATION_FACTS: dict[type[Operation], Callable[[Any, bool], list[Fact]]] = {
    ops.RunPython: _runpython,
    ops.RunSQL: _runsql,
}


def operation_facts(operation: Operation, backwards: bool) -> list[Fact]:
    """Return the facts only the operation object shows."""
    for kind, facts in OPERATION_FACTS.items():
        if isinstance(operation, kind):
            return facts(operation, backwards)
    return []


# -- judged from the operation alone, when its SQL could not be collected -------------------

#: (operation, its model's state before it, the model's table, connection) -> facts.
Alone = Callable[[Any, Any, str, BaseDatabaseWrapper], list[Fact]]


def _added_together(kind: str) -> Alone:
    def facts(op: Any, model: Any, table: str, connection: Any) -> list[Fact]:
        old = {tuple(f) for f in model.options.get(op.option_name) or ()}
        added = sorted(tuple(f) for f in op.option_value or () if tuple(f) not in old)
        return [Fact(kind, table, ", ".join(fields)) for fields in added]

    return facts


def _constraint(op: Any, model: Any, table: str, connection: Any) -> list[Fact]:
    kind = {
        "UniqueConstraint": "add_unique",
        "CheckConstraint": "add_check",
        "ExclusionConstraint": "add_exclusion",
    }.get(type(op.constraint).__name__)
    return [Fact(kind, table, op.constraint.name)] if kind else []


def _alter_field(op: Any, model: Any, table: str, connection: Any) -> list[Fact]:
    old = model.fields.get(op.name)
    if old is None:
        return []
    column = old.db_column or (f"{op.name}_id" if old.many_to_one else op.name)
    facts = []
    if _db_type(old, connection) != _db_type(op.field, connection):
        facts.append(Fact("alter_column_type", table, column))
    if old.null and not op.field.null:
        facts.append(Fact("set_not_null", table, column))
    return facts


def _db_type(field: Any, connection: BaseDatabaseWrapper) -> str | None:
    try:
        return str(field.db_type(connection))
    except (AttributeError, TypeError, ValueError):
        return None  # a relation whose target only a rendered model knows


def _one(kind: str, detail: Callable[[Any], str] = lambda op: "") -> Alone:
    return lambda op, model, table, connection: [Fact(kind, table, detail(op))]


#: What each kind of operation does, read from the operation (forwards only).
ALONE: dict[type[Operation], Alone] = {
    ops.AddIndex: _one("create_index", lambda op: op.index.name),
    ops.RemoveIndex: lambda op, model, table, connection: [Fact("drop_index", op.name)],
    ops.AlterUniqueTogether: _added_together("add_unique"),
    ops.AlterIndexTogether: _added_together("create_index"),
    ops.AddConstraint: _constraint,
    ops.AlterField: _alter_field,
    ops.RemoveField: _one("drop_column", lambda op: op.name),
    ops.RenameField: _one("rename_column", lambda op: op.old_name),
    ops.DeleteModel: _one("drop_table"),
    ops.RenameModel: _one("rename_table", lambda op: op.new_name),
    ops.AlterModelTable: _one("rename_table", lambda op: str(op.table)),
}


def facts_alone(
    operation: Operation,
    app_label: str,
    state: ProjectState,
    connection: BaseDatabaseWrapper,
    backwards: bool,
) -> list[Fact]:
    """Return the facts the operation shows by itself, its SQL unseen.

    A rollback is only reported as unseen: its findings never block anything anyway.
    """
    model = model_state_of(operation, app_label, state)
    if backwards or model is None:
        return []
    for kind, facts in ALONE.items():
        if isinstance(operation, kind):
            return facts(operation, model, table_of(model), connection)
    return []


def model_state_of(operation: Operation, app_label: str, state: ProjectState) -> Any:
    """Return the state of the model the operation works on, or None when it names none."""
    name = next(
        (
            value
            for attribute in ("model_name", "name", "old_name")
            if isinstance(value := getattr(operation, attribute, None), str)
        ),
        None,
    )
    return None if name is None else state.models.get((app_label, name.lower()))
