"""Safe forms of dangerous schema changes, as migration operations shaped like Django's own."""

from __future__ import annotations

from safemigrate.operations.backfill import Backfill, RunBackfill
from safemigrate.operations.columns import AddFieldSafely, SetNotNull
from safemigrate.operations.constraints import (
    AddConstraintNotValid,
    AddUniqueConstraintConcurrently,
    ValidateConstraint,
)
from safemigrate.operations.defaults import AlterDbDefault
from safemigrate.operations.fields import RemoveFieldFromDatabase, RemoveFieldFromState
from safemigrate.operations.indexes import AddIndexConcurrently, RemoveIndexConcurrently
from safemigrate.operations.partitions import (
    AddIndexToPartitionedTable,
    DetachPartitionConcurrently,
)

__all__ = [
    "AddConstraintNotValid",
    "AddFieldSafely",
    "AddIndexConcurrently",
    "AddIndexToPartitionedTable",
    "AddUniqueConstraintConcurrently",
    "AlterDbDefault",
    "Backfill",
    "DetachPartitionConcurrently",
    "RemoveFieldFromDatabase",
    "RemoveFieldFromState",
    "RemoveIndexConcurrently",
    "RunBackfill",
    "SetNotNull",
    "ValidateConstraint",
]
