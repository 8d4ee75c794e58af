"""``safemigrate --fix``: rewrite a migration ``makemigrations`` wrote into safe operations.

Each operation is replaced by its safe form (rules below, as data); the rewritten
operations leave Django's state exactly as the originals did, so ``makemigrations`` stays
quiet and the final schema is the same. Operations that must run outside a transaction go
into migrations of their own with ``atomic = False``; a column drop goes last, into a
migration to hold back until no running code uses the column. The last migration keeps
the original name, so migrations that depend on it still do. What has no safe form to
rewrite to (a column's type change, a rename) is kept, and the report ends saying why and
which page of the docs has the manual path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, migrations
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter
from django.db.models import CheckConstraint, UniqueConstraint

from safemigrate import operations as safe
from safemigrate.compat import migration_source
from safemigrate.exceptions import ConfigurationError
from safemigrate.operations.altering import TYPE_CHANGES_PAGE, column_changes

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


#: What an ``AlterField`` may change that builds an index or constraint, or scans the table.
BUILDS = {"db_index", "unique", "null", "db_constraint", "to", "to_field", "on_delete"}


def _alter_field(op: Any, state: ProjectState, app: str, created: set[str]) -> Any:
    if op.model_name_lower in created:
        return None
    old = state.models[app, op.model_name_lower].fields[op.name]
    changed = _changed(old, op.field) - {"blank", "help_text", "verbose_name"}
    if changed == {"null"} and old.null and not op.field.null:
        return [Step([safe.SetNotNull(op.model_name, op.name, op.field)], NON_ATOMIC)]
    if changed and changed <= {"default", "db_default"}:
        return [Step([safe.AlterDbDefault(op.model_name, op.name, op.field)], EITHER)]
    if rewrites := column_changes(*_rendered(op, state, app), connection):
        what = " and ".join(rewrites)
        why = f"changes the column's {what}, which no short step does (a rewrite or a rename)"
        return [Step([op], ATOMIC, left=f"{_label(op)} {why}: follow {TYPE_CHANGES_PAGE}")]
    if changed & BUILDS:
        return [Step([safe.AlterFieldSafely(op.model_name, op.name, op.field)], NON_ATOMIC)]
    return None


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


#: The rewrite of each operation makemigrations writes that locks a table for long.
REWRITES: dict[type[Operation], Rewrite] = {
    migrations.AddIndex: _add_index,
    migrations.RemoveIndex: _remove_index,
    migrations.AddConstraint: _add_constraint,
    migrations.AddField: _add_field,
    migrations.AlterField: _alter_field,
    migrations.RemoveField: _remove_field,
    migrations.DeleteModel: _delete_model,
}
#: Operations that cannot be written back into a file, so the file is left alone.
REFUSED = (migrations.RunPython,)


def safe_steps(operations: list[Operation], state: ProjectState, app_label: str) -> list[Step]:
    """Return the safe steps for ``operations``, applied from ``state`` (which changes)."""
    steps: list[Step] = []
    created: set[str] = set()
    for operation in operations:
        rewrite = REWRITES.get(type(operation))
        replacement = rewrite(operation, state, app_label, created) if rewrite else None
        steps.extend(replacement or [Step([operation], _kind(operation))])
        if isinstance(operation, migrations.CreateModel):
            created.add(operation.name_lower)
        operation.state_forwards(app_label, state)
    return steps


def _kind(operation: Operation) -> str:
    return EITHER if isinstance(operation, SINGLE_STATEMENT) else ATOMIC


def group(steps: list[Step]) -> list[tuple[str, list[Operation]]]:
    """Put consecutive steps of one kind together; a contract step always stands alone last.

    A single-statement step joins whichever migration it follows (or the first one).
    """
    contract = [op for step in steps if step.kind == CONTRACT for op in step.operations]
    groups: list[tuple[str, list[Operation]]] = []
    waiting: list[Operation] = []
    for step in (step for step in steps if step.kind != CONTRACT):
        if step.kind == EITHER and not groups:
            waiting.extend(step.operations)
        elif step.kind == EITHER or (groups and groups[-1][0] == step.kind):
            groups[-1][1].extend(step.operations)
        else:
            groups.append((step.kind, [*waiting, *step.operations]))
            waiting = []
    if waiting:
        groups.append((ATOMIC, waiting))
    if contract:
        groups.append((CONTRACT, contract))
    return groups


def rewrite_migration(app_label: str | None, name: str | None) -> list[str]:
    """Rewrite the migration file in place (plus new files for split steps); return a report."""
    if not app_label or not name:
        raise ConfigurationError(
            "--fix needs the migration to rewrite: manage.py safemigrate --fix app_label "
            "migration_name"
        )
    loader = MigrationLoader(None, ignore_no_migrations=True)
    try:
        original = loader.get_migration_by_prefix(app_label, name)
    except (AmbiguityError, KeyError) as error:
        raise ConfigurationError(str(error)) from error
    if any(isinstance(op, REFUSED) for op in original.operations):
        raise ConfigurationError(
            f"{original.app_label}.{original.name} has RunPython, whose functions --fix cannot "
            "write back: convert the other operations by hand (see docs/operations/index.md)."
        )
    state = loader.project_state((app_label, original.name), at_end=False)
    steps = safe_steps(list(original.operations), state, app_label)
    groups = group(steps)
    left = [step.left for step in steps if step.left]
    if [ops for _, ops in groups] != [list(original.operations)]:
        report = _write(original, groups)
    elif left:
        report = [f"{original.app_label}.{original.name}: nothing --fix can rewrite."]
    else:
        report = [f"{original.app_label}.{original.name} is already safe: nothing to rewrite."]
    return report + _not_rewritten(left)


def _not_rewritten(left: list[str]) -> list[str]:
    """End the report with what stays unsafe, why, and where the manual path is."""
    if not left:
        return []
    return ["Not rewritten (no safe form to rewrite to; change these by hand):"] + [
        f"  - {note}" for note in left
    ]


def part_name(name: str, number: int) -> str:
    """Name the ``number``-th migration split off ``name`` (``0002_1_changes`` for
    ``0002_changes``): never a name that ``name`` is a prefix of, so ``migrate app
    0002_changes`` still finds the original exactly, and sorted before it."""
    prefix, _, rest = name.partition("_")
    return f"{prefix}_{number}_{rest}" if rest else f"part{number}_{name}"


def _write(original: Any, groups: list[tuple[str, list[Operation]]]) -> list[str]:
    report = []
    dependencies = list(original.dependencies)
    for number, (kind, operations) in enumerate(groups, 1):
        last = number == len(groups)
        name = original.name if last else part_name(original.name, number)
        atomic = kind in (ATOMIC, CONTRACT) and original.atomic
        attributes = {
            "operations": operations,
            "dependencies": dependencies,
            "atomic": atomic,
            "initial": original.initial if number == 1 else None,
        }
        migration_class = type("Migration", (migrations.Migration,), attributes)
        writer = MigrationWriter(migration_class(name, original.app_label))
        Path(writer.path).write_text(migration_source(writer, atomic=atomic))
        report.append(f"Wrote {writer.path} ({kind}, {len(operations)} operation(s))")
        if kind == CONTRACT:
            report.append(
                f"  Hold {name} back until no running code uses the removed field(s) or model(s): "
                "deploy the code, then apply it."
            )
        dependencies = [(original.app_label, name)]
    return report
