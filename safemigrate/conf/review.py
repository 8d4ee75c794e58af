"""The review workflow's settings: the checklist and the approval gate."""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.checklist import DEFAULT_CHECKLIST, ChecklistItem, parse_checklist
from safemigrate.conf.values import SettingsGroup
from safemigrate.exceptions import ConfigurationError

APPROVAL_CHOICES = (None, "errors", "all")


class ReviewSettings(SettingsGroup):
    """What reviewers tick, and what needs their approval."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "CHECKLIST": None,
        "REQUIRE_APPROVAL": None,
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


def parse_approval(value: object, name: str) -> str | None:
    """Validate an approval mode: ``None`` (no gate), ``"errors"`` or ``"all"``."""
    if value not in APPROVAL_CHOICES:
        raise ConfigurationError(f"{name} must be None, 'errors' or 'all', not {value!r}.")
    return None if value is None else str(value)
