"""The one place safemigrate reaches into a private part of Django.

``migrate``'s ``handle()`` builds its ``MigrationExecutor`` from a module-level name and
offers no hook to pass another one. Rather than copying ``handle()``, safemigrate swaps that
name for the duration of one command and always puts it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.commands import migrate as migrate_command


@contextmanager
def migrate_uses_executor(factory: Callable[..., Any]) -> Iterator[None]:
    """Make ``migrate``'s ``handle()`` build its executor with ``factory``."""
    original = migrate_command.MigrationExecutor  # type: ignore[attr-defined]
    migrate_command.MigrationExecutor = factory  # type: ignore[attr-defined]
    try:
        yield
    finally:
        migrate_command.MigrationExecutor = original  # type: ignore[attr-defined]


def tasks_framework_error() -> str | None:
    """Say why backfills cannot use task workers here, or return ``None`` if they can."""
    try:
        import django.tasks  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        try:
            import django_tasks  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
        except ImportError:
            return (
                "Backfills on task workers need Django's tasks framework: django.tasks "
                "(Django 6.0 or newer), or on Django 5.2 the django-tasks package "
                "(pip install django-tasks)."
            )
    return None


def task(**options: Any) -> Callable[..., Any]:
    """``django.tasks.task``, or ``django_tasks.task`` where Django has no tasks framework."""
    try:
        from django.tasks import task as tasks_task  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        from django_tasks import task as tasks_task  # type: ignore[import-not-found, no-redef, unused-ignore]
    decorator: Callable[..., Any] = tasks_task(**options)
    return decorator
