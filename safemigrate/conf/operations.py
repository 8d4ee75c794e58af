"""The safe operations' settings."""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup


class OperationSettings(SettingsGroup):
    """How the safe operations report their work."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "INDEX_PROGRESS_INTERVAL": "10s",
    }

    @property
    def index_progress_interval_ms(self) -> int:
        """How often a concurrent index build logs its progress; ``0`` turns that off."""
        return self._duration("INDEX_PROGRESS_INTERVAL")
