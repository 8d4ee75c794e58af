"""Postconditions on a real PostgreSQL: a check that fails fails its migration, and the run
history says which check and what it found; checks that hold are recorded too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.exceptions import ConfigurationError, ExitCode, PostconditionFailed
from safemigrate.models import MigrationRun, Run, Status
from safemigrate.verify import run_postconditions
from tests.conftest import run_safemigrate
from tests.test_command import plain_migrate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(scenario: Any) -> None:
    scenario("postconditions")
    run_safemigrate("scenarioapp", "0002")


def insert(*prices: str) -> None:
    with connection.cursor() as cursor:
        for number, price in enumerate(prices):
            cursor.execute(
                "INSERT INTO scenarioapp_product (name, price) VALUES (%s, %s)",
                [f"product {number}", price],
            )


def value(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def applied() -> set[str]:
    recorder = MigrationRecorder(connection)
    return {name for app, name in recorder.applied_migrations() if app == "scenarioapp"}


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def test_checks_that_hold_are_recorded_with_what_they_found(shop):
    insert("4.50", "0.99")

    output = run_safemigrate("scenarioapp", "0003", json=True)

    record = MigrationRun.objects.get(name="0003_fill_price_cents")
    assert record.status == Status.SUCCEEDED
    checks = list(record.postconditions.values_list("description", "passed", "expected", "actual"))
    assert checks == [
        ("no product without price_cents", True, "0", "0"),
        ("Every price_cents equals the price in cents", True, "", "True"),
    ]
    summary = json.loads(output.out)["migrations"][0]["postconditions"]
    assert [(check["description"], check["passed"]) for check in summary] == [
        ("no product without price_cents", True),
        ("Every price_cents equals the price in cents", True),
    ]


def test_the_check_runs_under_the_guard_with_the_run_timeouts(shop):
    insert("4.50")

    run_safemigrate("scenarioapp", "0003", lock_timeout="150ms", statement_timeout="4s")

    record = MigrationRun.objects.get(name="0003_fill_price_cents")
    query = record.statements.get(sql__contains="price_cents IS NULL")
    assert (query.lock_timeout_ms, query.statement_timeout_ms) == (150, 4000)
    assert query.attempt == record.postconditions.first().attempt == 1


def test_a_failing_check_rolls_an_atomic_migration_back_and_says_why(shop):
    insert("4.50", "-1.00")

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")

    assert raised.value.returncode == ExitCode.MIGRATION_FAILED
    message = str(raised.value)
    assert (
        "Migration scenarioapp.0003_fill_price_cents failed: Postcondition failed: no product "
        "without price_cents: expected 0, got 1." in message
    )
    assert "It was atomic: nothing of it was kept." in message
    assert "Nothing of this run stays applied." in message
    assert value("SELECT count(*) FROM scenarioapp_product WHERE price_cents IS NOT NULL") == 0
    assert applied() == {"0001_initial", "0002_product_note"}
    record = MigrationRun.objects.get(name="0003_fill_price_cents")
    assert record.status == Status.FAILED
    assert "no product without price_cents: expected 0, got 1" in record.error
    check = record.postconditions.get()
    assert (check.passed, check.expected, check.actual) == (False, "0", "1")
    assert (record.run.status, record.run.exit_code) == (Status.FAILED, ExitCode.MIGRATION_FAILED)


def test_a_failing_check_in_a_non_atomic_migration_names_what_stays_and_the_way_back(shop):
    insert("4.50", "2000.00")
    run_safemigrate("scenarioapp", "0003")

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")

    message = str(raised.value)
    assert (
        "Postcondition failed: The copy has as many rows as the original: got 1 rows copied of 2."
        in message
    )
    assert "It was not atomic:" in message
    assert "stay applied" in message
    fake = "python manage.py safemigrate scenarioapp 0004_copy_products --fake"
    back = "python manage.py safemigrate scenarioapp 0003_fill_price_cents"
    assert f"\n    {fake}\n    {back}" in message
    assert "scenarioapp_productcopy" in tables(), "the copy committed before the check"
    check = MigrationRun.objects.get(name="0004_copy_products").postconditions.get()
    assert (check.passed, check.actual) == (False, "1 rows copied of 2")

    # The commands the message gives take the database back to where the run found it.
    run_safemigrate("scenarioapp", "0004_copy_products", fake=True)
    run_safemigrate("scenarioapp", "0003_fill_price_cents")
    assert "scenarioapp_productcopy" not in tables()
    assert applied() == {"0001_initial", "0002_product_note", "0003_fill_price_cents"}


def test_the_rollback_command_covers_every_migration_the_run_applied(scenario):
    scenario("postconditions")
    run_safemigrate("scenarioapp", "0003")
    with connection.cursor() as cursor:
        # A row 0004 will not copy, inserted after 0003 filled the others.
        cursor.execute(
            "INSERT INTO scenarioapp_product (name, price, price_cents) VALUES ('x', 2000, 200000)"
        )
    run_safemigrate("scenarioapp", "0001")

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp")

    message = str(raised.value)
    assert (
        "To roll back what this run applied:"
        "\n    python manage.py safemigrate scenarioapp 0004_copy_products --fake"
        "\n    python manage.py safemigrate scenarioapp 0001_initial\n(--fake marks" in message
    )


def test_after_migrations_the_run_applied_the_way_back_is_rolling_the_run_back(scenario):
    scenario("postconditions")
    run_safemigrate("scenarioapp", "0001")
    insert("-1.00")

    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", "0003")

    failed = Run.objects.latest("started_at")
    assert (
        "It was atomic: nothing of it was kept.\nTo roll back what this run applied:\n"
        f"    python manage.py safemigrate --rollback {failed.pk}"
    ) in str(raised.value)
    assert applied() == {"0001_initial", "0002_product_note"}

    run_safemigrate(rollback=str(failed.pk))

    assert applied() == {"0001_initial"}


def test_plain_migrate_fails_on_a_failing_check_too(shop):
    insert("-1.00")

    with pytest.raises(PostconditionFailed, match="no product without price_cents"):
        plain_migrate("scenarioapp")

    assert applied() == {"0001_initial", "0002_product_note"}


def test_unapplying_checks_nothing(shop):
    insert("4.50")
    run_safemigrate("scenarioapp")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_product (name, price) VALUES ('late', '-1')")

    run_safemigrate("scenarioapp", "0002")

    assert applied() == {"0001_initial", "0002_product_note"}
    backwards = MigrationRun.objects.filter(direction="backwards")
    assert not backwards.filter(postconditions__isnull=False).exists()


def test_run_postconditions_checks_the_database_as_it_is(shop):
    insert("4.50", "0.99")
    run_safemigrate("scenarioapp", "0003")

    results = run_postconditions(connection, "scenarioapp", "0003_fill_price_cents")
    assert [(r.description, r.passed) for r in results] == [
        ("no product without price_cents", True),
        ("Every price_cents equals the price in cents", True),
    ]

    with connection.cursor() as cursor:
        cursor.execute("UPDATE scenarioapp_product SET price_cents = 1 WHERE price = 0.99")
    results = run_postconditions(connection, "scenarioapp", "0003_fill_price_cents")
    assert [r.passed for r in results] == [True, False]
    assert results[1].explain() == "got False"


def test_run_postconditions_names_an_unknown_migration(shop):
    with pytest.raises(ConfigurationError, match=r"no migration scenarioapp\.0099_nope"):
        run_postconditions(connection, "scenarioapp", "0099_nope")
