"""The session probes, against real second sessions: who blocks, who holds, who holds back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from safemigrate.postgres import sessions
from safemigrate.postgres.locks import LockMode
from tests.postgres.conftest import (
    Background,
    execute,
    session,
    wait_until,
    waiting_for_lock,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_backend_pid_is_the_connections_own() -> None:
    with connection.cursor() as cursor:
        pid = sessions.backend_pid(cursor)
    assert pid == connection.connection.info.backend_pid


def test_blockers_of_names_the_session_in_the_way(probe_table: str) -> None:
    with session(autocommit=False) as reader:
        reader.execute("SET application_name = 'nightly report'")
        reader.execute(f"SELECT count(*) FROM {probe_table}")
        reader_pid = reader.info.backend_pid
        with Background(f"ALTER TABLE {probe_table} ADD COLUMN note text") as waiter:
            try:
                wait_until(lambda: waiting_for_lock(waiter.pid))
                with connection.cursor() as cursor:
                    found = sessions.blockers_of(cursor, waiter.pid)
                    assert sessions.blockers_of(cursor, reader_pid) == []
            finally:
                reader.commit()

    [blocker] = found
    assert blocker.pid == reader_pid
    assert blocker.application_name == "nightly report"
    assert blocker.lock_modes == ("AccessShareLock",)
    assert blocker.relation == probe_table
    assert blocker.idle_in_transaction
    assert blocker.query == f"SELECT count(*) FROM {probe_table}"
    assert blocker.transaction_age_s is not None
    assert blocker.transaction_age_s >= 0
    assert "nightly report" in blocker.describe()


def test_long_transactions_on_finds_conflicting_holders_only(probe_table: str) -> None:
    with session(autocommit=False) as writer:
        writer.execute(f"UPDATE {probe_table} SET qty = qty WHERE id = 1")
        pid = writer.info.backend_pid
        with connection.cursor() as cursor:

            def holders(mode: LockMode, min_age_ms: int = 0, exclude: tuple[int, ...] = ()) -> list:
                found = sessions.long_transactions_on(
                    cursor, probe_table, mode, min_age_ms, list(exclude)
                )
                return [s.pid for s in found]

            # ROW EXCLUSIVE conflicts with what an ALTER TABLE takes, not with a SELECT's lock.
            assert holders(LockMode.ACCESS_EXCLUSIVE) == [pid]
            assert holders(LockMode.SHARE_ROW_EXCLUSIVE) == [pid]
            assert holders(LockMode.ACCESS_SHARE) == []
            assert holders(LockMode.ACCESS_EXCLUSIVE, exclude=(pid,)) == []
            assert holders(LockMode.ACCESS_EXCLUSIVE, min_age_ms=3_600_000) == []
            [found] = sessions.long_transactions_on(
                cursor, probe_table, LockMode.ACCESS_EXCLUSIVE, 0, []
            )
        writer.rollback()
    assert found.lock_modes == ("RowExclusiveLock",)
    assert found.relation == probe_table


def test_terminate_ends_the_other_session(probe_table: str) -> None:
    with session(autocommit=False) as reader:
        reader.execute(f"SELECT count(*) FROM {probe_table}")
        pid = reader.info.backend_pid
        with connection.cursor() as cursor:
            assert sessions.terminate(cursor, pid) is True
        with pytest.raises(Exception, match="terminat"):
            reader.execute("SELECT 1")
    wait_until(lambda: not execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]))


def test_settings_are_read_and_set_locally_in_one_round_trip() -> None:
    with connection.cursor() as cursor:
        before = sessions.current_settings(cursor, ["lock_timeout", "statement_timeout"])
        with transaction.atomic():
            sessions.set_settings(
                cursor, {"lock_timeout": "1500ms", "statement_timeout": "1min"}, local=True
            )
            inside = sessions.current_settings(cursor, ["lock_timeout", "statement_timeout"])
        after = sessions.current_settings(cursor, ["lock_timeout", "statement_timeout"])

    assert inside == {"lock_timeout": "1500ms", "statement_timeout": "1min"}
    assert after == before


def test_settings_set_for_the_session_outlive_the_transaction() -> None:
    with connection.cursor() as cursor:
        before = sessions.current_settings(cursor, ["lock_timeout"])
        try:
            sessions.set_settings(cursor, {"lock_timeout": "2s"}, local=False)
            assert sessions.current_settings(cursor, ["lock_timeout"]) == {"lock_timeout": "2s"}
        finally:
            sessions.set_settings(cursor, before, local=False)


def test_replication_lag_is_zero_without_standbys() -> None:
    with connection.cursor() as cursor:
        assert sessions.replication_lag_s(cursor) == 0.0


def test_oldest_horizon_holder_is_the_open_snapshot(probe_table: str) -> None:
    with session(autocommit=False) as reader:
        reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        reader.execute(f"SELECT count(*) FROM {probe_table}")  # takes the snapshot
        pid = reader.info.backend_pid
        with connection.cursor() as cursor:
            holder = sessions.oldest_horizon_holder(cursor, [])
            assert holder is not None
            assert holder[0] == pid
            assert holder[1] >= 0
            assert sessions.oldest_horizon_holder(cursor, [pid]) is None
        reader.rollback()
        with connection.cursor() as cursor:
            assert sessions.oldest_horizon_holder(cursor, []) is None


def test_redact_hides_passwords() -> None:
    assert sessions.redact("CREATE ROLE app PASSWORD 'it''s secret'") == (
        "CREATE ROLE app PASSWORD '********'"
    )
    assert sessions.redact("ALTER USER app WITH password s3cret") == (
        "ALTER USER app WITH password '********'"
    )
    assert sessions.redact("SELECT 1") == "SELECT 1"
