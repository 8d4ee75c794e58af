"""What a migration declares to safemigrate, in its ``safemigrate = {...}`` attribute.

One attribute carries everything a migration may say about itself: its own limits
(``lock_timeout``, ``lock_timeout_max``, ``statement_timeout``, ``retries``, read by the
guard) and the findings it accepts (``allow``, read by the analysis). Its shape is checked
here, once, for both.

May import: the app's ``exceptions`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.migrations import Migration

from safemigrate.exceptions import ConfigurationError

MIGRATION_ATTRIBUTE = "safemigrate"
MIGRATION_KEYS = ("lock_timeout", "lock_timeout_max", "statement_timeout", "retries", "allow")


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
