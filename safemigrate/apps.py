from __future__ import annotations

from django.apps import AppConfig


class SafemigrateConfig(AppConfig):
    """Register safemigrate's system checks; nothing else runs at start-up."""

    name = "safemigrate"
    verbose_name = "safemigrate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from safemigrate import checks  # noqa: F401  (registers the checks)
