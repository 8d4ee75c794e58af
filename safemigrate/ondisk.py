"""Whether the migration files on disk use safemigrate's operations, read without importing them.

Every process that starts asks about the expand/contract transitions the migration files leave
open (the app's ``ready()``, and two system checks that ``migrate`` and ``runserver`` run).
Only a migration that holds one of safemigrate's operations can open or close one, and most
projects hold none: for them, importing ``safemigrate.operations`` (which brings the backfill
and postcondition engines) and building the migration graph would be a cost on every
``manage.py`` command for nothing. A project that does use those operations has imported them
already, with its migration files.
"""

from __future__ import annotations

from django.db.migrations.loader import MigrationLoader

#: Where safemigrate's operations live; their classes take this package as their module.
OPERATIONS_PACKAGE = "safemigrate.operations"


def uses_safemigrate_operations() -> bool:
    """Whether any migration on disk holds one of safemigrate's operations (or a subclass).

    True when the files cannot be read, so that the caller's own handling of a broken
    migration file (a warning, or Django's check) still happens.
    """
    try:
        loader = MigrationLoader(None, load=False)
        loader.load_disk()
    except Exception:
        return True
    return any(
        _is_safemigrates(type(operation))
        for migration in loader.disk_migrations.values()
        for operation in migration.operations
    )


def _is_safemigrates(cls: type) -> bool:
    return any((base.__module__ + ".").startswith(OPERATIONS_PACKAGE + ".") for base in cls.__mro__)
