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
