"""The history writer: linear in the number of migrations, tolerant of missing tables."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from safemigrate.guard.history import History, MigrationLog, now
from safemigrate.guard.sidecar import Sidecar
from safemigrate.models import Attempt, MigrationRun, Run, Status
from tests.conftest import columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def new_run() -> Run:
    return Run(started_at=now(), database="default", django_version="x", safemigrate_version="y")


def side_queries(sidecar: Sidecar) -> int:
    return sidecar.run(lambda: len(connections["default"].queries_log))


def apply_migrations(history: History, count: int) -> None:
    for number in range(count):
        log = MigrationLog(
            MigrationRun(
                app_label="app", name=f"{number:04}", direction="forwards", started_at=now()
            ),
            max_statements=10,
        )
        history.migration(log)
        log.finish(Status.SUCCEEDED)
        history.sync()


@pytest.mark.parametrize("count", [10, 40])
def test_each_migration_costs_a_constant_number_of_writes(count):
    sidecar = Sidecar("default")
    sidecar.run(lambda: setattr(connections["default"], "force_debug_cursor", True))
    try:
        history = History(new_run(), sidecar, "default")
        history.begin()
        before = side_queries(sidecar)
        apply_migrations(history, count)
        history.end(Status.SUCCEEDED, 0)
        writes = side_queries(sidecar) - before
    finally:
        sidecar.close()
    # Per migration: a transaction (BEGIN, SET LOCAL, COMMIT) with its insert when it starts,
    # one with its update and two bulk inserts when it ends. Rewriting earlier records at each
    # sync would grow with the square of the count.
    assert writes <= 10 * count + 10
    assert MigrationRun.objects.filter(status=Status.SUCCEEDED).count() == count
    assert Run.objects.get().status == Status.SUCCEEDED


def test_without_a_sidecar_nothing_is_written():
    history = History(new_run(), None, "default")
    history.begin()
    apply_migrations(history, 3)
    history.end(Status.SUCCEEDED, 0)
    assert not Run.objects.exists()
    assert len(history.migrations) == 3


def test_the_history_waits_for_the_columns_this_version_writes(scenario):
    """Tables an older safemigrate made are not enough: the history says so, never fails."""
    scenario("basic")
    run_safemigrate("safemigrate", "0003", verbosity=0)  # attempts without their lock timeout
    try:
        runs = Run.objects.count()
        output = run_safemigrate("scenarioapp")
        assert "note" in columns("scenarioapp_item")
        assert "this run is not in the run history" in output.err
        assert "Run `manage.py safemigrate safemigrate` once" in output.err
        assert Run.objects.count() == runs
    finally:
        run_safemigrate(verbosity=0)
    # The run that brought them up to date wrote its history once they were.
    last = Run.objects.latest("started_at")
    attempt = Attempt.objects.get(migration__run=last, migration__name="0008_attempt_lock_timeout")
    assert attempt.lock_timeout_ms == 200


def test_a_run_that_upgrades_safemigrate_is_recorded_once_its_columns_exist():
    # As in a project on an older safemigrate: the history tables lack the newest columns.
    call_command("migrate", "safemigrate", "0003", verbosity=0)
    try:
        output = run_safemigrate("safemigrate")
    finally:
        call_command("migrate", "safemigrate", verbosity=0)

    assert "history could not be written" not in output.err
    run = Run.objects.get()
    assert run.status == Status.SUCCEEDED
    newer = sorted(
        name
        for app_label, name in MigrationLoader(None).disk_migrations
        if app_label == "safemigrate" and name > "0003_backfill_state"
    )
    assert list(run.migrations.values_list("name", flat=True)) == newer
