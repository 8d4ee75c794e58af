from __future__ import annotations

from django.apps import AppConfig


class BenchAppConfig(AppConfig):
    """The benchmark's app, addressed as ``benchapp`` on the command line."""

    name = "bench.benchapp"
    label = "benchapp"
    default_auto_field = "django.db.models.BigAutoField"
