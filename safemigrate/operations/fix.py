"""``safemigrate --fix``: rewrite a migration ``makemigrations`` wrote into safe operations.

Each operation is replaced by its safe form (the rules, as data, are in ``fix_rules`` and
``fix_transitions``); the rewritten operations leave Django's state exactly as the
originals did, so ``makemigrations`` stays quiet and the final schema is the same.
Operations that must run outside a transaction go into migrations of their own with
``atomic = False``; a contract step (a column drop, the end of a rename) goes last, into a
migration to hold back until no running code uses what it removes. The last migration
keeps the original name, so migrations that depend on it still do. What has no safe form
to rewrite to is kept, and the report ends saying why and which page of the docs has the
manual path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import migrations
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter

from safemigrate.backfill.operation import BackfillOperation
from safemigrate.compat import migration_source
from safemigrate.exceptions import ConfigurationError
from safemigrate.operations.fix_rules import (
    ATOMIC,
    BASIC_REWRITES,
    CONTRACT,
    EITHER,
    SINGLE_STATEMENT,
    Rewrite,
    Step,
)
from safemigrate.operations.fix_transitions import TRANSITION_REWRITES, merge_retyped_renames

#: The rewrite of each operation makemigrations writes that locks a table or breaks code.
REWRITES: dict[type[Operation], Rewrite] = {**BASIC_REWRITES, **TRANSITION_REWRITES}
#: Where the backfill engine keeps its checkpoints: a migration with batches depends on it.
BACKFILL_STATE = ("safemigrate", "0003_backfill_state")

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
    return merge_retyped_renames(steps)


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
    dependencies = _dependencies(original, groups)
    for number, (kind, operations) in enumerate(groups, 1):
        last = number == len(groups)
        name = original.name if last else part_name(original.name, number)
        atomic = _atomic(kind, operations) and original.atomic
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
                f"  Hold {name} back until no running code uses the removed or renamed "
                "field(s) or model(s): deploy the code, then apply it (safemigrate --phase post)."
            )
        dependencies = [(original.app_label, name)]
    return report


def _atomic(kind: str, operations: list[Operation]) -> bool:
    """A contract is atomic unless one of its steps runs outside a transaction."""
    if kind == CONTRACT:
        return not any(getattr(op, "outside_transaction", False) for op in operations)
    return kind == ATOMIC


def _dependencies(original: Any, groups: list[tuple[str, list[Operation]]]) -> list[Any]:
    """The original's dependencies, and the backfill engine's state table when a step fills
    rows in batches (the first migration written depends on it, and so all the others)."""
    dependencies = list(original.dependencies)
    batches = any(isinstance(op, BackfillOperation) for _, ops in groups for op in ops)
    if batches and original.app_label != BACKFILL_STATE[0] and BACKFILL_STATE not in dependencies:
        dependencies.append(BACKFILL_STATE)
    return dependencies
