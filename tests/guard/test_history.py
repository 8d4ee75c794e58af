"""The history writer: batched, prompt for a long migration, tolerant of missing tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from safemigrate.guard.history import FLUSH_DELAY_S, History
from safemigrate.guard.records import MigrationLog, now
from safemigrate.guard.sidecar import Sidecar
from safemigrate.models import Attempt, MigrationRun, Run, Status
from tests.conftest import columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def new_run() -> Run:
    return Run(started_at=now(), database="default", django_version="x", safemigrate_version="y")


def side_queries(sidecar: Sidecar) -> int:
    return sidecar.run(lambda: len(connections["default"].queries_log))


def started(history: History, name: str, *, atomic: bool = True) -> MigrationLog:
    log = MigrationLog(
        MigrationRun(
            app_label="app", name=name, direction="forwards", atomic=atomic, started_at=now()
        ),
        max_statements=10,
    )
    history.migration(log)
    return log


def apply_migrations(history: History, count: int) -> None:
    for number in range(count):
        log = started(history, f"{number:04}")
        log.finish(Status.SUCCEEDED)
        history.sync()


def recorded(name: str) -> str | None:
    """The status the database has for migration ``name``, read from outside the run."""
    return MigrationRun.objects.filter(name=name).values_list("status", flat=True).first()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def sidecar() -> Iterator[Sidecar]:
    sidecar = Sidecar("default")
    sidecar.run(lambda: setattr(connections["default"], "force_debug_cursor", True))
    yield sidecar
    sidecar.close()


@pytest.mark.parametrize("count", [10, 40])
def test_a_run_of_quick_migrations_is_written_in_a_few_statements(sidecar, count):
    history = History(new_run(), sidecar, "default")
    history.begin()
    before = side_queries(sidecar)
    apply_migrations(history, count)
    history.end(Status.SUCCEEDED, 0)
    history.close()
    writes = side_queries(sidecar) - before
    # All together at the end: one transaction with the run's update and one insert each
    # for the records, their attempts and their statements, whatever their number. A
    # transaction per migration took 10 statements each.
    assert writes <= 10
    assert MigrationRun.objects.filter(status=Status.SUCCEEDED).count() == count
    assert Run.objects.get().status == Status.SUCCEEDED


def test_a_migration_that_takes_time_shows_as_running_meanwhile(sidecar):
    history = History(new_run(), sidecar, "default")
    history.begin()
    log = started(history, "0001_slow")
    assert wait_for(lambda: recorded("0001_slow") == Status.RUNNING, FLUSH_DELAY_S * 20)
    log.finish(Status.FAILED, "boom")
    history.sync()
    assert wait_for(lambda: recorded("0001_slow") == Status.FAILED, FLUSH_DELAY_S * 20)
    history.end(Status.FAILED, 1)
    history.close()
    assert MigrationRun.objects.get().error == "boom"


def test_a_non_atomic_migration_is_recorded_before_it_runs(sidecar):
    # Killed half-way, it leaves committed work that only its record tells of.
    history = History(new_run(), sidecar, "default")
    history.begin()
    started(history, "0001_quick")
    started(history, "0002_non_atomic", atomic=False)
    assert recorded("0002_non_atomic") == Status.RUNNING
    assert recorded("0001_quick") == Status.RUNNING  # written with it
    history.close()


def test_nothing_is_written_while_held_nor_after_the_run_closes(sidecar):
    history = History(new_run(), sidecar, "default")
    history.begin()
    history.hold()  # as for a migration of safemigrate's own
    log = started(history, "0001_ours")
    log.finish(Status.SUCCEEDED)
    history.sync()
    time.sleep(FLUSH_DELAY_S * 3)
    assert recorded("0001_ours") is None
    history.deferred = False
    history.sync()  # the migration is over: its write is due
    history.close()  # the run is over (its sidecar closes next): nothing more is written
    time.sleep(FLUSH_DELAY_S * 3)
    assert recorded("0001_ours") is None


def test_what_was_held_is_written_after(sidecar):
    history = History(new_run(), sidecar, "default")
    history.begin()
    history.hold()
    started(history, "0001_ours").finish(Status.SUCCEEDED)
    history.deferred = False
    history.sync()
    assert wait_for(lambda: recorded("0001_ours") == Status.SUCCEEDED, FLUSH_DELAY_S * 20)
    history.end(Status.SUCCEEDED, 0)
    history.close()


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


def test_a_run_records_the_revision_deployed(monkeypatch):
    monkeypatch.setenv("SAFEMIGRATE_GIT_REVISION", "0123abcd")
    run_safemigrate("safemigrate", verbosity=0)
    assert Run.objects.latest("started_at").git_revision == "0123abcd"
