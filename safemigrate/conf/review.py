"""The review workflow's settings: the checklist, the approval gate, the maintenance windows."""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.checklist import DEFAULT_CHECKLIST, ChecklistItem, parse_checklist
from safemigrate.conf.values import SettingsGroup
from safemigrate.conf.windows import Window, parse_windows
from safemigrate.exceptions import ConfigurationError

APPROVAL_CHOICES = (None, "errors", "all")


class ReviewSettings(SettingsGroup):
    """What reviewers tick, what needs their approval, and when risky migrations may run."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "CHECKLIST": None,
        "REQUIRE_APPROVAL": None,
        "MAINTENANCE_WINDOWS": None,
        "MAINTENANCE_LONG_LOCK": "1s",
    }

    @property
    def checklist(self) -> list[ChecklistItem]:
        """The review checklist, ``{section: [item, ...]}``; ``None`` is the seed's checklist."""
        raw = self._raw("CHECKLIST")
        return parse_checklist(DEFAULT_CHECKLIST if raw is None else raw)

    @property
    def require_approval(self) -> str | None:
        """Which migrations need an approved review to run: none, ``errors`` or ``all``."""
        return parse_approval(self._raw("REQUIRE_APPROVAL"), "SAFEMIGRATE['REQUIRE_APPROVAL']")

    @property
    def maintenance_windows(self) -> list[Window] | None:
        """When risky migrations may run; ``None`` lets them run at any time."""
        return parse_windows(self._raw("MAINTENANCE_WINDOWS"))

    @property
    def maintenance_long_lock_ms(self) -> int:
        """How long a lock that stops writes may be held before it needs a window."""
        return self._duration("MAINTENANCE_LONG_LOCK")


def parse_approval(value: object, name: str) -> str | None:
    """Validate an approval mode: ``None`` (no gate), ``"errors"`` or ``"all"``."""
    if value not in APPROVAL_CHOICES:
        raise ConfigurationError(f"{name} must be None, 'errors' or 'all', not {value!r}.")
    return None if value is None else str(value)
