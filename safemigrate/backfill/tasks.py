"""The task that runs a backfill's batches on the project's task workers.

Imported only when ``BACKFILL_MODE`` hands batches to workers. It needs Django's tasks
framework: ``django.tasks`` (Django 6.0+) or, on Django 5.2, the ``django-tasks`` package.
"""

from __future__ import annotations

from safemigrate.backfill import runner
from safemigrate.compat import task


@task()
def run_backfill(alias: str, state_id: int) -> str:
    """Run one time slice of a backfill's batches; enqueue the next slice if work remains."""
    return runner.run_slice(alias, state_id).value
