"""The guard against real lock contention: a second session holds a lock on the table."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.models import MigrationRun, Outcome, Run, Statement, Status
from tests import catalog
from tests.conftest import Blocker, columns, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

NO_PREFLIGHT = {"PREFLIGHT": False, "RETRY_BACKOFF": "50ms", "RETRY_BACKOFF_MAX": "200ms"}


def migration_run(name: str) -> MigrationRun:
    return MigrationRun.objects.get(app_label="scenarioapp", name=name)


def test_lock_timeout_retries_until_the_blocker_ends(scenario, blocker: Blocker, settings):
    # A ceiling the 1.5 s blocker never outgrows: every retry waits longer.
    settings.SAFEMIGRATE = {**NO_PREFLIGHT, "LOCK_TIMEOUT_MAX": "3s"}
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item").release_after(1.5)

    output = run_safemigrate("scenarioapp", lock_timeout="100ms", retries=100)

    assert "note" in columns("scenarioapp_item")
    record = migration_run("0002_item_note")
    assert record.status == Status.SUCCEEDED
    attempts = list(record.attempts.all())
    assert len(attempts) >= 3
    assert {a.outcome for a in attempts[:-1]} == {Outcome.LOCK_TIMEOUT}
    assert attempts[-1].outcome == Outcome.OK
    blocked = attempts[0].blockers
    assert [b["pid"] for b in blocked] == [blocker.pid]
    assert blocked[0]["query"] == "SELECT * FROM scenarioapp_item"
    assert blocked[0]["lock_modes"] == ["AccessShareLock"]
    assert f"blocked by pid {blocker.pid}" in output.out
    assert "lock not granted within 100ms" in output.out
    assert "retrying in" in output.out
    assert "with lock timeout 200ms" in output.out
    # The first attempt waited the 100ms the run asked for; each retry doubled it.
    expected = [min(100 * 2**n, 3000) for n in range(len(attempts))]
    assert [a.lock_timeout_ms for a in attempts] == expected
    alter = record.statements.filter(sql__startswith="ALTER TABLE")
    assert [s.lock_timeout_ms for s in alter] == expected
    assert alter.filter(outcome=Outcome.LOCK_TIMEOUT).count() == len(attempts) - 1


def test_gives_up_after_the_retries_with_schema_unchanged(scenario, blocker: Blocker, settings):
    settings.SAFEMIGRATE = NO_PREFLIGHT
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item")

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", lock_timeout="50ms", retries=2)

    assert raised.value.returncode == 3
    message = str(raised.value)
    assert "Gave up on scenarioapp.0002_item_note after 3 attempts" in message
    assert f"blocked by pid {blocker.pid}" in message
    assert "Fix:" in message
    assert "note" not in columns("scenarioapp_item")
    run = Run.objects.latest("started_at")
    assert (run.status, run.exit_code) == (Status.FAILED, 3)
    record = migration_run("0002_item_note")
    assert record.status == Status.FAILED
    assert record.attempts.count() == 3
    assert set(record.attempts.values_list("outcome", flat=True)) == {Outcome.LOCK_TIMEOUT}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE name = '0002_item_note'")
        assert cursor.fetchone()[0] == 0


def test_preflight_waits_outside_the_lock_queue(scenario, blocker: Blocker, settings):
    """While a long transaction holds the table, other sessions' queries must not queue."""
    settings.SAFEMIGRATE = {"PREFLIGHT_WAIT": "30s"}
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item")
    time.sleep(0.3)  # older than the lock timeout: a long transaction, not passing traffic
    blocker.release_after(1.5)
    reader = Blocker()
    stalls: list[float] = []

    def read_while_migrating() -> None:
        for _ in range(10):
            started = time.monotonic()
            reader.hold("SELECT count(*) FROM scenarioapp_item")
            stalls.append(time.monotonic() - started)
            reader.release()
            time.sleep(0.1)

    thread = threading.Thread(target=read_while_migrating)
    thread.start()
    output = run_safemigrate("scenarioapp")
    thread.join()
    reader.close()

    assert "pre-flight: long transactions hold scenarioapp_item" in output.out
    assert "note" in columns("scenarioapp_item")
    assert max(stalls) < 0.2
    attempts = list(migration_run("0002_item_note").attempts.all())
    assert attempts[0].outcome == Outcome.BLOCKED
    assert attempts[0].blockers[0]["pid"] == blocker.pid
    assert attempts[-1].outcome == Outcome.OK


def test_a_long_blocker_is_not_outwaited_by_longer_attempts(scenario, blocker: Blocker, settings):
    """Only a transaction that could end within the ceiling is worth a longer wait."""
    settings.SAFEMIGRATE = NO_PREFLIGHT
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item")
    time.sleep(1.2)  # older than LOCK_TIMEOUT_MAX (1s)
    blocker.release_after(1.5)

    output = run_safemigrate("scenarioapp", lock_timeout="100ms", retries=100)

    assert "note" in columns("scenarioapp_item")
    attempts = list(migration_run("0002_item_note").attempts.all())
    assert len(attempts) >= 3
    assert {a.lock_timeout_ms for a in attempts} == {100}
    assert "with lock timeout 100ms" in output.out


def test_a_retry_starts_from_the_state_before_the_migration(scenario, blocker: Blocker, settings):
    # 0003 renames a field of one table, then meets the lock on another: its retry must not
    # see the rename already in the state ("no field named name"), and 0004 must see it.
    settings.SAFEMIGRATE = NO_PREFLIGHT
    scenario("retrystate")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_tag").release_after(1.0)

    run_safemigrate("scenarioapp", lock_timeout="100ms", retries=100)

    assert {"id", "title"} == columns("scenarioapp_item")
    assert "note" in columns("scenarioapp_tag")
    assert migration_run("0003_rename_then_tag").attempts.count() >= 2
    assert catalog.columns("scenarioapp_item")["title"][0] == "character varying(200)"


def test_a_retry_of_a_rollback_starts_from_the_same_state(scenario, blocker: Blocker, settings):
    settings.SAFEMIGRATE = NO_PREFLIGHT
    scenario("retrystate")
    run_safemigrate("scenarioapp")
    blocker.hold("SELECT * FROM scenarioapp_tag").release_after(1.0)

    run_safemigrate("scenarioapp", "0002", lock_timeout="100ms", retries=100)

    assert {"id", "name"} == columns("scenarioapp_item")
    assert "note" not in columns("scenarioapp_tag")
    unapplied = MigrationRun.objects.filter(name="0003_rename_then_tag").latest("pk")
    assert unapplied.attempts.count() >= 2
    assert unapplied.status == Status.SUCCEEDED


def test_statement_timeout_fails_without_retrying(scenario, settings):
    scenario("slow")
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", statement_timeout="200ms")

    assert raised.value.returncode == 1
    assert "Migration scenarioapp.0002_sleep failed" in str(raised.value)
    assert "statement timeout" in str(raised.value)
    record = migration_run("0002_sleep")
    assert record.status == Status.FAILED
    assert list(record.attempts.values_list("outcome", flat=True)) == [Outcome.STATEMENT_TIMEOUT]
    assert migration_run("0001_initial").status == Status.SUCCEEDED


def test_non_atomic_migration_retries_only_the_failed_statement(
    scenario, blocker: Blocker, settings
):
    settings.SAFEMIGRATE = {**NO_PREFLIGHT, "LOCK_TIMEOUT_MAX": "3s"}
    scenario("nonatomic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item").release_after(1.5)

    run_safemigrate("scenarioapp", lock_timeout="100ms", retries=100)

    assert "note" in columns("scenarioapp_item")
    record = migration_run("0002_table_column_index")
    assert record.status == Status.SUCCEEDED
    statements = list(record.statements.all())
    creates = [s for s in statements if s.sql.startswith('CREATE TABLE "scenarioapp_other"')]
    assert len(creates) == 1, "the committed CREATE TABLE must not run again"
    alters = [s for s in statements if s.sql.startswith("ALTER TABLE")]
    assert len(alters) >= 3
    assert {s.outcome for s in alters[:-1]} == {Outcome.LOCK_TIMEOUT}
    assert alters[-1].outcome == Outcome.OK
    assert [s.lock_timeout_ms for s in alters] == [
        min(100 * 2**n, 3000) for n in range(len(alters))
    ]
    build = next(s for s in statements if s.sql.startswith("CREATE INDEX CONCURRENTLY"))
    assert build.lock_timeout_ms == 0, "CONCURRENTLY is exempt from the lock timeout"
    assert record.attempts.count() == len(alters)
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0", "session settings are restored after the migration"


def test_runsql_and_runpython_run_under_the_timeouts(scenario, settings):
    settings.SAFEMIGRATE = {"LOCK_TIMEOUT": "321ms", "STATEMENT_TIMEOUT": "7s"}
    scenario("probe")
    run_safemigrate("scenarioapp")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source, lock_timeout, statement_timeout FROM scenarioapp_probe ORDER BY id"
        )
        assert cursor.fetchall() == [
            ("RunSQL", "321ms", "7s"),
            ("RunPython", "321ms", "7s"),
            ("attribute", "1234ms", "42s"),
        ]


def test_command_line_beats_the_migration_attribute(scenario, settings):
    scenario("probe")
    run_safemigrate("scenarioapp", lock_timeout="2s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT lock_timeout FROM scenarioapp_probe WHERE source = 'attribute'")
        assert cursor.fetchone()[0] == "2s"


def test_table_policy_gives_a_hot_table_its_own_lock_timeout(scenario, settings):
    settings.SAFEMIGRATE = {"TABLES": {"scenarioapp_item": {"LOCK_TIMEOUT": "75ms"}}}
    scenario("basic")
    run_safemigrate("scenarioapp")

    alter = Statement.objects.get(sql__startswith='ALTER TABLE "scenarioapp_item" ADD COLUMN')
    assert alter.lock_timeout_ms == 75
    create = Statement.objects.get(sql__startswith='CREATE TABLE "scenarioapp_item"')
    assert create.lock_timeout_ms == 200


def test_idle_blocker_is_terminated_when_the_policy_allows(scenario, blocker: Blocker, settings):
    settings.SAFEMIGRATE = {**NO_PREFLIGHT, "TERMINATE_IDLE_BLOCKERS_AFTER": "100ms"}
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item")
    time.sleep(0.2)

    output = run_safemigrate("scenarioapp", lock_timeout="100ms", retries=20)

    assert "note" in columns("scenarioapp_item")
    assert f"terminated idle blocker pid {blocker.pid}" in output.out
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [blocker.pid])
        assert cursor.fetchone()[0] == 0


def test_a_failed_non_atomic_migration_records_what_stayed_applied(scenario):
    scenario("failing")
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")

    assert "It was not atomic" in str(raised.value)
    assert "note" in columns("scenarioapp_item"), "the first statement was committed"
    record = migration_run("0002_half_done")
    assert record.status == Status.FAILED
    outcomes = list(record.statements.values_list("outcome", flat=True))
    assert outcomes[0] == Outcome.OK
    assert outcomes[-1] == Outcome.ERROR
    assert 'column "note" of relation "scenarioapp_item" already exists' in record.error


def test_no_preflight_option_goes_straight_to_lock_attempts(scenario, blocker: Blocker):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("SELECT * FROM scenarioapp_item")
    time.sleep(0.3)  # a long transaction: the pre-flight would wait for it
    blocker.release_after(1.0)

    output = run_safemigrate("scenarioapp", lock_timeout="100ms", retries=100, no_preflight=True)

    assert "pre-flight" not in output.out
    outcomes = list(migration_run("0002_item_note").attempts.values_list("outcome", flat=True))
    assert outcomes[0] == Outcome.LOCK_TIMEOUT
    assert outcomes[-1] == Outcome.OK


def applied_as_another_session_sees_it(name: str) -> tuple[bool, bool]:
    """Return (recorded in django_migrations, its table exists), read by a new connection:
    the run's own connection would also see what it never committed."""
    other = Blocker()
    try:
        other.hold(f"SELECT count(*) FROM django_migrations WHERE name = '{name}'")
        with other.conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM django_migrations WHERE name = '{name}'")
            recorded = cursor.fetchone()[0] == 1
            cursor.execute("SELECT to_regclass('scenarioapp_note') IS NOT NULL")
            created = cursor.fetchone()[0]
    finally:
        other.close()
    return recorded, created


@pytest.mark.parametrize("preflight", [False, True], ids=["lock-timeout", "pre-flight"])
def test_retry_of_deferred_sql_commits_the_migration(
    scenario, blocker: Blocker, settings, preflight: bool
):
    # Django runs a new table's foreign keys as deferred SQL when the schema editor closes; a
    # lock timeout (or the pre-flight) there used to leave the editor's transaction open, so
    # the retry ran in it and reported OK while nothing was ever committed.
    settings.SAFEMIGRATE = {"PREFLIGHT_WAIT": "30s"} if preflight else NO_PREFLIGHT
    scenario("deferred")
    run_safemigrate("scenarioapp", "0001")
    blocker.hold("UPDATE scenarioapp_item SET name = name")
    time.sleep(0.3)  # older than the lock timeout: a long transaction for the pre-flight
    blocker.release_after(1.5)

    run_safemigrate("scenarioapp", lock_timeout="100ms", retries=100)

    assert not connection.in_atomic_block
    assert applied_as_another_session_sees_it("0002_note") == (True, True)
    attempts = list(migration_run("0002_note").attempts.all())
    assert len(attempts) >= 2
    assert attempts[0].outcome == (Outcome.BLOCKED if preflight else Outcome.LOCK_TIMEOUT)
    assert attempts[-1].outcome == Outcome.OK
