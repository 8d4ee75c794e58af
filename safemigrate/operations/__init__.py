"""Safe forms of dangerous schema changes, as migration operations shaped like Django's own.

Each operation is re-exported here: migrations import them as ``safemigrate.operations.X``.
``Verify`` and ``VerifyPython`` declare postconditions (their engine is ``verify/``).
Beside the operations live the two commands that know them: ``fix`` rewrites a migration
``makemigrations`` wrote into these operations, ``doctor`` finishes or undoes what an
interrupted one left.

May import: ``backfill/`` (the backfill operations run on its engine), ``verify/`` (the
postconditions' engine), ``postgres/`` and the app's face.
"""

from __future__ import annotations

from safemigrate.operations.backfill import Backfill, RunBackfill
from safemigrate.operations.columns import AddFieldSafely, SafeAddNotNull, SetNotNull
from safemigrate.operations.constraints import (
    AddConstraintNotValid,
    AddUniqueConstraintConcurrently,
    ValidateConstraint,
)
from safemigrate.operations.defaults import AlterDbDefault
from safemigrate.operations.fields import (
    RemoveFieldFromDatabase,
    RemoveFieldFromState,
    SafeRemoveField,
)
from safemigrate.operations.indexes import AddIndexConcurrently, RemoveIndexConcurrently
from safemigrate.operations.partitions import (
    AddIndexToPartitionedTable,
    DetachPartitionConcurrently,
)
from safemigrate.operations.tables import (
    DeleteModelFromDatabase,
    DeleteModelFromState,
    SafeDeleteModel,
)
from safemigrate.operations.verify import Verify, VerifyPython

__all__ = [
    "AddConstraintNotValid",
    "AddFieldSafely",
    "AddIndexConcurrently",
    "AddIndexToPartitionedTable",
    "AddUniqueConstraintConcurrently",
    "AlterDbDefault",
    "Backfill",
    "DeleteModelFromDatabase",
    "DeleteModelFromState",
    "DetachPartitionConcurrently",
    "RemoveFieldFromDatabase",
    "RemoveFieldFromState",
    "RemoveIndexConcurrently",
    "RunBackfill",
    "SafeAddNotNull",
    "SafeDeleteModel",
    "SafeRemoveField",
    "SetNotNull",
    "ValidateConstraint",
    "Verify",
    "VerifyPython",
]
