"""What the postcondition operations share: no schema change, a check run where they stand.

``safemigrate.operations.Verify`` and ``VerifyPython`` subclass ``PostconditionOperation``
and say how to evaluate themselves. The check runs at its place among the migration's
operations, after the ones before it: inside the guard, so the run's timeouts apply, and in
the migration's transaction when it is atomic, so a failed check rolls the whole migration
back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import router
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.declarations import Reach
from safemigrate.exceptions import ConfigurationError, PostconditionFailed
from safemigrate.verify.record import record
from safemigrate.verify.results import CheckResult

DOCS = "See docs/postconditions.md."


class PostconditionOperation(Operation):
    """A migration operation that checks the data, and changes nothing."""

    reach = Reach.ROWS
    reversible = True
    #: A squashed history starts from an empty database, where a check of old data says nothing.
    elidable = True

    def __init__(self, *, description: str = "", hints: Mapping[str, Any] | None = None) -> None:
        if not isinstance(description, str):
            raise ConfigurationError(f"description must be a string, not {description!r}.")
        if hints is not None and not isinstance(hints, Mapping):
            raise ConfigurationError(f"hints must be a dict for the routers, not {hints!r}.")
        self.description = description
        self.hints = dict(hints or {})

    @property
    def label(self) -> str:
        """The check in words: its description, or one its subclass makes up."""
        raise NotImplementedError

    def evaluate(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState
    ) -> CheckResult:
        """Run the check against ``schema_editor``'s connection, with ``state``'s models."""
        raise NotImplementedError

    def collect(self, schema_editor: BaseDatabaseSchemaEditor) -> None:
        """Show the check under ``sqlmigrate``; only a query can be shown."""

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """A check changes nothing in the models."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if not router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            return
        if schema_editor.collect_sql:
            self.collect(schema_editor)
            return
        result = self.evaluate(app_label, schema_editor, from_state)
        record(result)
        if not result.passed:
            raise PostconditionFailed(
                f"Postcondition failed: {result.description}: {result.explain()}. {DOCS}"
            )

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Nothing to undo, nothing to check: the check changed nothing, and what it checked
        was the state this migration made, which unapplying it takes away."""

    def describe(self) -> str:
        return f"Verify: {self.label}"

    @property
    def migration_name_fragment(self) -> str:
        return "verify"

    def _base_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.description:
            kwargs["description"] = self.description
        if self.hints:
            kwargs["hints"] = self.hints
        return kwargs
