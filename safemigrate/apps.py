from __future__ import annotations

from django.apps import AppConfig


class SafemigrateConfig(AppConfig):
    """Register safemigrate's system checks, the application processes' heartbeat, and the
    sync triggers of the expand/contract transitions the migration files leave open.

    The heartbeat only connects two signal receivers here; it starts on a process's first
    request or task (see ``safemigrate.deploy.heartbeat``), never in a shell or a command.
    The open transitions are read from the migration files (imported, not rendered) and
    their triggers registered with django-pgtrigger, so ``pgtrigger prune`` keeps them; a
    project whose migrations use none of safemigrate's operations has none, and does not
    import them (see ``safemigrate.ondisk``).
    """

    name = "safemigrate"
    verbose_name = "safemigrate"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from safemigrate import checks  # noqa: F401  (registers the checks)
        from safemigrate.deploy import heartbeat
        from safemigrate.ondisk import uses_safemigrate_operations

        heartbeat.connect()
        if uses_safemigrate_operations():
            from safemigrate.operations import transitions

            transitions.register_open()
