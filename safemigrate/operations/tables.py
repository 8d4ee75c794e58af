"""Delete a model in two deploys: from Django's state first, its table in a later release.

``DeleteModel`` drops the table while the old code, still serving requests during the deploy,
queries it. ``DeleteModelFromState`` forgets the model and keeps the table; once no running code
uses it, ``DeleteModelFromDatabase`` drops it.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.operations import DeleteModel
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from safemigrate.declarations import Phase
from safemigrate.operations.base import execute, quote


class DeleteModelFromState(DeleteModel):
    """Remove a model from Django's state only; its table stays for the old code.

    Backwards puts the model back in the state; the table is still there.
    """

    #: A rerun after a crash finishes the job: it changes nothing in the database.
    idempotent = True

    def describe(self) -> str:
        return f"Delete model {self.name} (state only; table kept)"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """The table stays until ``DeleteModelFromDatabase``."""

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """The table was never dropped: nothing to restore."""

    @property
    def migration_name_fragment(self) -> str:
        return f"delete_{self.name_lower}_from_state"


class SafeDeleteModel(DeleteModelFromState):
    """``DeleteModelFromState`` under the name the analysis rule SM108 suggests."""


class DeleteModelFromDatabase(Operation):
    """Drop the table of a model ``DeleteModelFromState`` already removed from the state.

    Irreversible: the model's definition left the state, and the data cannot come back.
    """

    #: A rerun after a crash finishes the job: ``DROP TABLE IF EXISTS``.
    idempotent = True
    #: Old code still uses the table this drops: it runs only once the old code is gone.
    deploy_phase = Phase.POST_DEPLOY
    reversible = False

    def __init__(self, table: str) -> None:
        self.table = table

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (type(self).__name__, [], {"table": self.table})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """The model left the state in ``DeleteModelFromState``: nothing changes here."""

    def describe(self) -> str:
        return f"Drop table {self.table} of a deleted model"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_{self.table.lower()}"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        execute(schema_editor, f"DROP TABLE IF EXISTS {quote(schema_editor, self.table)}")

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        raise IrreversibleError(
            f"DeleteModelFromDatabase of {self.table} cannot be undone: the table and its data "
            "are gone. Restore them from a backup."
        )
