"""Answer the schema editor's catalog questions as the plan will have left the database.

Collecting SQL without running it, Django's schema editor still asks the live catalog which
constraints a table has: to name the constraint behind a ``unique_together`` it drops, or
the index an unnamed ``RenameIndex`` means. The live catalog describes the database as it is
*now*; an operation later in the plan, or one being rolled back, meets the database as the
plan will have left it. So for a table whose model the plan has changed, the answer is the
live catalog with the plan's changes applied: constraints the plan removed are gone, those
it added are there under the names Django gives them, and the others keep their real names
(which may not be Django's: renamed by hand, or made by an older Django). Judging for
production, where the live catalog says nothing, Django's state answers alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState

Constraints = dict[str, dict[str, Any]]


class PlanCatalog:
    """The catalog as the plan sees it before each operation.

    ``live`` is the project state the live database is at (``None`` when it is not to be
    trusted at all, as when judging for production); ``state`` is set by the collector to
    the state the database is in just before the operation being collected.
    """

    def __init__(self, connection: BaseDatabaseWrapper, live: ProjectState | None) -> None:
        self.connection = connection
        self.live = live
        self.state: ProjectState | None = None
        self.editor: BaseDatabaseSchemaEditor | None = None

    @contextmanager
    def answering(self, editor: BaseDatabaseSchemaEditor) -> Iterator[None]:
        """Route the connection's ``get_constraints`` through this catalog while collecting."""
        introspection = self.connection.introspection
        live = introspection.get_constraints
        self.editor = editor

        def get_constraints(cursor: Any, table_name: str) -> Any:
            return self.constraints(table_name, lambda: cast(Constraints, live(cursor, table_name)))

        # An instance attribute shadows the method for this connection only, until restored.
        introspection.get_constraints = get_constraints  # type: ignore[method-assign]
        try:
            yield
        finally:
            del introspection.get_constraints
            self.editor = None

    def constraints(self, table: str, live: Callable[[], Constraints]) -> Constraints:
        """Return the table's constraints as the plan has left them so far.

        The live catalog's answer, with the plan's changes to the model applied: what the
        plan removed is gone, what it added is there under Django's name, and the rest
        keeps its real name.
        """
        model = None if self.state is None else _rendered(self.state, table)
        if model is None or self.editor is None:
            return live()
        assert self.state is not None
        now = simulated_constraints(model, self.state, self.editor)
        if self.live is None:
            return now
        key = (model._meta.app_label, model._meta.model_name)
        current = self.state.models.get(key)
        before = self.live.models.get(key)
        if current is None or (before is not None and before == current):
            return live()  # an auto-created table (its owner decides), or one not changed yet
        old_model = _rendered(self.live, table) if before is not None else None
        then = simulated_constraints(old_model, self.live, self.editor) if old_model else {}
        return _apply_changes(live(), then, now)


def _signature(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What a constraint is, whatever its name: its columns and kind."""
    return (
        tuple(entry["columns"]),
        entry["primary_key"],
        entry["unique"],
        bool(entry["foreign_key"]),
        entry["check"],
        entry["index"],
    )


def _apply_changes(actual: Constraints, then: Constraints, now: Constraints) -> Constraints:
    """Apply to the live catalog's ``actual`` constraints the change from ``then`` to ``now``."""
    removed = {_signature(e) for e in then.values()} - {_signature(e) for e in now.values()}
    kept = {name: e for name, e in actual.items() if _signature(e) not in removed}
    present = {_signature(e) for e in kept.values()}
    added = {name: e for name, e in now.items() if _signature(e) not in present}
    return {**kept, **added}


def _rendered(state: ProjectState, table: str) -> Any:
    for model in state.apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None


def _entry(columns: list[str], **kinds: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "columns": columns,
        "primary_key": False,
        "unique": False,
        "foreign_key": None,
        "check": False,
        "index": False,
        "type": None,
        "orders": [],
        "definition": None,
        "options": None,
    }
    entry.update(kinds)
    return entry


def simulated_constraints(model: Any, state: ProjectState, editor: Any) -> Constraints:
    """Return what PostgreSQL's catalog would list for ``model``'s table, as Django made it.

    The names come from the editor's own (private) naming helpers, as ``_constraint_names``
    itself is private: this module answers Django's schema editor in its own terms.
    """
    table = model._meta.db_table
    found: Constraints = {}
    for field in model._meta.local_concrete_fields:
        found.update(_field_constraints(model, field, editor))
    options = _options(model, state)
    for fields in options.get("unique_together") or ():
        columns = _columns(model, fields)
        found[editor._create_index_name(table, columns, "_uniq")] = _entry(columns, unique=True)
    for fields in options.get("index_together") or ():
        columns = _columns(model, fields)
        name = editor._create_index_name(table, columns, "_idx")
        found[name] = _entry(columns, index=True, type="idx")
    for index in model._meta.indexes:
        columns = _columns(model, [name.lstrip("-") for name in index.fields])
        found[index.name] = _entry(columns, index=True, type=index.suffix)
    for constraint in model._meta.constraints:
        found[constraint.name] = _constraint_entry(model, constraint)
    return found


def _field_constraints(model: Any, field: Any, editor: Any) -> Constraints:
    table, column = model._meta.db_table, field.column
    found: Constraints = {}
    if field.primary_key:
        found[f"{table}_pkey"] = _entry([column], primary_key=True, unique=True)
    elif field.unique:
        found[f"{table}_{column}_key"] = _entry([column], unique=True)
    elif field.db_index:
        found[editor._create_index_name(table, [column])] = _entry([column], index=True, type="idx")
    if (field.db_index or field.unique) and _is_text(field, editor):
        name = editor._create_index_name(table, [column], "_like")
        found[name] = _entry([column], index=True, type="idx")
    if field.remote_field is not None and getattr(field, "db_constraint", False):
        target = field.target_field
        name = str(editor._fk_constraint_name(model, field, "_fk_%(to_table)s_%(to_column)s"))
        found[name.strip('"')] = _entry(
            [column], foreign_key=(target.model._meta.db_table, target.column)
        )
    if field.db_parameters(connection=editor.connection).get("check"):
        found[f"{table}_{column}_check"] = _entry([column], check=True)
    return found


def _is_text(field: Any, editor: Any) -> bool:
    db_type = str(field.db_type(editor.connection) or "")
    return db_type.startswith(("varchar", "text", "citext"))


def _options(model: Any, state: ProjectState) -> dict[str, Any]:
    """The model state's options: the rendered model no longer knows ``index_together``."""
    model_state = state.models.get((model._meta.app_label, model._meta.model_name))
    return dict(model_state.options) if model_state is not None else {}


def _columns(model: Any, fields: Any) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


def _constraint_entry(model: Any, constraint: Any) -> dict[str, Any]:
    fields = list(getattr(constraint, "fields", ()) or ())
    columns = _columns(model, fields) if fields else []
    if type(constraint).__name__ == "CheckConstraint":
        return _entry(columns, check=True)
    plain = not any(
        getattr(constraint, option, None)
        for option in ("condition", "expressions", "include", "opclasses")
    )
    if type(constraint).__name__ == "UniqueConstraint" and plain:
        return _entry(columns, unique=True)
    return _entry(columns, unique=type(constraint).__name__ == "UniqueConstraint", index=True)
