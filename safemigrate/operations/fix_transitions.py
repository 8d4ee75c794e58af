"""The rewrite rules of ``--fix`` for changes that take an expand and a contract.

An ``AlterField`` that changes the column's type (a rewrite, not a widening PostgreSQL does
in the catalog) becomes ``AlterFieldTypeSafely``, with what else it changes in an operation
of its own after it. A ``RenameField`` becomes ``RenameFieldSafely`` now and
``FinishRenameField`` in the migration to hold back; a ``RenameModel``,
``RenameModelSafely`` now and ``FinishRenameModel`` later. What no rule can rewrite (a
column pointed at by foreign keys, a change of collation) is kept, and said why.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, migrations
from django.db.migrations.state import ProjectState

from safemigrate import operations as safe
from safemigrate.operations.altering import TYPE_CHANGES_PAGE, column_changes
from safemigrate.operations.base import only_changes
from safemigrate.operations.fix_rules import (
    ATOMIC,
    CONTRACT,
    EITHER,
    NON_ATOMIC,
    Rewrite,
    Step,
    _changed,
    _label,
    _rendered,
)
from safemigrate.postgres.tables import quote_identifier
from safemigrate.postgres.types import is_safe_type_change, parse_type

#: What an ``AlterField`` may change that builds an index or constraint, or scans the table.
BUILDS = {"db_index", "unique", "null", "db_constraint", "to", "to_field", "on_delete"}
#: What changes nothing in the database.
COSMETIC = {"blank", "help_text", "verbose_name", "editable", "choices", "validators"}
#: What the column keeps while its type changes (``AlterFieldTypeSafely`` changes the type
#: only; the rest is another operation's).
KEPT = ("null", "unique", "db_index", "primary_key", "db_default", "db_column", "db_collation")


def _alter_field(op: Any, state: ProjectState, app: str, created: set[str]) -> Any:
    if op.model_name_lower in created:
        return None
    old = state.models[app, op.model_name_lower].fields[op.name]
    changed = _changed(old, op.field) - COSMETIC
    if changed == {"null"} and old.null and not op.field.null:
        return [Step([safe.SetNotNull(op.model_name, op.name, op.field)], NON_ATOMIC)]
    if changed and changed <= {"default", "db_default"}:
        return [Step([safe.AlterDbDefault(op.model_name, op.name, op.field)], EITHER)]
    before, after = _rendered(op, state, app)
    changes = column_changes(before, after, connection)
    if changes == ["type"] and not rewrites_table(before, after):
        changes = []  # a widening: PostgreSQL changes the catalog only
    if changes == ["type"]:
        return _retype(op, state, app, created, before)
    if changes:
        what = " and ".join(changes)
        why = f"changes the column's {what}, which no short step does"
        return [Step([op], ATOMIC, left=f"{_label(op)} {why}: follow {TYPE_CHANGES_PAGE}")]
    if changed & BUILDS:
        return [Step([safe.AlterFieldSafely(op.model_name, op.name, op.field)], NON_ATOMIC)]
    return None


def rewrites_table(before: Any, after: Any) -> bool:
    """Whether ``ALTER COLUMN ... TYPE`` from ``before`` to ``after`` rewrites the table."""
    old = before.db_parameters(connection=connection)["type"]
    new = parse_type(after.db_parameters(connection=connection)["type"])
    return new is None or not is_safe_type_change(old, new)


def _retype(op: Any, state: ProjectState, app: str, created: set[str], before: Any) -> list[Step]:
    """The type change alone, through a shadow column; then the rest of the ``AlterField``."""
    if pointing := _pointing_at(before):
        why = f"changes the type of a column that foreign keys point at ({', '.join(pointing)})"
        return [Step([op], ATOMIC, left=f"{_label(op)} {why}: follow {TYPE_CHANGES_PAGE}")]
    old = state.models[app, op.model_name_lower].fields[op.name]
    retype = safe.AlterFieldTypeSafely(op.model_name, op.name, _type_only(old, op.field))
    steps = [Step([retype], NON_ATOMIC)]
    if only_changes(retype.field, op.field, COSMETIC):
        return steps
    later = state.clone()
    retype.state_forwards(app, later)
    rest = migrations.AlterField(op.model_name, op.name, op.field, op.preserve_default)
    return steps + (_alter_field(rest, later, app, created) or [Step([rest], ATOMIC)])


def _type_only(old: Any, new: Any) -> Any:
    """``new`` with everything but its type as ``old`` had it."""
    _, _, args, kwargs = new.deconstruct()
    _, _, _, old_kwargs = old.deconstruct()
    for name in KEPT:
        kwargs.pop(name, None)
        if name in old_kwargs:
            kwargs[name] = old_kwargs[name]
    return type(new)(*args, **kwargs)


def _pointing_at(field: Any) -> list[str]:
    """The relations of other fields whose database constraint points at ``field``."""
    return sorted(
        f"{relation.related_model._meta.label}.{relation.field.name}"
        for relation in field.model._meta.related_objects
        if getattr(relation.field, "db_constraint", True)
        and (relation.many_to_many or relation.field.target_field.name == field.name)
        and (not relation.many_to_many or field.primary_key)
    )


def _rename_field(op: Any, state: ProjectState, app: str, created: set[str]) -> Any:
    if op.model_name_lower in created:
        return None
    field = state.apps.get_model(app, op.model_name)._meta.get_field(op.old_name)
    if field.many_to_many or field.db_column:
        return None  # the column keeps its name: RenameField changes Django's state only
    if pointing := _pointing_at(field):
        why = f"renames a column that foreign keys point at ({', '.join(pointing)})"
        page = "docs/operations/rename-column.md"
        left = f"RenameField of {op.model_name}.{op.old_name} {why}: follow {page}"
        return [Step([op], ATOMIC, left=left)]
    old_field = state.models[app, op.model_name_lower].fields[op.old_name].clone()
    names = (op.model_name, op.old_name, op.new_name)
    return [
        Step([safe.RenameFieldSafely(*names)], NON_ATOMIC),
        Step([safe.FinishRenameField(*names, old_field=old_field)], CONTRACT),
    ]


def _rename_model(op: Any, state: ProjectState, app: str, created: set[str]) -> Any:
    if op.old_name_lower in created:
        return None
    old = state.models[app, op.old_name_lower]
    model = state.apps.get_model(app, op.old_name)
    if model._meta.local_many_to_many or any(r.many_to_many for r in model._meta.related_objects):
        why = "renames the tables and columns of its many-to-many relations, which no view bridges"
        left = f"RenameModel of {op.old_name} {why}: follow docs/operations/rename-table.md"
        return [Step([op], ATOMIC, left=left)]
    steps = [Step([safe.RenameModelSafely(op.old_name, op.new_name)], NON_ATOMIC)]
    table = model._meta.db_table
    if not old.options.get("db_table"):  # the table is named after the model: it moves
        finish = safe.FinishRenameModel(op.old_name, op.new_name, old_table=table)
        steps.append(Step([finish], CONTRACT))
    return steps


def merge_retyped_renames(steps: list[Step]) -> list[Step]:
    """Fold a type change of a field renamed just before into the rename itself: one new
    column of the new type (``RenameFieldSafely(field=...)``), not a shadow of the new column
    while the old is still kept equal to it."""
    merged = list(steps)
    for step in steps:
        retype = step.operations[0] if step.operations else None
        if not isinstance(retype, safe.AlterFieldTypeSafely):
            continue
        pair = _rename_of(merged, retype)
        if pair is None:
            continue
        expand, contract = pair
        old_type = contract.old_field.db_parameters(connection=connection)["type"]
        back = f"CAST({quote_identifier(expand.new_name)} AS {old_type})"
        names = (expand.model_name, expand.old_name, expand.new_name)
        _replace(merged, expand, safe.RenameFieldSafely(*names, retype.field, None, back))
        _replace(merged, contract, safe.FinishRenameField(*names, contract.old_field, None, back))
        merged.remove(step)
    return merged


def _rename_of(steps: list[Step], retype: Any) -> tuple[Any, Any] | None:
    """The expand and contract of the plain rename (no new type yet) to ``retype``'s field."""
    found = [
        op
        for step in steps
        for op in step.operations
        if isinstance(op, safe.RenameFieldSafely | safe.FinishRenameField)
        and op.model_name.lower() == retype.model_name_lower
        and op.new_name == retype.name
        and not op.retyped
    ]
    expands = [op for op in found if isinstance(op, safe.RenameFieldSafely)]
    contracts = [op for op in found if isinstance(op, safe.FinishRenameField)]
    return (expands[0], contracts[0]) if expands and contracts else None


def _replace(steps: list[Step], operation: Any, by: Any) -> None:
    for step in steps:
        step.operations = [by if op is operation else op for op in step.operations]


#: The rewrites of the changes that take an expand and a contract.
TRANSITION_REWRITES: dict[type[Any], Rewrite] = {
    migrations.AlterField: _alter_field,
    migrations.RenameField: _rename_field,
    migrations.RenameModel: _rename_model,
}
