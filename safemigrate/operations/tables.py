"""Delete a model in two deploys: from Django's state first, its table in a later release.

``DeleteModel`` drops the table while the old code, still serving requests during the deploy,
queries it. ``DeleteModelFromState`` forgets the model and keeps the table; once no running code
uses it, ``DeleteModelFromDatabase`` drops it.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.operations import DeleteModel

from safemigrate.declarations import Phase
from safemigrate.operations.base import Editor, SafeOperation, State, execute, name_fragment
from safemigrate.postgres.tables import quote_relation, split_relation


class DeleteModelFromState(SafeOperation, DeleteModel):
    """Remove a model from Django's state only; its table stays for the old code.

    Backwards puts the model back in the state; the table is still there.
    """

    docs_page = "tables"

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        """The table stays until ``DeleteModelFromDatabase``."""

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        """The table was never dropped: nothing to restore."""

    def describe(self) -> str:
        return f"Delete model {self.name} (state only; table kept)"

    @property
    def migration_name_fragment(self) -> str:
        return f"delete_{self.name_lower}_from_state"


class SafeDeleteModel(DeleteModelFromState):
    """``DeleteModelFromState`` under the name the analysis rule SM108 suggests."""


class DeleteModelFromDatabase(SafeOperation):
    """Drop the table of a model ``DeleteModelFromState`` already removed from the state.

    Irreversible: the model's definition left the state, and the data cannot come back.
    ``table`` is the ``db_table`` the model had (``"schema"."table"`` when qualified).
    """

    #: Old code still uses the table this drops: it runs only once the old code is gone.
    deploy_phase = Phase.POST_DEPLOY
    reversible = False
    docs_page = "tables"

    def __init__(self, table: str) -> None:
        self.table = table

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (type(self).__name__, [], {"table": self.table})

    def state_forwards(self, app_label: str, state: State) -> None:
        """The model left the state in ``DeleteModelFromState``: nothing changes here."""

    def database_forwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        if self.routed(app_label, schema_editor):
            execute(schema_editor, f"DROP TABLE IF EXISTS {quote_relation(self.table)}")

    def database_backwards(
        self, app_label: str, schema_editor: Editor, from_state: State, to_state: State
    ) -> None:
        raise IrreversibleError(
            f"DeleteModelFromDatabase of {self.table} cannot be undone: the table and its data "
            "are gone. Restore them from a backup."
        )

    def describe(self) -> str:
        return f"Drop table {self.table} of a deleted model"

    @property
    def migration_name_fragment(self) -> str:
        return name_fragment("drop", split_relation(self.table)[1])
