from __future__ import annotations

from django.apps import AppConfig


class SafemigrateConfig(AppConfig):
    """Register safemigrate's system checks and the application processes' heartbeat.

    The heartbeat only connects two signal receivers here; it starts on a process's first
    request or task (see ``safemigrate.deploy.heartbeat``), never in a shell or a command.
    """

    name = "safemigrate"
    verbose_name = "safemigrate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from safemigrate import checks  # noqa: F401  (registers the checks)
        from safemigrate.deploy import heartbeat

        heartbeat.connect()
