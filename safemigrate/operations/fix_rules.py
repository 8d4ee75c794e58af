"""The rewrite rules of ``--fix``, as data: each unsafe operation and the safe steps for it.

A rule takes the operation, the project state before it, the app label and the models the
migration creates, and returns the ``Step``s that replace it (``None``: keep it as it is).
Renames and type changes, which take an expand and a contract, are in ``fix_transitions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import migrations
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models import CheckConstraint, UniqueConstraint

from safemigrate import operations as safe

ATOMIC, NON_ATOMIC, CONTRACT, EITHER = "atomic", "non-atomic", "contract", "either"
#: Operations that run as one short statement, safe in a migration of either kind.
SINGLE_STATEMENT = (
    migrations.AddField,
    migrations.AlterModelOptions,
    migrations.AlterModelManagers,
    safe.AlterDbDefault,
    safe.RemoveFieldFromState,
    safe.DeleteModelFromState,
)


@dataclass
class Step:
    """Safe operations standing for one original operation, and where they may run.

    ``left`` says why an unsafe original was kept as it is (and where the manual path is).
    """

    operations: list[Operation]
    kind: str = ATOMIC
    left: str = ""


Rewrite = Callable[[Any, ProjectState, str, set[str]], "list[Step] | None"]


def _add_index(op: Any, state: ProjectState, app: str, created: set[str]) -> list[Step] | None:
    if op.model_name_lower in created:
        return None  # a table created in this migration is empty: a plain index is instant
    return [Step([safe.AddIndexConcurrently(op.model_name, op.index)], NON_ATOMIC)]


def _remove_index(op: Any, state: ProjectState, app: str, created: set[str]) -> list[Step]:
    return [Step([safe.RemoveIndexConcurrently(op.model_name, op.name)], NON_ATOMIC)]


def _add_constraint(op: Any, state: ProjectState, app: str, created: set[str]) -> Any:
    if op.model_name_lower in created:
        return None
    constraint = op.constraint
    if isinstance(constraint, UniqueConstraint):
        return [Step([safe.AddUniqueConstraintConcurrently(op.model_name, constraint)], NON_ATOMIC)]
    if isinstance(constraint, CheckConstraint):
        return [
            Step(
                [
                    safe.AddConstraintNotValid(op.model_name, constraint),
                    safe.ValidateConstraint(op.model_name, constraint.name),
                ],
                NON_ATOMIC,
            )
        ]
    return None


def _needs_steps(field: Any) -> bool:
    """Whether ``AddField`` would lock the table for long: an FK, an index, a db default
    that may be volatile, or a unique constraint."""
    foreign_key = bool(field.remote_field) and getattr(field, "db_constraint", False)
    return bool(foreign_key or field.db_index or field.unique or field.has_db_default())


def _add_field(op: Any, state: ProjectState, app: str, created: set[str]) -> Any:
    if op.model_name_lower in created or not _needs_steps(op.field):
        return None
    return [
        Step(
            [safe.AddFieldSafely(op.model_name, op.name, op.field, op.preserve_default)],
            NON_ATOMIC,
        )
    ]


def _changed(old: Any, new: Any) -> set[str]:
    _, _, _, old_kwargs = old.deconstruct()
    _, _, _, new_kwargs = new.deconstruct()
    keys = set(old_kwargs) | set(new_kwargs)
    return {key for key in keys if old_kwargs.get(key) != new_kwargs.get(key)} | (
        {"path"} if old.deconstruct()[1] != new.deconstruct()[1] else set()
    )


def _rendered(op: Any, state: ProjectState, app: str) -> tuple[Any, Any]:
    """The field before and after ``op``, on models rendered as a migration sees them."""
    after = state.clone()
    op.state_forwards(app, after)
    return tuple(
        s.apps.get_model(app, op.model_name)._meta.get_field(op.name) for s in (state, after)
    )


def _label(op: Any) -> str:
    return f"{type(op).__name__} of {op.model_name}.{op.name}"


def _remove_field(op: Any, state: ProjectState, app: str, created: set[str]) -> list[Step]:
    field = state.models[app, op.model_name_lower].fields[op.name]
    return [
        Step([safe.RemoveFieldFromState(op.model_name, op.name)], EITHER),
        Step([safe.RemoveFieldFromDatabase(op.model_name, op.name, field.clone())], CONTRACT),
    ]


def _delete_model(op: Any, state: ProjectState, app: str, created: set[str]) -> list[Step]:
    options = state.models[app, op.name_lower].options
    table = options.get("db_table") or f"{app}_{op.name_lower}"
    return [
        Step([safe.DeleteModelFromState(op.name)], EITHER),
        Step([safe.DeleteModelFromDatabase(table)], CONTRACT),
    ]


#: The rewrite of each operation makemigrations writes that locks a table for long (the
#: renames and type changes are in ``fix_transitions``).
BASIC_REWRITES: dict[type[Operation], Rewrite] = {
    migrations.AddIndex: _add_index,
    migrations.RemoveIndex: _remove_index,
    migrations.AddConstraint: _add_constraint,
    migrations.AddField: _add_field,
    migrations.RemoveField: _remove_field,
    migrations.DeleteModel: _delete_model,
}
