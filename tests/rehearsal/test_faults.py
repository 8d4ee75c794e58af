"""A rehearsal killed (SIGKILL) on its copy: the next run drops the copy, touching nothing else."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from safemigrate.postgres import scratch
from tests.backfill.backfill_helpers import manage, wait_for
from tests.conftest import run_safemigrate
from tests.recovery.recovery_helpers import applied, checksums
from tests.rehearsal.test_rehearse import CUSTOMERS, ORDERS, copies, seed

pytestmark = pytest.mark.django_db(transaction=True)


def sleeping_on(database: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE %s",
            [database, "%pg_sleep%"],
        )
        return bool(cursor.fetchone()[0])


def sessions_on(database: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
        return int(cursor.fetchone()[0])


def kill_during_the_slow_apply(values: dict[str, object]) -> str:
    """Rehearse 0006 (a slow apply) in a process, SIGKILL it on its copy; return the copy."""
    process = manage(
        "safemigrate", "scenarioapp", "0006", "--rehearse", scenario="rehearsal", settings=values
    )
    try:
        wait_for(lambda: len(copies()) == 1 and sleeping_on(copies()[0]), what="the slow apply")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    [orphan] = copies()
    return orphan


def test_a_killed_rehearsal_leaves_a_copy_the_doctor_and_the_next_rehearsal_drop(
    rehearsal, settings
):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0005")
    seed()
    before = checksums(CUSTOMERS, ORDERS), applied()
    orphan = kill_during_the_slow_apply(settings.SAFEMIGRATE)
    # The phase's child dies with the rehearsal: nothing goes on working on the copy.
    wait_for(lambda: sessions_on(orphan) == 0, what="the phase to die with its parent")

    with pytest.raises(CommandError) as left:
        run_safemigrate(doctor=True)
    assert left.value.returncode == 1
    out = run_safemigrate(doctor=True, yes=True).out
    assert f"Database {orphan} is a scratch copy a killed rehearsal left" in out
    assert copies() == []
    assert (checksums(CUSTOMERS, ORDERS), applied()) == before


def test_the_next_rehearsal_drops_what_a_killed_one_left(rehearsal, settings):
    rehearsal(settings, {"REHEARSAL_TOP_QUERIES": 0})
    run_safemigrate("scenarioapp", "0005")
    orphan = kill_during_the_slow_apply(settings.SAFEMIGRATE)

    out = run_safemigrate("scenarioapp", "0005", rehearse=True).out

    assert f"Dropped {orphan}, a copy a killed rehearsal left." in out
    assert "Nothing to apply" in out
    assert copies() == []


@pytest.fixture
def foreign_databases(transactional_db: None) -> Iterator[psycopg.Connection]:
    """Databases that look like copies but are not orphans of this database's rehearsals."""
    params = connection.get_connection_params()
    source = str(params["dbname"])
    made = {
        f"{scratch.PREFIX}unmarked": None,
        f"{scratch.PREFIX}of_another": scratch.mark("another_database"),
        f"{scratch.PREFIX}live": scratch.mark(source),
        "not_a_copy_of_ours": scratch.mark(source),
    }
    admin = scratch.maintenance(params)
    holder = scratch.maintenance(params)
    try:
        for name, comment in made.items():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            if comment:
                admin.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(name), sql.Literal(comment)
                    )
                )
        # A rehearsal in progress holds its copy's lock.
        holder.execute(
            "SELECT pg_advisory_lock(%s, hashtext(%s))",
            [scratch.LOCK_CLASS, f"{scratch.PREFIX}live"],
        )
        yield admin
    finally:
        holder.close()
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.close()


def test_only_marked_unheld_copies_of_this_database_are_ever_dropped(foreign_databases):
    params = connection.get_connection_params()

    dropped = scratch.drop_orphans(params, str(params["dbname"]))

    assert dropped == []
    left = {
        name
        for (name,) in foreign_databases.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'sm\\_rehearsal\\_%' "
            "OR datname = 'not_a_copy_of_ours'"
        ).fetchall()
    }
    assert left == {
        f"{scratch.PREFIX}unmarked",
        f"{scratch.PREFIX}of_another",
        f"{scratch.PREFIX}live",
        "not_a_copy_of_ours",
    }
