"""The task that runs a backfill's batches on the project's task workers, and its enqueuing.

Imported only when ``BACKFILL_MODE`` hands batches to workers. It needs Django's tasks
framework: ``django.tasks`` (Django 6.0+) or, on Django 5.2, the ``django-tasks`` package.
"""

from __future__ import annotations

import time

from safemigrate.backfill.batches import Step
from safemigrate.backfill.runner import UNFINISHED, load_target, run_inline
from safemigrate.compat import task
from safemigrate.conf import conf
from safemigrate.models import BackfillState

#: How long one task runs batches before it hands the rest to the next task.
TASK_SLICE_S = 30.0


@task()
def run_backfill(alias: str, state_id: int) -> str:
    """Run one time slice of a backfill's batches; enqueue the next slice if work remains."""
    return run_slice(alias, state_id).value


def enqueue(state: BackfillState, alias: str) -> None:
    """Hand the next slice of batches to the project's task backend."""
    run_backfill.using(backend=conf.backfill_task_backend).enqueue(alias, state.pk)


def run_slice(alias: str, state_id: int) -> Step:
    """Run batches for one task's time slice, and enqueue the next slice if work remains."""
    state = BackfillState.objects.using(alias).get(pk=state_id)
    if state.status not in UNFINISHED:
        return Step.DONE
    target = load_target(state)
    if target is None:
        return Step.DONE
    step = run_inline(state, target, alias, time.monotonic() + TASK_SLICE_S)
    if step == Step.BATCH:
        enqueue(state, alias)
    return step
