from __future__ import annotations

from django.apps import AppConfig


class BackfillAppConfig(AppConfig):
    """The backfill benchmark's app, addressed as ``backfillapp`` on the command line."""

    name = "bench.backfillapp"
    label = "backfillapp"
    default_auto_field = "django.db.models.BigAutoField"
