"""safemigrate behaves as migrate where safety adds nothing, and tells outcomes apart."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from safemigrate.guard.runlock import RUN_LOCK_KEY
from safemigrate.models import MigrationRun, Run, Status
from tests.conftest import Blocker, columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


def plain_migrate(*args: str, **options: object) -> str:
    out = StringIO()
    call_command("migrate", *args, stdout=out, no_color=True, **options)
    return out.getvalue()


def test_plan_is_the_same_as_migrate(scenario):
    scenario("basic")
    assert run_safemigrate("scenarioapp", plan=True).out == plain_migrate("scenarioapp", plan=True)
    assert "scenarioapp.0002_item_note" in plain_migrate("scenarioapp", plan=True)
    assert not Run.objects.exists(), "read-only options record no run"


def test_check_exits_like_migrate(scenario):
    scenario("basic")
    with pytest.raises(SystemExit) as migrate_exit:
        plain_migrate("scenarioapp", check_unapplied=True)
    with pytest.raises(SystemExit) as ours:
        run_safemigrate("scenarioapp", check_unapplied=True)
    assert ours.value.code == migrate_exit.value.code == 1
    run_safemigrate("scenarioapp")
    run_safemigrate("scenarioapp", check_unapplied=True)  # nothing pending: no exit


def test_targets_forwards_and_backwards(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    assert columns("scenarioapp_item") == {"id", "name"}
    run_safemigrate("scenarioapp")
    assert columns("scenarioapp_item") == {"id", "name", "note"}
    output = run_safemigrate("scenarioapp", "0001")
    assert "Unapplying scenarioapp.0002_item_note... OK" in output.out
    assert columns("scenarioapp_item") == {"id", "name"}
    backwards = MigrationRun.objects.get(name="0002_item_note", direction="backwards")
    assert backwards.status == Status.SUCCEEDED
    run_safemigrate("scenarioapp", "zero")
    assert "scenarioapp_item" not in connection.introspection.table_names()


def test_call_command_leaves_the_garbage_collector_as_it_was(scenario):
    # From the command line, safemigrate freezes start-up's objects for the rest of the
    # process; a process that goes on after call_command must keep collecting them.
    scenario("basic")
    frozen = gc.get_freeze_count()
    run_safemigrate("scenarioapp")
    assert gc.get_freeze_count() == frozen


def test_fake_records_the_migration_without_running_it(scenario):
    scenario("basic")
    output = run_safemigrate("scenarioapp", "0001", fake=True)
    assert "Applying scenarioapp.0001_initial... FAKED" in output.out
    assert "scenarioapp_item" not in connection.introspection.table_names()
    record = MigrationRun.objects.get(name="0001_initial")
    assert record.fake
    assert record.status == Status.SUCCEEDED
    assert not record.statements.exists()


def test_json_summary(scenario):
    scenario("basic")
    output = run_safemigrate("scenarioapp", json=True)
    summary = json.loads(output.out)
    assert summary["status"] == "succeeded"
    assert summary["exit_code"] == 0
    assert [m["name"] for m in summary["migrations"]] == ["0001_initial", "0002_item_note"]
    assert summary["migrations"][1]["attempts"][0]["outcome"] == "ok"
    assert summary["migrations"][1]["attempts"][0]["lock_timeout_ms"] == 200
    assert summary["run_id"] == Run.objects.get().pk
    assert "Applying scenarioapp.0001_initial" in output.err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("lock_timeout", "soon", "must be a duration such as '200ms'"),
        ("lock_timeout_max", "0", "--lock-timeout-max must be above zero"),
        ("statement_timeout", "-1s", "must be a duration"),
        ("retries", -1, "must be a whole number >= 0"),
    ],
)
def test_bad_option_is_a_usage_error(scenario, option, value, message):
    scenario("basic")
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", **{option: value})
    assert raised.value.returncode == 2
    assert message in str(raised.value)
    assert "scenarioapp_item" not in connection.introspection.table_names()


def test_bad_setting_is_a_usage_error(scenario, settings):
    settings.SAFEMIGRATE = {"LOCK_TIMEOUT": "fast"}
    scenario("basic")
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")
    assert raised.value.returncode == 2
    assert "SAFEMIGRATE['LOCK_TIMEOUT']" in str(raised.value)


def test_bad_migration_attribute_names_the_migration(scenario, settings):
    scenario("badattr")
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")
    assert raised.value.returncode == 2
    assert "scenarioapp.0001_initial.safemigrate['lock_timeout'] must be a duration" in str(
        raised.value
    )
    assert "scenarioapp_item" not in connection.introspection.table_names()


def test_second_run_waits_then_gives_up_while_another_holds_the_run_lock(scenario, settings):
    settings.SAFEMIGRATE = {"RUN_LOCK_WAIT": "1s"}
    scenario("basic")
    hold_run_lock = (
        f"SELECT set_config('application_name', %r, true), pg_advisory_xact_lock({RUN_LOCK_KEY})"
    )
    # A run on another database of the same server neither blocks this one nor is named.
    elsewhere = Blocker(database="postgres").hold(hold_run_lock % "other-database")
    other = Blocker().hold(hold_run_lock % "deploy-pod-1")
    try:
        with pytest.raises(CommandError) as raised:
            run_safemigrate("scenarioapp")
    finally:
        other.close()
    assert raised.value.returncode == 3
    assert "Another safemigrate run is migrating this database" in str(raised.value)
    assert f"server pid {other.pid}, deploy-pod-1" in str(raised.value)
    assert "other-database" not in str(raised.value)
    assert "scenarioapp_item" not in connection.introspection.table_names()
    try:
        run_safemigrate("scenarioapp")
    finally:
        elsewhere.close()
    assert "scenarioapp_item" in connection.introspection.table_names()


def test_first_run_records_history_before_its_tables_exist(scenario):
    plain_migrate("safemigrate", "zero")
    assert "safemigrate_run" not in connection.introspection.table_names()
    scenario("basic")

    run_safemigrate()

    run = Run.objects.get()
    assert run.status == Status.SUCCEEDED
    names = set(run.migrations.values_list("app_label", "name"))
    assert ("safemigrate", "0001_initial") in names
    assert ("scenarioapp", "0002_item_note") in names


def test_run_before_the_history_tables_exist_says_it_is_not_recorded(scenario):
    plain_migrate("safemigrate", "zero")
    scenario("basic")
    try:
        output = run_safemigrate("scenarioapp", "0001")
        assert "safemigrate_run" not in connection.introspection.table_names()
    finally:
        plain_migrate("safemigrate")

    assert "scenarioapp_item" in connection.introspection.table_names()
    assert "this run is not in the run history" in output.err
    assert "Run `manage.py safemigrate safemigrate` once" in output.err
    run_safemigrate("scenarioapp")
    assert "not in the run history" not in run_safemigrate("scenarioapp", "0001").err
    assert Run.objects.count() == 2


def test_interrupted_run_is_marked_when_the_next_run_starts(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    Run.objects.update(status=Status.RUNNING)  # as if the process had been killed
    run_safemigrate("scenarioapp")
    assert list(Run.objects.order_by("started_at").values_list("status", flat=True)) == [
        Status.INTERRUPTED,
        Status.SUCCEEDED,
    ]


def test_history_stores_no_connection_secrets(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp")
    run = Run.objects.get()
    stored = json.dumps(run.options) + json.dumps(run.targets)
    password = connection.settings_dict.get("PASSWORD") or "no-password-set"
    assert password not in stored
    assert "stdout" not in run.options
    assert set(run.options) <= {
        "app_label",
        "migration_name",
        "fake",
        "fake_initial",
        "run_syncdb",
        "lock_timeout",
        "lock_timeout_max",
        "statement_timeout",
        "retries",
        "phase",
        "verbosity",
        "backup",
        "no_backup",
        "backup_scope",
        "rollback",
    }


def test_pooler_in_transaction_mode_refuses_non_atomic_migrations(scenario, settings):
    settings.SAFEMIGRATE = {"POOLER": "transaction"}
    scenario("nonatomic")
    output = run_safemigrate("scenarioapp", "0001")
    assert "Connection pooler detected" in output.out
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")
    assert raised.value.returncode == 2
    assert "0002_table_column_index is not atomic" in str(raised.value)
    assert "direct connection" in str(raised.value)
    assert "scenarioapp_other" not in connection.introspection.table_names()


@pytest.mark.django_db(transaction=True, databases=["default", "sqlite"])
def test_other_databases_migrate_as_plain_migrate(scenario):
    scenario("basic")
    output = run_safemigrate("scenarioapp", database="sqlite")
    assert "is sqlite, not PostgreSQL" in output.err
    assert "scenarioapp_item" in connections["sqlite"].introspection.table_names()
    assert not Run.objects.exists()


def _database_url() -> str:
    params = connection.settings_dict
    host = quote(params["HOST"] or "", safe="")
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"postgres://{params['USER']}@{host}{port}/{params['NAME']}"


def test_exit_codes_from_the_shell(scenario, blocker: Blocker, settings):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("LOCK TABLE scenarioapp_item IN ACCESS SHARE MODE")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SAFEMIGRATE_TEST_MIGRATIONS": "basic",
        "SAFEMIGRATE_TEST_SETTINGS": json.dumps({"PREFLIGHT": False}),
    }
    command = [sys.executable, "-m", "django", "safemigrate", "scenarioapp"]
    locked = subprocess.run(
        [*command, "--lock-timeout", "50ms", "--retries", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert locked.returncode == 3, locked.stderr
    assert "Gave up on scenarioapp.0002_item_note" in locked.stderr
    usage = subprocess.run(
        [*command, "--lock-timeout", "whenever"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2
    assert "--lock-timeout must be a duration such as '200ms'" in usage.stderr
    blocker.release()
    ok = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
