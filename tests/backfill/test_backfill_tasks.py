"""Backfills handed to Django's tasks framework: the immediate backend, and a real worker."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.models import DBTaskResult

from safemigrate.backfill import runner
from safemigrate.models import BackfillStatus
from tests.backfill.backfill_helpers import FAST, NAME, manage, seed, state, table
from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def touched() -> set[int]:
    return {row[3] for row in table()}


def applied(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM django_migrations WHERE app = 'scenarioapp' AND name = %s",
            [name],
        )
        return bool(cursor.fetchone()[0])


def test_tasks_wait_with_the_immediate_backend(scenario, settings):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MODE": "tasks-wait"}
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(500)

    run_safemigrate("scenarioapp")

    assert touched() == {1}
    done = state()
    assert (done.status, done.mode, done.rows_done) == (BackfillStatus.DONE, "tasks-wait", 500)


def test_tasks_wait_follows_a_database_worker_process(scenario, settings):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MODE": "tasks-wait"}
    settings.TASKS = DATABASE_TASKS
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(3000)
    worker = manage(
        "db_worker", "--interval", "0.1", scenario="backfill", settings=FAST, tasks="database"
    )
    try:
        output = run_safemigrate("scenarioapp")
    finally:
        worker.terminate()
        worker.communicate(timeout=30)

    assert touched() == {1}
    done = state()
    assert (done.status, done.rows_done) == (BackfillStatus.DONE, 3000)
    assert applied("0002_backfill_price_cents")
    assert f"backfill {NAME}: done" in output.out
    # The batches ran in the worker process: the backend recorded the task it ran.
    results = DBTaskResult.objects.values_list("task_path", "status")
    assert ("safemigrate.backfill.tasks.run_backfill", "SUCCESSFUL") in set(results)


def test_tasks_pending_is_left_to_workers_then_finished_by_one(scenario, settings):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MODE": "tasks-pending"}
    settings.TASKS = DATABASE_TASKS
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(1000)

    output = run_safemigrate("scenarioapp")

    assert "handed to task workers" in output.out
    assert applied("0002_backfill_price_cents")
    assert state().status == BackfillStatus.PENDING
    assert touched() == {0}
    assert "pending" in run_safemigrate(backfills=True).out

    worker = manage(
        "db_worker",
        "--batch",
        "--interval",
        "0.1",
        scenario="backfill",
        settings=FAST,
        tasks="database",
    )
    _, stderr = worker.communicate(timeout=60)

    assert worker.returncode == 0, stderr
    assert touched() == {1}
    assert state().status == BackfillStatus.DONE


def test_a_later_safemigrate_finishes_a_pending_backfill(scenario, settings):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MODE": "tasks-pending"}
    settings.TASKS = DATABASE_TASKS
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(1000)
    run_safemigrate("scenarioapp")
    settings.SAFEMIGRATE = FAST

    output = run_safemigrate("scenarioapp")

    assert f"backfill {NAME}: finishing what task workers left" in output.out
    assert touched() == {1}
    assert state().status == BackfillStatus.DONE


def test_tasks_wait_fails_the_migration_when_the_worker_fails(scenario, settings, monkeypatch):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MODE": "tasks-wait"}
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(100)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the worker ran out of disk")

    monkeypatch.setattr(runner.Batcher, "step", broken)

    with pytest.raises(CommandError, match="failed on a task worker: the worker ran out of disk"):
        run_safemigrate("scenarioapp")
    assert state().status == BackfillStatus.FAILED
    assert not applied("0002_backfill_price_cents")


def test_finishing_a_pending_backfill_keeps_the_lock_timeout(scenario, settings, blocker):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MODE": "tasks-pending"}
    settings.TASKS = DATABASE_TASKS
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(300)
    run_safemigrate("scenarioapp")
    settings.SAFEMIGRATE = {**FAST, "LOCK_TIMEOUT": "50ms"}
    blocker.hold("SELECT * FROM scenarioapp_product WHERE id = 100 FOR UPDATE").release_after(1.0)

    run_safemigrate("scenarioapp")

    assert state().lock_timeouts >= 1
    assert touched() == {1}
