"""The way back's settings: the backup before a run, where it goes, how many are kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup
from safemigrate.exceptions import ConfigurationError

BACKUP_SCOPES = ("tables", "database")


class RecoverySettings(SettingsGroup):
    """Backups before runs, and the pg_dump that takes them."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "BACKUP": False,
        "BACKUP_DIR": None,
        "BACKUP_SCOPE": "tables",
        "BACKUP_KEEP": 10,
        "PG_DUMP": None,
    }

    @property
    def backup(self) -> bool:
        """Whether every run (and rollback) takes a backup first, as ``--backup`` does."""
        return self._bool("BACKUP")

    @property
    def backup_dir(self) -> Path | None:
        """The folder backups are written to; it must be set to take one."""
        return self._absolute_path("BACKUP_DIR")

    @property
    def backup_scope(self) -> str:
        """What a backup holds: the ``tables`` the plan touches, or the whole ``database``."""
        return self._choice("BACKUP_SCOPE", BACKUP_SCOPES)

    @property
    def backup_keep(self) -> int | None:
        """How many backups of a database to keep in the folder; ``None`` keeps them all."""
        return None if self._raw("BACKUP_KEEP") is None else self._positive("BACKUP_KEEP")

    @property
    def pg_dump(self) -> Path | None:
        """The pg_dump to use (pg_restore is taken from its folder); ``None`` looks for one."""
        return self._absolute_path("PG_DUMP")

    def _absolute_path(self, key: str) -> Path | None:
        raw = self._raw(key)
        if raw is None:
            return None
        if not isinstance(raw, str | os.PathLike) or not Path(raw).is_absolute():
            raise ConfigurationError(
                f"SAFEMIGRATE['{key}'] must be an absolute path such as "
                f"'/var/backups/app' (or None), not {raw!r}."
            )
        return Path(raw)
