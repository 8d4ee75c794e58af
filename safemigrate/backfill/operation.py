"""What the engine needs of a backfill operation: its model, its key, and each batch's work.

The backfill operations (``safemigrate.operations.Backfill`` and ``RunBackfill``) subclass
this, and so do the expand/contract operations, whose batches fill a new column between
their schema steps. The engine finds them among a migration's operations and rebuilds
their work from the migration files, without importing the operations package, which
imports the engine.
"""

from __future__ import annotations

from django.apps.registry import Apps
from django.db.migrations.operations.base import Operation

from safemigrate.backfill.batches import Target
from safemigrate.models import Direction


class BackfillOperation(Operation):
    """A migration operation that changes rows in batches (and, for the expand/contract
    operations, the schema around them: those set ``reduces_to_sql`` back to ``True``)."""

    reduces_to_sql = False
    #: Its batches write rows that no collected SQL shows (the analysis and the rollback's
    #: checks read this declaration: they cannot see the batches).
    writes_rows_outside_sql = True
    model_name: str
    key: str

    def target(self, apps: Apps, app_label: str, direction: Direction) -> Target | None:
        """Return what one direction does to each batch, or ``None`` if it does nothing."""
        raise NotImplementedError
