"""A process killed (SIGKILL) during a backup or a rollback: a rerun finishes, nothing is lost."""

from __future__ import annotations

import signal
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.models import Backup, MigrationRun, Run, Status
from safemigrate.postgres.dump import client_environment, run_tool
from tests.backfill.backfill_helpers import manage, wait_for
from tests.conftest import Blocker, run_safemigrate
from tests.recovery.recovery_helpers import (
    CUSTOMERS,
    ORDERS,
    applied,
    checksums,
    files_in,
    schema,
    scratch_database,
    seed,
    server_tools,
)

pytestmark = pytest.mark.django_db(transaction=True)


def dump_sessions(waiting: bool = False) -> int:
    """The backup's pg_dump sessions (those waiting for a lock, if asked)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'safemigrate backup' "
            "AND (NOT %s OR wait_event_type = 'Lock')",
            [waiting],
        )
        return int(cursor.fetchone()[0])


def kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_killed_during_backup_a_rerun_finishes_and_no_partial_file_passes_for_one(
    scenario, settings, tmp_path, blocker: Blocker
):
    folder = tmp_path / "backups"
    settings.SAFEMIGRATE = {"BACKUP_DIR": str(folder)}
    scenario("recovery")
    run_safemigrate("scenarioapp", "0001")
    seed()
    before = checksums(CUSTOMERS, ORDERS), schema(CUSTOMERS, ORDERS)
    # pg_dump will wait for this lock: the process is killed while its backup runs.
    blocker.hold(f"LOCK TABLE {ORDERS} IN ACCESS EXCLUSIVE MODE")
    process = manage(
        "safemigrate", "scenarioapp", "--backup", "--allow-unsafe",
        scenario="recovery", settings=settings.SAFEMIGRATE,
    )  # fmt: skip
    try:
        wait_for(lambda: dump_sessions(waiting=True) == 1, what="pg_dump to wait for its lock")
    finally:
        kill(process)

    [partial] = files_in(folder)
    assert partial.endswith(".dump.partial"), "a killed backup never gets a backup's name"
    assert dump_sessions() == 1, "its pg_dump outlives it, still waiting for the lock"

    # The next run ends what the dead one left before it takes its own backup (which
    # waits for the same lock, and gives up).
    settings.SAFEMIGRATE = {**settings.SAFEMIGRATE, "RETRY_DEADLINE": "500ms"}
    out = StringIO()
    with pytest.raises(CommandError) as gave_up:
        call_command("safemigrate", "scenarioapp", backup=True, allow_unsafe=True, stdout=out)
    assert gave_up.value.returncode == 5
    assert "Stopped 1 pg_dump session(s) left by an interrupted run." in out.getvalue()
    assert files_in(folder) == []
    blocker.release()
    assert (checksums(CUSTOMERS, ORDERS), schema(CUSTOMERS, ORDERS)) == before
    assert applied() == ["0001_initial"]

    output = run_safemigrate("scenarioapp", backup=True)

    [whole] = files_in(folder)
    assert whole.endswith(".dump")
    wait_for(lambda: dump_sessions() == 0, what="the orphaned pg_dump to end")
    assert applied()[-1] == "0004_customer_vip"
    assert "Backup written to" in output.out
    assert list(Run.objects.order_by("pk").values_list("status", flat=True)) == [
        Status.SUCCEEDED,
        Status.INTERRUPTED,
        Status.FAILED,
        Status.SUCCEEDED,
    ]
    assert list(Backup.objects.order_by("pk").values_list("status", flat=True)) == [
        Status.INTERRUPTED,
        Status.FAILED,
        Status.SUCCEEDED,
    ]
    with scratch_database(f"{connection.settings_dict['NAME']}_killed") as scratch:
        env = client_environment({**connection.get_connection_params(), "dbname": scratch})
        restore = run_tool(
            server_tools().pg_restore, [f"--dbname={scratch}", str(folder / whole)], env
        )
        assert restore.returncode == 0, restore.stderr
        assert checksums(CUSTOMERS, ORDERS, dbname=scratch) == before[0]


def test_killed_during_rollback_a_rerun_finishes_it(scenario, blocker: Blocker):
    scenario("recovery")
    run_safemigrate("scenarioapp", "0001")
    seed()
    shape, customers = schema(CUSTOMERS, ORDERS), checksums(CUSTOMERS)
    run_safemigrate("scenarioapp")
    undone = Run.objects.latest("started_at")
    # Unapplying 0003 puts the orders' note column back, which waits for this reader.
    blocker.hold(f"SELECT * FROM {ORDERS}")
    patient = {"LOCK_TIMEOUT": "100ms", "RETRIES": 10_000, "PREFLIGHT": False}
    process = manage("safemigrate", "--rollback", scenario="recovery", settings=patient)
    try:
        wait_for(
            lambda: MigrationRun.objects.filter(
                direction="backwards", name="0003_remove_order_note"
            ).exists(),
            what="the rollback to reach 0003",
        )
        time.sleep(0.5)  # a few attempts at the lock
    finally:
        kill(process)
    blocker.release()

    # Half-way: 0004 was unapplied (and committed), 0003 was not; no row was lost.
    assert applied() == ["0001_initial", "0002_customer_phone", "0003_remove_order_note"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {ORDERS}")
        assert cursor.fetchone()[0] == 2000

    output = run_safemigrate(rollback="last")

    assert "Already unapplied, left as they are: scenarioapp.0004_customer_vip." in output.out
    assert applied() == ["0001_initial"]
    assert schema(CUSTOMERS, ORDERS) == shape
    assert checksums(CUSTOMERS) == customers
    rollbacks = Run.objects.filter(rollback_of=undone).order_by("pk")
    assert [run.status for run in rollbacks] == [Status.INTERRUPTED, Status.SUCCEEDED]
