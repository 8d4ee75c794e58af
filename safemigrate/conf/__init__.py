"""safemigrate's settings: one typed object, read lazily from ``settings.SAFEMIGRATE``.

Every setting has a default beside its property, in the settings group of the part that uses
it, and is validated by the system checks in ``safemigrate.checks``, which call the same
parsing code the runtime uses, so a value that passes the checks is a value the command can
use. Read them as ``from safemigrate.conf import conf``; nothing reads Django's settings at
import time.

May import: the app's ``exceptions`` only. Every other part imports this.
"""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.analysis import AnalysisSettings
from safemigrate.conf.backfill import BackfillSettings
from safemigrate.conf.deploy import DeploySettings
from safemigrate.conf.guard import GuardSettings, TablePolicy
from safemigrate.conf.operations import OperationSettings
from safemigrate.conf.recovery import RecoverySettings
from safemigrate.conf.rehearsal import RehearsalSettings
from safemigrate.conf.review import ReviewSettings
from safemigrate.conf.values import parse_count, parse_duration, user_settings

GROUPS = (
    GuardSettings,
    AnalysisSettings,
    ReviewSettings,
    BackfillSettings,
    OperationSettings,
    DeploySettings,
    RecoverySettings,
    RehearsalSettings,
)

#: Every setting with its default, in the order the docs list them.
DEFAULTS: dict[str, Any] = {key: value for group in GROUPS for key, value in group.DEFAULTS.items()}


class Settings(
    GuardSettings,
    AnalysisSettings,
    ReviewSettings,
    BackfillSettings,
    OperationSettings,
    DeploySettings,
    RecoverySettings,
    RehearsalSettings,
):
    """All of safemigrate's settings, one property each."""

    DEFAULTS: ClassVar[dict[str, Any]] = DEFAULTS

    def unknown_keys(self) -> list[str]:
        """Return keys in ``settings.SAFEMIGRATE`` that safemigrate does not know."""
        return sorted(set(user_settings()) - set(DEFAULTS))


conf = Settings()

__all__ = ["DEFAULTS", "Settings", "TablePolicy", "conf", "parse_count", "parse_duration"]
