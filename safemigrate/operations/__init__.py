"""Safe forms of dangerous schema changes, as migration operations shaped like Django's own.

Each operation is re-exported here, and this is the path migrations import it by:
``safemigrate.operations.X``. Django's ``MigrationWriter`` writes an operation as its
class's ``__module__`` plus its name, so each class below takes this package as its
``__module__``; no later move of a module can break a migration written since. The module
paths written before (``safemigrate.operations.columns.AddFieldSafely``, ``.constraints``,
``.defaults``, ``.fields``, ``.indexes``, ``.tables``, ``.partitions``, ``.backfill``) stay
importable: ``tests/scenarios/oldpaths`` holds migrations written that way.
``Verify`` and ``VerifyPython`` declare postconditions (their engine is ``verify/``).
Beside the operations live the two commands that know them: ``fix`` rewrites a migration
``makemigrations`` wrote into these operations, ``doctor`` finishes or undoes what an
interrupted one left; and ``transitions``, which reads the migration files for the
expand/contract transitions they leave open (the app's ``apps`` and ``checks`` ask it).

May import: ``backfill/`` (the backfill operations run on its engine), ``verify/`` (the
postconditions' engine), ``postgres/`` and the app's face.
"""

from __future__ import annotations

from safemigrate.operations.altering import AlterFieldSafely
from safemigrate.operations.backfill import Backfill, RunBackfill
from safemigrate.operations.bridges import FinishRenameModel, RenameModelSafely
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
from safemigrate.operations.renames import FinishRenameField, RenameFieldSafely
from safemigrate.operations.retype import AlterFieldTypeSafely
from safemigrate.operations.shadow import FinishRebuildTable, RebuildTableSafely
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
    "AlterFieldSafely",
    "AlterFieldTypeSafely",
    "Backfill",
    "DeleteModelFromDatabase",
    "DeleteModelFromState",
    "DetachPartitionConcurrently",
    "FinishRebuildTable",
    "FinishRenameField",
    "FinishRenameModel",
    "RebuildTableSafely",
    "RemoveFieldFromDatabase",
    "RemoveFieldFromState",
    "RemoveIndexConcurrently",
    "RenameFieldSafely",
    "RenameModelSafely",
    "RunBackfill",
    "SafeAddNotNull",
    "SafeDeleteModel",
    "SafeRemoveField",
    "SetNotNull",
    "ValidateConstraint",
    "Verify",
    "VerifyPython",
]

# What MigrationWriter writes: ``import safemigrate.operations`` and
# ``safemigrate.operations.AddFieldSafely(...)``, whichever module defines the class.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
