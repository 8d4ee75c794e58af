"""Read Django's project state for what the SQL alone does not say.

A statement names a table and a column; the state knows the column's current type (so a
type change can be judged a widening or a rewrite) and which table an index belongs to.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ModelState, ProjectState


def table_of(model: ModelState) -> str:
    """Return the model's table name, as Django derives it."""
    return str(model.options.get("db_table") or f"{model.app_label}_{model.name_lower}")


def knows(state: ProjectState, table: str, column: str | None = None) -> bool:
    """Whether ``state`` has a model on ``table`` (with a field on ``column``, if given)."""
    for model in state.models.values():
        if table_of(model) != table:
            continue
        if column is None:
            return True
        for name, field in model.fields.items():
            attname = f"{name}_id" if field.many_to_one or field.one_to_one else name
            if (field.db_column or attname) == column:
                return True
    return False


def table_names(state: ProjectState) -> set[str]:
    """Return the tables of every concrete, managed model in ``state``."""
    return {
        table_of(model)
        for model in state.models.values()
        if model.options.get("managed", True) and not model.options.get("proxy")
    }


def index_tables(state: ProjectState) -> dict[str, str]:
    """Map each named index and constraint in ``state`` to its table."""
    found = {}
    for model in state.models.values():
        for option in ("indexes", "constraints"):
            for item in model.options.get(option, ()):
                if getattr(item, "name", None):
                    found[str(item.name)] = table_of(model)
    return found


def column_resolver(
    state: ProjectState, connection: BaseDatabaseWrapper
) -> Callable[[str, str], str | None]:
    """Return a lookup of a column's SQL type in ``state``, by table and column name."""

    def resolve(table: str, column: str) -> str | None:
        for model in state.models.values():
            if table_of(model) != table:
                continue
            for name, field in model.fields.items():
                attname = f"{name}_id" if field.many_to_one or field.one_to_one else name
                if (field.db_column or attname) == column:
                    return _db_type(field, connection)
        return None

    return resolve


def _db_type(field: object, connection: BaseDatabaseWrapper) -> str | None:
    # Relation fields need their target model to know their type; state fields are unbound.
    try:
        db_type = field.db_type(connection)  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return None
    return str(db_type) if db_type else None
