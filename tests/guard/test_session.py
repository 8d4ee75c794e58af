"""The guard sets its timeouts for the session once per run, and puts the session's own back."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.models.signals import post_migrate
from psycopg import pq

from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

LIMITS = {"LOCK_TIMEOUT": "321ms", "STATEMENT_TIMEOUT": "7s"}
GUARDED = ("321ms", "7s")
#: The session's own timeouts, as a connection's ``OPTIONS`` (or a role's defaults) give them.
OWN = ("4321ms", "98s")


@pytest.fixture
def own_timeouts() -> Iterator[None]:
    """Open the migration connection's sessions with timeouts of their own."""
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    options["options"] = f"-c lock_timeout={OWN[0]} -c statement_timeout={OWN[1]}"
    connection.close()
    yield
    options.clear()
    options.update(saved)
    connection.close()


def timeouts(alias: str = "default") -> tuple[str, str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        )
        lock_timeout, statement_timeout = cursor.fetchone()
    return lock_timeout, statement_timeout


def recorded() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source, lock_timeout, statement_timeout FROM scenarioapp_probe ORDER BY id"
        )
        return cursor.fetchall()


@contextmanager
def sent_statements() -> Iterator[list[str]]:
    """Collect each statement the migration connection sends, as libpq's trace shows them."""
    connection.ensure_connection()
    pgconn: Any = connection.connection.pgconn
    statements: list[str] = []
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield statements
        finally:
            pgconn.untrace()
            trace.seek(0)
            lines = trace.read().decode(errors="replace").splitlines()
            statements += re.findall(
                r'^F\t\d+\t(?:Query|Parse)\t (?:"" )?"(.*)"', "\n".join(lines), re.M
            )


def guard_settings(statements: list[str]) -> list[str]:
    """The guard's ``set_config()`` calls: it sets both timeouts at once."""
    return [s for s in statements if "set_config('statement_timeout'" in s]


def test_each_migration_runs_under_the_guards_timeouts_whatever_the_last_one_set(
    scenario, settings, own_timeouts
):
    settings.SAFEMIGRATE = LIMITS
    scenario("sessions")
    run_safemigrate("scenarioapp", "0006")

    assert recorded() == [
        ("atomic", *GUARDED),
        ("non-atomic, after SET", *GUARDED),
        ("after RESET ALL", *GUARDED),
        ("non-atomic, after set_config", *GUARDED),
        ("after reconnecting", *GUARDED),
    ]
    assert timeouts() == OWN


def test_post_migrate_handlers_run_under_the_sessions_own_timeouts(
    scenario, settings, own_timeouts
):
    settings.SAFEMIGRATE = LIMITS
    scenario("sessions")
    seen: list[tuple[str, str]] = []

    def look(using: str, **kwargs: Any) -> None:
        seen.append(timeouts(using))

    post_migrate.connect(look, dispatch_uid="test_session")
    try:
        run_safemigrate("scenarioapp", "0002")
    finally:
        post_migrate.disconnect(dispatch_uid="test_session")

    assert recorded() == [("atomic", *GUARDED)]
    assert seen
    assert set(seen) == {OWN}


def test_a_failed_run_leaves_the_session_its_own_timeouts(scenario, settings, own_timeouts):
    settings.SAFEMIGRATE = LIMITS
    scenario("sessions")
    run_safemigrate("scenarioapp", "0001")

    with pytest.raises(CommandError, match="division by zero"):
        run_safemigrate("scenarioapp")

    assert len(recorded()) == 5, "the migrations before the failing one ran"
    assert timeouts() == OWN


def test_atomic_migrations_cost_no_round_trip_of_their_own(scenario, settings):
    settings.SAFEMIGRATE = LIMITS
    scenario("atomics")

    with sent_statements() as statements:
        run_safemigrate("scenarioapp")

    assert sum('ALTER TABLE "scenarioapp_item" ADD COLUMN' in s for s in statements) == 4
    assert [s for s in statements if "SAVEPOINT" in s] == []
    # Set once for the run, then once to put the session's own values back.
    assert len(guard_settings(statements)) == 2


def test_behind_a_pooler_each_transaction_sets_the_timeouts(scenario, settings):
    """A transaction-mode pooler keeps no session setting: SET LOCAL in each transaction."""
    settings.SAFEMIGRATE = {**LIMITS, "POOLER": "transaction"}
    scenario("probe")

    with sent_statements() as statements:
        run_safemigrate("scenarioapp")

    assert recorded()[:2] == [("RunSQL", *GUARDED), ("RunPython", *GUARDED)]
    guard_set = guard_settings(statements)
    assert len(guard_set) == 3, "one per atomic migration"
    assert all(s.endswith("true)") for s in guard_set), "all SET LOCAL"
