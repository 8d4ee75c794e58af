"""``--backup``: a whole pg_dump before anything is applied, or no run at all."""

from __future__ import annotations

import shlex
import stat
import subprocess

import pytest
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.models import Backup, Run, Status
from safemigrate.postgres.dump import client_environment, run_tool
from tests.conftest import columns, run_safemigrate
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


@pytest.fixture
def backups(settings, tmp_path, scenario):
    """The recovery scenario at its first migration with data, backups going to a folder."""
    folder = tmp_path / "backups"
    settings.SAFEMIGRATE = {"BACKUP_DIR": str(folder)}
    scenario("recovery")
    run_safemigrate("scenarioapp", "0001")
    seed()
    return folder


def test_backup_restores_into_a_new_database_with_identical_data(backups):
    before = checksums(CUSTOMERS, ORDERS)

    output = run_safemigrate("scenarioapp", backup=True)

    assert applied()[-1] == "0004_customer_vip"
    [name] = files_in(backups)
    path = backups / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    record = Backup.objects.get()
    assert record.status == Status.SUCCEEDED
    assert record.path == str(path)
    assert record.size_bytes == path.stat().st_size
    assert record.duration_ms is not None
    assert record.tables == [f"public.{CUSTOMERS}", f"public.{ORDERS}"]
    assert record.run == Run.objects.latest("started_at")
    assert f"Restore it with:\n  {record.restore_command}" in output.out
    with scratch_database(f"{connection.settings_dict['NAME']}_restored") as scratch:
        params = {**connection.get_connection_params(), "dbname": scratch}
        restored = run_tool(
            server_tools().pg_restore,
            [f"--dbname={scratch}", str(path)],
            client_environment(params),
        )
        assert restored.returncode == 0, restored.stderr
        assert checksums(CUSTOMERS, ORDERS, dbname=scratch) == before


def test_printed_restore_command_puts_back_what_a_rollback_cannot(backups):
    before, shape = checksums(CUSTOMERS, ORDERS), schema(CUSTOMERS, ORDERS)
    run_safemigrate("scenarioapp", backup=True)
    run_safemigrate(rollback="last")
    # The rollback put the dropped column back, empty: the notes themselves are gone.
    assert schema(CUSTOMERS, ORDERS) == shape
    assert checksums(CUSTOMERS)[CUSTOMERS] == before[CUSTOMERS]
    assert checksums(ORDERS)[ORDERS] != before[ORDERS]

    command = shlex.split(Backup.objects.get().restore_command)
    environment = client_environment(connection.get_connection_params())
    result = subprocess.run(command, env=environment, capture_output=True, check=False)

    assert result.returncode == 0, result.stderr
    assert checksums(CUSTOMERS, ORDERS) == before
    assert schema(CUSTOMERS, ORDERS) == shape


def test_whole_database_scope_holds_every_table(backups):
    run_safemigrate("scenarioapp", "0002", backup=True, backup_scope="database")

    record = Backup.objects.get()
    assert (record.scope, record.tables) == ("database", [])
    listing = subprocess.run(
        [server_tools().pg_restore.path, "--list", record.path], capture_output=True, check=True
    ).stdout
    assert b"TABLE DATA public django_migrations" in listing
    assert b"TABLE DATA public testapp_widget" in listing


def test_a_failed_backup_stops_the_run_before_anything_is_applied(backups, settings, blocker):
    settings.SAFEMIGRATE = {**settings.SAFEMIGRATE, "RETRY_DEADLINE": "300ms"}
    shape, data = schema(CUSTOMERS, ORDERS), checksums(CUSTOMERS, ORDERS)
    blocker.hold(f"LOCK TABLE {ORDERS} IN ACCESS EXCLUSIVE MODE")

    with pytest.raises(CommandError) as failed:
        run_safemigrate("scenarioapp", backup=True)

    blocker.release()
    assert failed.value.returncode == 5
    assert "The backup failed, so nothing was applied: pg_dump failed" in str(failed.value)
    # pg_dump waits for its locks with a statement timeout (--lock-wait-timeout).
    assert "canceling statement due to statement timeout" in str(failed.value)
    assert applied() == ["0001_initial"]
    assert (schema(CUSTOMERS, ORDERS), checksums(CUSTOMERS, ORDERS)) == (shape, data)
    assert files_in(backups) == [], "neither a backup nor a partial file is left"
    run = Run.objects.get(exit_code=5)
    assert run.status == Status.FAILED
    assert Backup.objects.get(run=run).status == Status.FAILED


def test_a_pg_dump_too_old_for_the_server_is_named_with_the_fix(backups, settings, tmp_path):
    old = tmp_path / "old" / "pg_dump"
    old.parent.mkdir()
    major = server_tools().pg_dump.major - 1
    old.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {major}.9'\n")
    old.chmod(0o755)
    settings.SAFEMIGRATE = {**settings.SAFEMIGRATE, "PG_DUMP": str(old)}

    with pytest.raises(CommandError) as failed:
        run_safemigrate("scenarioapp", backup=True)

    message = str(failed.value)
    assert failed.value.returncode == 5
    assert f"Found pg_dump {old} (PostgreSQL {major}.9), older than the server" in message
    assert "set SAFEMIGRATE['PG_DUMP'] to the path of a pg_dump" in message
    assert applied() == ["0001_initial"]
    assert Run.objects.count() == 1, "refused before the run started"


def test_a_missing_pg_dump_is_named(backups, settings):
    settings.SAFEMIGRATE = {**settings.SAFEMIGRATE, "PG_DUMP": "/nowhere/pg_dump"}

    with pytest.raises(CommandError) as failed:
        run_safemigrate("scenarioapp", backup=True)

    assert failed.value.returncode == 5
    assert "SAFEMIGRATE['PG_DUMP'] is '/nowhere/pg_dump', which is not an executable" in str(
        failed.value
    )
    assert applied() == ["0001_initial"]


def test_retention_keeps_the_newest_backups_and_nothing_else_is_touched(backups, settings):
    settings.SAFEMIGRATE = {**settings.SAFEMIGRATE, "BACKUP_KEEP": 2}
    backups.mkdir()
    database = connection.settings_dict["NAME"]
    others = [
        "notes.txt",
        "safemigrate-other_db-20200101T000000000000Z.dump",
        f"safemigrate-{database}-20200101T000000000000Z.dump.old",
    ]
    for name in others:
        (backups / name).write_text("not ours to delete")
    left = backups / f"safemigrate-{database}-20200101T000000000000Z.dump.partial"
    left.write_text("what a killed backup left")

    for target in ("0002", "0003", "0004"):
        run_safemigrate("scenarioapp", target, backup=True)

    records = list(Backup.objects.order_by("started_at"))
    kept = [record.path.rsplit("/", 1)[1] for record in records[1:]]
    assert files_in(backups) == sorted([*others, *kept])
    assert [record.removed_at is not None for record in records] == [True, False, False]
    assert not records[0].usable


def test_a_plan_that_only_creates_tables_needs_no_backup(settings, tmp_path, scenario):
    settings.SAFEMIGRATE = {"BACKUP_DIR": str(tmp_path)}
    scenario("recovery")

    output = run_safemigrate("scenarioapp", "0001", backup=True)

    assert "No backup: the plan touches no table that exists yet." in output.out
    assert files_in(tmp_path) == []
    assert not Backup.objects.exists()


def test_the_backup_setting_needs_a_folder_and_no_backup_skips_it(settings, scenario):
    settings.SAFEMIGRATE = {"BACKUP": True}
    scenario("basic")
    with pytest.raises(CommandError) as refused:
        run_safemigrate("scenarioapp", "0001")
    assert refused.value.returncode == 2
    assert "set SAFEMIGRATE['BACKUP_DIR']" in str(refused.value)

    run_safemigrate("scenarioapp", no_backup=True)

    assert "note" in columns("scenarioapp_item")


def test_faking_takes_no_backup(backups):
    run_safemigrate("scenarioapp", "0002", backup=True, fake=True)

    assert files_in(backups) == []
    assert not Backup.objects.exists()


def test_the_password_reaches_pg_dump_only_through_its_environment(backups, tmp_path):
    tools = server_tools()
    spy = tmp_path / "spy"
    spy.mkdir()
    wrapper = spy / "pg_dump"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {spy}/argv\n'
        f'[ -n "$PGPASSWORD" ] && echo "$PGPASSWORD" > {spy}/password\n'
        f'exec {tools.pg_dump.path} "$@"\n'
    )
    wrapper.chmod(0o755)
    (spy / "pg_restore").symlink_to(tools.pg_restore.path)
    password = connection.settings_dict["PASSWORD"] or "not-the-real-password"
    connection.settings_dict["PASSWORD"] = password  # a trusting server ignores it
    try:
        from django.conf import settings

        settings.SAFEMIGRATE = {**settings.SAFEMIGRATE, "PG_DUMP": str(wrapper)}
        output = run_safemigrate("scenarioapp", "0002", backup=True)
    finally:
        connection.settings_dict["PASSWORD"] = "" if password.startswith("not-") else password

    assert (spy / "password").read_text().strip() == password
    assert password not in (spy / "argv").read_text()
    assert "--format=custom" in (spy / "argv").read_text()
    record = Backup.objects.get()
    assert password not in record.restore_command + record.pg_dump + output.out
    assert password not in str(Run.objects.get(pk=record.run_id).options)
