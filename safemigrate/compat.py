"""The one place safemigrate reaches into a private part of Django, and its version shims.

``migrate``'s ``handle()`` builds its ``MigrationExecutor`` from a module-level name and
offers no hook to pass another one. Rather than copying ``handle()``, safemigrate swaps that
name for the duration of one command and always puts it back. A retried migration must also
close the transaction Django's schema editor leaves open when its deferred SQL fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from importlib.util import find_spec
from typing import Any

import django
from django.core.management.commands import migrate as migrate_command
from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def migrate_uses_executor(factory: Callable[..., Any]) -> Iterator[None]:
    """Make ``migrate``'s ``handle()`` build its executor with ``factory``."""
    original = migrate_command.MigrationExecutor  # type: ignore[attr-defined]
    migrate_command.MigrationExecutor = factory  # type: ignore[attr-defined]
    try:
        yield
    finally:
        migrate_command.MigrationExecutor = original  # type: ignore[attr-defined]


#: Django 6.0 draws the admin's breadcrumbs as an ``<ol class="breadcrumbs">`` of ``<li>``;
#: 5.2 as a ``<div class="breadcrumbs">`` with "&rsaquo;" between links. Its stylesheet styles
#: only its own markup: a page with the other one loses the bar.
ADMIN_BREADCRUMBS_AS_LIST = django.VERSION >= (6, 0)


@contextmanager
def closing_abandoned_atomics(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Close the atomic blocks opened inside and left open when an exception leaves.

    Django's schema editor opens an atomic block when it starts and closes it when it ends,
    but when its deferred SQL (a new table's foreign keys and indexes) raises there, the block
    is never closed. ``migrate`` stops at the error, so it never matters to Django; a retry
    after a lock timeout would run inside that abandoned transaction, report success and
    commit nothing. Each left-open block is exited with the error, as a ``with`` would.
    """
    depth = len(connection.atomic_blocks)
    try:
        yield
    except BaseException as error:
        while len(connection.atomic_blocks) > depth:
            connection.atomic_blocks[-1].__exit__(type(error), error, error.__traceback__)
        raise


def tasks_module() -> Any:
    """Django's tasks framework: ``django.tasks`` (Django 6.0+), else the ``django-tasks``
    package's ``django_tasks`` (its backport for Django 5.2), else ``None``."""
    for name in ("django.tasks", "django_tasks"):
        if find_spec(name) is not None:
            return import_module(name)
    return None


def tasks_framework_error() -> str | None:
    """Say why backfills cannot use task workers here, or return ``None`` if they can."""
    if tasks_module() is not None:
        return None
    return (
        "Backfills on task workers need Django's tasks framework: django.tasks "
        "(Django 6.0 or newer), or on Django 5.2 the django-tasks package "
        "(pip install django-tasks)."
    )


def task(**options: Any) -> Callable[..., Any]:
    """The tasks framework's ``task`` decorator (``tasks_module()`` must not be ``None``)."""
    decorator: Callable[..., Any] = tasks_module().task(**options)
    return decorator


_MIGRATION_CLASS = "class Migration(migrations.Migration):\n"


def migration_source(writer: Any, *, atomic: bool) -> str:
    """Return the migration file ``writer`` renders, ``atomic = False`` included.

    Django 6.0's ``MigrationWriter`` writes a non-atomic migration's ``atomic = False``;
    Django 5.2's leaves it out, which would make the rewritten migration atomic again.
    """
    source: str = writer.as_string()
    if atomic or "atomic = False" in source:
        return source
    return source.replace(_MIGRATION_CLASS, _MIGRATION_CLASS + "    atomic = False\n\n", 1)
