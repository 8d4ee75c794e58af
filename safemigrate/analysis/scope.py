"""The part of the project state that a migration's SQL needs, when it is a small part.

Collecting a migration's SQL renders the state before it: every model of the project, most
of the check before a one-migration run (30 ms of about 40 on the real apps' history). A
migration whose operations only add, drop or index things on their own model's table needs
only that model and what it refers to: the models its fields, and the fields the operations
carry, point at (and their bases), each in turn. Their SQL is the same from that part of the
state (``tests/analysis/test_scope.py`` compares both over real histories). An operation
whose SQL may reach the models that refer to its own (``AlterField``, ``RenameField``, a
model's rename or deletion) or depends on the state in ways of its own (``RunSQL``'s state
operations, a third party's) keeps the whole state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.migrations import Migration
from django.db.migrations import operations as ops
from django.db.migrations.state import ProjectState

from safemigrate.analysis.newtables import ON_OWN_TABLE, model_name
from safemigrate.analysis.state import model_key, unrendered
from safemigrate.declarations import Reach

ModelKey = tuple[str, str]

#: Of Django's operations whose SQL touches only their own table (``newtables``), those whose
#: SQL needs only their model and the models it refers to: a changed or renamed field, or a
#: deleted model, reaches the models that refer to theirs.
_ON_OWN_MODEL = (
    *(op for op in ON_OWN_TABLE if op not in (ops.AlterField, ops.RenameField, ops.DeleteModel)),
    ops.RunPython,
)


def scoped_state(migration: Migration, state: ProjectState) -> ProjectState | None:
    """Return the part of ``state`` that ``migration``'s SQL needs, or None for all of it.

    The part shares its model states with ``state``: the collection clones a state before
    each operation changes it, so neither changes the other.
    """
    if not all(_on_own_model(operation) for operation in migration.operations):
        return None
    seeds = [(migration.app_label, model_name(operation)) for operation in migration.operations]
    carried = [field for operation in migration.operations for field in _carried(operation)]
    keys = _referred_closure(state, [*seeds, *_targets(carried, migration.app_label)])
    if keys is None or len(keys) == len(state.models):
        return None
    models = {key: state.models[key] for key in keys}
    return ProjectState(models=models, real_apps=state.real_apps)


def advanced(migration: Migration, state: ProjectState) -> ProjectState:
    """Return the whole state after ``migration``, unrendered (``state`` is not changed)."""
    after = unrendered(state)
    migration.mutate_state(after, preserve=False)
    return after


def _on_own_model(operation: Any) -> bool:
    if type(operation) in _ON_OWN_MODEL:
        return True
    return getattr(operation, "reach", None) in (Reach.OWN_TABLE, Reach.ROWS)


def _carried(operation: Any) -> list[Any]:
    """The fields an operation brings: a new field, or a new model's fields."""
    if isinstance(operation, ops.CreateModel):
        return [field for _, field in operation.fields]
    field = getattr(operation, "field", None)
    return [field] if field is not None else []


def _referred_closure(
    state: ProjectState, seeds: Iterable[ModelKey | None]
) -> set[ModelKey] | None:
    """The models of ``seeds`` and every model they refer to, through fields or bases; None
    when a relation names its model otherwise than by label (then the whole state is used)."""
    keep: set[ModelKey] = set()
    todo = list(seeds)
    while todo:
        key = todo.pop()
        if key is None:
            return None
        model = state.models.get(key)
        if key in keep or model is None:
            continue  # created by the migration itself, or a model of an unmigrated app
        keep.add(key)
        todo.extend(_targets(model.fields.values(), key[0], key))
        todo.extend(model_key(base, key[0]) for base in model.bases if isinstance(base, str))
    return keep


def _targets(
    fields: Iterable[Any], app_label: str, own: ModelKey | None = None
) -> Iterator[ModelKey | None]:
    """The models ``fields`` point at (a relation's model and its through model); None for
    one named otherwise than by its label."""
    for field in fields:
        remote = getattr(field, "remote_field", None)
        if remote is None:
            continue
        for target in (remote.model, getattr(remote, "through", None)):
            if target == "self":
                if own is not None:
                    yield own
            elif isinstance(target, str):
                yield model_key(target, app_label)
            elif target is not None:
                yield None
