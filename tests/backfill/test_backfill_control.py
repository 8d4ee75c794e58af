"""Backfills under stress: killed and resumed, paused and cancelled, raced by writers, blocked."""

from __future__ import annotations

import random
import signal
import threading
import time

import pytest
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.backfill.throttle import Throttle
from safemigrate.models import BackfillRequest, BackfillState, BackfillStatus
from tests.backfill.backfill_helpers import (
    FAST,
    NAME,
    TABLE,
    manage,
    rows_done,
    seed,
    state,
    table,
    wait_for,
)
from tests.conftest import Blocker, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

#: Slow enough (small batches, a pause) that a test can act while the backfill runs.
STEADY = {**FAST, "BACKFILL_MAX_BATCH_SIZE": 100, "BACKFILL_PAUSE": "5ms"}


def touched_counts() -> dict[int, int]:
    """How many rows were touched 0, 1, 2... times."""
    counts: dict[int, int] = {}
    for _, _, _, touched, _ in table():
        counts[touched] = counts.get(touched, 0) + 1
    return counts


def test_killed_backfill_resumes_with_every_row_done_exactly_once(scenario):
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(20_000)
    process = manage("safemigrate", "scenarioapp", scenario="backfill", settings=STEADY)
    try:
        wait_for(lambda: rows_done() >= 2000, what="the backfill to get going")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    killed = state()
    assert killed.status == BackfillStatus.RUNNING
    assert 2000 <= killed.rows_done < 20_000
    # The checkpoint and the rows were committed together: it names exactly the rows done.
    assert touched_counts() == {1: killed.rows_done, 0: 20_000 - killed.rows_done}
    assert all(row[3] == (1 if row[0] <= killed.last_key else 0) for row in table())

    output = run_safemigrate("scenarioapp")

    assert touched_counts() == {1: 20_000}
    resumed = state()
    assert resumed.status == BackfillStatus.DONE
    assert resumed.rows_done == 20_000
    assert resumed.batches > killed.batches
    assert f"backfill {NAME}: done" in output.out


def test_pause_resume_and_cancel_from_another_process(scenario, settings):
    settings.SAFEMIGRATE = STEADY
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(20_000)
    process = manage("safemigrate", "scenarioapp", scenario="backfill", settings=STEADY)
    try:
        wait_for(lambda: rows_done() > 500, what="the backfill to start")
        paused = run_safemigrate(backfill_pause=NAME)
        assert f"Backfill {NAME}: pause requested" in paused.out
        wait_for(lambda: state().status == BackfillStatus.PAUSED, what="the pause")
        at_pause = rows_done()
        time.sleep(0.5)
        assert rows_done() == at_pause
        assert "paused (pause requested)" in run_safemigrate(backfills=True).out

        run_safemigrate(backfill_resume=NAME)
        wait_for(lambda: rows_done() > at_pause + 500, what="the backfill to go on")
        run_safemigrate(backfill_cancel=NAME)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 1
    assert f"Backfill {NAME} was cancelled after" in stderr
    cancelled = state()
    assert cancelled.status == BackfillStatus.CANCELLED
    assert touched_counts() == {1: cancelled.rows_done, 0: 20_000 - cancelled.rows_done}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'scenarioapp'")
        assert cursor.fetchone()[0] == 1

    run_safemigrate("scenarioapp")  # A cancelled backfill resumes from its checkpoint.

    assert touched_counts() == {1: 20_000}
    assert state().status == BackfillStatus.DONE


def test_control_of_an_unknown_backfill_says_how_to_list_them(scenario):
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")

    with pytest.raises(CommandError, match="safemigrate --backfills lists them"):
        run_safemigrate(backfill_pause="nope")
    assert "No backfills have run" in run_safemigrate(backfills=True).out


def test_concurrent_writers_lose_no_update_and_new_rows_are_left_alone(scenario, settings):
    settings.SAFEMIGRATE = STEADY
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(5000)
    stop = threading.Event()
    counts: list[int] = []

    def writer(seed_value: int) -> None:
        conn = connection.get_new_connection(connection.get_connection_params())
        conn.autocommit = True
        rng = random.Random(seed_value)
        done = 0
        with conn.cursor() as cursor:
            while not stop.is_set():
                key = rng.randint(1, 5000)
                cursor.execute(f"UPDATE {TABLE} SET hits = hits + 1 WHERE id = %s", [key])
                if done % 50 == 0:
                    cursor.execute(
                        f"INSERT INTO {TABLE} (price, touched, hits) VALUES (1.00, 0, 0)"
                    )
                done += 1
        conn.close()
        counts.append(done)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        run_safemigrate("scenarioapp")
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    rows = table()
    assert sum(row[4] for row in rows) == sum(counts)
    assert sum(counts) > 100
    high_water = state().high_water
    original = [row for row in rows if row[0] <= high_water]
    later = [row for row in rows if row[0] > high_water]
    assert [row for row in original if row[2] is None or row[3] != 1] == []
    # Rows inserted after the start are beyond the high-water mark: the application's job.
    assert later
    assert [row for row in later if row[2] is not None or row[3] != 0] == []
    assert high_water >= 5000


def test_lock_timeout_halves_the_batch_and_retries(scenario, settings, blocker: Blocker):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_BATCH_SIZE": 200, "LOCK_TIMEOUT": "50ms"}
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(1000)
    blocker.hold(f"SELECT * FROM {TABLE} WHERE id = 500 FOR UPDATE").release_after(1.0)

    run_safemigrate("scenarioapp")

    done = state()
    assert done.lock_timeouts >= 2
    assert done.status == BackfillStatus.DONE
    assert touched_counts() == {1: 1000}


def test_waits_while_a_long_transaction_holds_back_vacuum(scenario, settings, blocker: Blocker):
    settings.SAFEMIGRATE = {**FAST, "BACKFILL_MAX_TRANSACTION_AGE": "100ms"}
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    seed(100)
    # A transaction id, like any write, keeps vacuum from removing newer dead rows.
    blocker.hold("SELECT txid_current()").release_after(1.5)

    output = run_safemigrate("scenarioapp")

    assert f"transaction of pid {blocker.pid} open" in output.out
    assert "holds back vacuum" in output.out
    assert state().waited_ms >= 1000
    assert touched_counts() == {1: 100}


def test_waits_while_a_standby_lags(monkeypatch, settings, transactional_db):
    settings.SAFEMIGRATE = {"BACKFILL_MAX_REPLICATION_LAG": "2s", "BACKFILL_PAUSE": 0}
    lags = iter([30.0, 5.0, 0.5])
    monkeypatch.setattr(
        "safemigrate.backfill.throttle.replication_lag_s", lambda cursor: next(lags)
    )
    said: list[str] = []
    throttle = Throttle("default", lambda: False, on_wait=said.append)

    waited_ms = throttle.wait()

    assert said == ["replication lag 30.0s exceeds 2s", "replication lag 5.0s exceeds 2s"]
    assert waited_ms >= 900


def test_pause_is_recorded_for_a_backfill_no_one_runs(scenario, settings):
    settings.SAFEMIGRATE = FAST
    scenario("backfill")
    run_safemigrate("scenarioapp", "0001")
    BackfillState.objects.create(
        name=NAME,
        direction="forwards",
        app_label="scenarioapp",
        migration="0002_backfill_price_cents",
        operation_index=0,
        status=BackfillStatus.RUNNING,
    )

    run_safemigrate(backfill_pause=NAME)

    assert state().request == BackfillRequest.PAUSE
