"""Backfill operations: set column values across a large table in short, resumable batches.

``Backfill`` is declarative (the values to set, as expressions, and an optional filter);
``RunBackfill`` calls a function with each batch, like a batched ``RunPython``. Both run
their batches through ``safemigrate.backfill``: keyset batches, each committed with its
checkpoint, so the migration holding them must be non-atomic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.apps.registry import Apps
from django.db.models import Q, QuerySet

from safemigrate.backfill import control
from safemigrate.backfill.batches import Target
from safemigrate.backfill.operation import BackfillOperation
from safemigrate.declarations import Reach
from safemigrate.exceptions import BackfillInTransaction, ConfigurationError
from safemigrate.models import Direction
from safemigrate.operations.base import Editor, State

#: A function run on each batch: ``code(apps, batch)``; returns the rows it changed or None.
BatchCode = Callable[[Apps, QuerySet[Any]], "int | None"]


class BaseBackfill(BackfillOperation):
    """What both backfill forms share: no schema change, batches outside any transaction."""

    reach = Reach.ROWS

    def __init__(self, model_name: str, *, key: str = "pk") -> None:
        if not isinstance(model_name, str) or not model_name:
            raise ConfigurationError(f"model_name must be a model's name, not {model_name!r}.")
        self.model_name = model_name
        self.key = key

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def state_forwards(self, app_label: str, state: State) -> None:
        """A backfill changes rows, never the schema."""

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        self._run(app_label, schema_editor, from_state, Direction.FORWARDS)

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        self._run(app_label, schema_editor, from_state, Direction.BACKWARDS)

    def _run(
        self, app_label: str, schema_editor: Editor, state: State, direction: Direction
    ) -> None:
        connection = schema_editor.connection
        if schema_editor.atomic_migration or connection.in_atomic_block:
            raise BackfillInTransaction(self._atomic_message(app_label))
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(connection.alias, model):
            return
        target = self.target(state.apps, app_label, direction)
        control.execute(self, app_label, connection, target, direction)

    def _atomic_message(self, app_label: str) -> str:
        return (
            f"{self.__class__.__name__} on {app_label}.{self.model_name} cannot run inside a "
            "transaction: each batch commits on its own, with its checkpoint. Fix: set "
            "`atomic = False` on the migration (and keep the backfill in a migration of its "
            "own). See docs/backfills.md."
        )

    def _target(self, apps: Apps, app_label: str, work: Callable[[QuerySet[Any]], Any]) -> Target:
        model = apps.get_model(app_label, self.model_name)
        target = Target(model, self.key, work)
        field = target.key_field
        if not (field.primary_key or field.unique):
            raise ConfigurationError(
                f"{self.__class__.__name__} on {app_label}.{self.model_name} pages on "
                f"{self.key!r}, which is not unique: batches could skip or repeat rows. Fix: "
                "use the primary key (the default) or a unique, indexed column."
            )
        return target

    @property
    def migration_name_fragment(self) -> str:
        return f"backfill_{self.model_name_lower}"

    def _base_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model_name": self.model_name}
        if self.key != "pk":
            kwargs["key"] = self.key
        return kwargs


class Backfill(BaseBackfill):
    """Set ``values`` (expressions such as ``F("price") * 100``) on the rows ``filter`` matches.

    ``reverse_values`` (with ``reverse_filter``) undo it; ``{}`` declares that backwards has
    nothing to undo, and leaving it out makes the operation irreversible.
    """

    def __init__(
        self,
        model_name: str,
        values: Mapping[str, Any],
        filter: Q | None = None,
        reverse_values: Mapping[str, Any] | None = None,
        reverse_filter: Q | None = None,
        *,
        key: str = "pk",
    ) -> None:
        super().__init__(model_name, key=key)
        self.values = _check_values(values, "values", allow_empty=False)
        self.filter = _check_filter(filter, "filter")
        self.reverse_values = (
            None
            if reverse_values is None
            else _check_values(reverse_values, "reverse_values", allow_empty=True)
        )
        self.reverse_filter = _check_filter(reverse_filter, "reverse_filter")

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_values is not None

    def target(self, apps: Apps, app_label: str, direction: Direction) -> Target | None:
        forwards = direction == Direction.FORWARDS
        values = self.values if forwards else self.reverse_values
        where = self.filter if forwards else self.reverse_filter
        if not values:
            return None

        def work(batch: QuerySet[Any]) -> int:
            return (batch if where is None else batch.filter(where)).update(**values)

        return self._target(apps, app_label, work)

    def describe(self) -> str:
        columns = ", ".join(self.values)
        where = " where the filter matches" if self.filter is not None else ""
        return f"Backfill {columns} of {self.model_name} in batches{where}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = self._base_kwargs() | {"values": dict(self.values)}
        for name in ("filter", "reverse_values", "reverse_filter"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = dict(value) if isinstance(value, Mapping) else value
        return self.__class__.__qualname__, [], kwargs


class RunBackfill(BaseBackfill):
    """Call ``code(apps, batch)`` with each batch, a queryset of at most one batch of rows.

    Like ``RunPython``, but each call commits on its own with the checkpoint. ``code``
    returns how many rows it changed (or ``None``: every row of the batch counts).
    """

    def __init__(
        self,
        model_name: str,
        code: BatchCode,
        reverse_code: BatchCode | None = None,
        *,
        key: str = "pk",
    ) -> None:
        super().__init__(model_name, key=key)
        if not callable(code):
            raise ConfigurationError("RunBackfill's code must be a function of (apps, batch).")
        if reverse_code is not None and not callable(reverse_code):
            raise ConfigurationError(
                "RunBackfill's reverse_code must be a function of (apps, batch)."
            )
        self.code = code
        self.reverse_code = reverse_code

    @staticmethod
    def noop(apps: Apps, batch: QuerySet[Any]) -> int:
        """A ``reverse_code`` for backfills with nothing to undo; it runs no batches."""
        return 0

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_code is not None

    def target(self, apps: Apps, app_label: str, direction: Direction) -> Target | None:
        code = self.code if direction == Direction.FORWARDS else self.reverse_code
        if code is None or code is RunBackfill.noop:
            return None
        return self._target(apps, app_label, lambda batch: code(apps, batch))

    def describe(self) -> str:
        return f"Run a Python function over {self.model_name} in batches"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = self._base_kwargs() | {"code": self.code}
        if self.reverse_code is not None:
            kwargs["reverse_code"] = self.reverse_code
        return self.__class__.__qualname__, [], kwargs


def _check_values(values: object, name: str, *, allow_empty: bool) -> dict[str, Any]:
    if not isinstance(values, Mapping) or not all(isinstance(k, str) for k in values):
        raise ConfigurationError(
            f"Backfill's {name} must be a dict of field name to value or expression, "
            f"e.g. {{'price_cents': F('price') * 100}}, not {values!r}."
        )
    if not values and not allow_empty:
        raise ConfigurationError(f"Backfill's {name} must set at least one field.")
    return dict(values)


def _check_filter(value: object, name: str) -> Q | None:
    if value is not None and not isinstance(value, Q):
        raise ConfigurationError(
            f"Backfill's {name} must be a Q object, e.g. Q(price_cents=None), not {value!r}."
        )
    return value
