"""What a migration declares to safemigrate, in its ``safemigrate = {...}`` attribute.

One attribute carries everything a migration may say about itself: its own limits
(``lock_timeout``, ``lock_timeout_max``, ``statement_timeout``, ``retries``, read by the
guard), the findings it accepts (``allow``, read by the analysis) and its deploy ``phase``
(read by ``deploy/``). Its shape is checked here, once, for all of them. ``Phase`` and
``Reach`` live here too: operations declare theirs with them, and every part may read them.

May import: the app's ``exceptions`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from django.db.migrations import Migration

from safemigrate.exceptions import ConfigurationError

MIGRATION_ATTRIBUTE = "safemigrate"
MIGRATION_KEYS = (
    "lock_timeout",
    "lock_timeout_max",
    "statement_timeout",
    "retries",
    "allow",
    "phase",
)


class Phase(str, Enum):
    """When a migration may run, relative to the deploy of the code that ships it."""

    #: Safe while the old code still runs: it adds, or changes nothing the old code uses.
    PRE_DEPLOY = "pre_deploy"
    #: Only once no process runs the old code: the old code breaks on it (a drop, a rename).
    POST_DEPLOY = "post_deploy"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-")


class Reach(str, Enum):
    """How far an operation's SQL reaches, as an operation class declares it (``reach = ...``).

    The check before a run judges a migration whose operations all reach only tables the
    same plan creates from its operations alone, without collecting their SQL
    (``analysis/newtables.py``): nothing on a table nobody uses yet can be refused. Django's
    own operations are known without a declaration; an operation that declares nothing is
    always judged by its SQL.
    """

    #: Its model's table (``model_name``), and the tables its model's fields, or the field
    #: it carries, relate to: a foreign key it adds, copies or drops locks those too.
    OWN_TABLE = "own_table"
    #: Rows only: it reads or writes data and never changes the schema, as ``RunPython``.
    ROWS = "rows"


def migration_attribute(migration: Migration) -> tuple[Mapping[str, Any], str]:
    """Return the migration's ``safemigrate = {...}`` attribute, checked for its shape."""
    raw = getattr(migration, MIGRATION_ATTRIBUTE, None) or {}
    where = f"{migration.app_label}.{migration.name}.{MIGRATION_ATTRIBUTE}"
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            f"{where} must be a dict such as {{'lock_timeout': '1s', 'retries': 10}}."
        )
    unknown = sorted(set(raw) - set(MIGRATION_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown keys {unknown}; allowed: {', '.join(MIGRATION_KEYS)}."
        )
    return raw, where


def declared_phase(migration: Migration) -> Phase | None:
    """Return the phase in the migration's ``safemigrate = {"phase": ...}``, if it has one."""
    raw, where = migration_attribute(migration)
    if "phase" not in raw:
        return None
    try:
        return Phase(raw["phase"])
    except ValueError:
        choices = " or ".join(repr(phase.value) for phase in Phase)
        raise ConfigurationError(
            f"{where}['phase'] must be {choices}, not {raw['phase']!r}."
        ) from None
