"""Which migrations of a live plan only build tables the same plan creates.

Such a migration cannot block anyone: nobody uses its tables yet, and every rule that can
refuse a run is silent on them. The check before a run (which only refuses, and only for an
error-level finding) therefore need not collect its SQL, which means rendering every model
of the project: it is judged from its operations alone, as nothing to refuse. ``--lint``
still collects and reports everything. A migration qualifies only when each operation is one
of Django's own model, field, index or constraint operations (or a ``RunPython``), or one that
declares its ``reach`` (``declarations.Reach``: safemigrate's own), on a table created earlier
in the plan or by the operation itself, and every relation it declares points at such a
table: a foreign key to a table in use locks that table too. A field changed on a new table
that a table in use refers to is judged by its SQL too: its type change reaches that table.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations import Migration
from django.db.migrations import operations as ops
from django.db.migrations.state import ProjectState

from safemigrate.analysis.state import model_key, table_of
from safemigrate.declarations import Reach

#: Django's operations whose SQL touches only their own model's table (and, through a
#: relation, the related one's). RunSQL, AlterModelTable and every third-party operation
#: are judged by their SQL.
ON_OWN_TABLE = (
    ops.AddConstraint,
    ops.AddField,
    ops.AddIndex,
    ops.AlterField,
    ops.AlterIndexTogether,
    ops.AlterModelManagers,
    ops.AlterModelOptions,
    ops.AlterOrderWithRespectTo,
    ops.AlterUniqueTogether,
    ops.CreateModel,
    ops.DeleteModel,
    ops.RemoveConstraint,
    ops.RemoveField,
    ops.RemoveIndex,
    ops.RenameField,
    ops.RenameIndex,
)


def only_new_tables(migration: Migration, state: ProjectState, created: set[str]) -> bool:
    """Whether every operation of ``migration`` works on tables in ``created`` (the plan's)
    or on the table it creates; ``state`` is the project state before the migration."""
    app_label = migration.app_label
    tables = {key: table_of(model) for key, model in state.models.items()}
    models = dict(state.models)
    new = set(created)
    for operation in migration.operations:
        reach = _reach(operation)
        if reach is None:
            return False
        if reach == Reach.ROWS:
            continue
        if isinstance(operation, ops.CreateModel):
            key = (app_label, operation.name_lower)
            tables[key] = str(operation.options.get("db_table") or f"{app_label}_{key[1]}")
            new.add(tables[key])
            fields = [field for _, field in operation.fields]
        else:
            key = (app_label, model_name(operation))
            if tables.get(key) not in new:
                return False
            if isinstance(operation, ops.AlterField) and not _referred_to_only_by(
                key, models, tables, new
            ):
                return False
            fields = _fields(operation, models.get(key))
        if not all(_relates_within(field, app_label, tables, new) for field in fields):
            return False
    return True


def _reach(operation: Any) -> Reach | None:
    """How far ``operation`` reaches: known for Django's own, declared by others, or None."""
    if isinstance(operation, ops.RunPython):
        return Reach.ROWS
    if type(operation) in ON_OWN_TABLE:
        return Reach.OWN_TABLE
    declared = getattr(operation, "reach", None)
    return declared if isinstance(declared, Reach) else None


def model_name(operation: Any) -> str:
    """The model an operation works on: its ``model_name``, or a model operation's ``name``."""
    name = getattr(operation, "model_name", None) or getattr(operation, "name", "")
    return str(name).lower()


def _fields(operation: Any, model: Any) -> list[Any]:
    """The fields whose relations the operation adds or drops (those of a model it knows).

    For an operation that only declares its reach, every field of its model and the field
    it carries: what it does with them is its own.
    """
    known = dict(model.fields) if model is not None else {}
    carried = getattr(operation, "field", None)
    if type(operation) not in ON_OWN_TABLE:
        return [*known.values(), *([carried] if carried is not None else [])]
    if isinstance(operation, ops.DeleteModel):
        return list(known.values())
    if isinstance(operation, (ops.AddField, ops.AlterField, ops.RemoveField)):
        new = [operation.field] if not isinstance(operation, ops.RemoveField) else []
        old = known.get(operation.name)
        return [*new, *([old] if old is not None else [])]
    return []


def _referred_to_only_by(
    key: tuple[str, str], models: dict[tuple[str, str], Any], tables: dict[Any, str], new: set[str]
) -> bool:
    """Whether every model with a relation to ``key`` has a new table (or is ``key``)."""
    for other_key, model in models.items():
        for field in model.fields.values():
            remote = getattr(field, "remote_field", None)
            if remote is None or not isinstance(remote.model, str):
                continue
            target = other_key if remote.model == "self" else model_key(remote.model, other_key[0])
            if target == key and tables.get(other_key) not in new:
                return False
    return True


def _relates_within(
    field: Any, app_label: str, tables: dict[tuple[str, str], str], new: set[str]
) -> bool:
    """Whether ``field`` is no relation, or a foreign key (or one-to-one) to a new table.

    A many-to-many field adds a table of its own: judged by its SQL.
    """
    remote = getattr(field, "remote_field", None)
    if remote is None:
        return True
    if getattr(field, "many_to_many", False) or not isinstance(remote.model, str):
        return False
    if remote.model == "self":
        return True
    return tables.get(model_key(remote.model, app_label)) in new
