"""The rollback's statements, read in order for values it needs back after a drop took them."""

from __future__ import annotations

import pytest
from django.db import connection

from safemigrate.analysis.report import MigrationReport, OperationReport, StatementReport
from safemigrate.recovery.values import lost_values
from tests.conftest import Blocker, run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

DROP_BACK = 'ALTER TABLE "scenarioapp_item" ADD COLUMN "note" text NULL'
NOT_NULL = 'ALTER TABLE "scenarioapp_item" ALTER COLUMN "note" SET NOT NULL'
FILL = "UPDATE scenarioapp_item SET note = name"


def migration(name: str, *sql: str) -> MigrationReport:
    report = MigrationReport("scenarioapp", name, "", atomic=True, backwards=True)
    statements = [StatementReport(s, {}, [], []) for s in sql]
    report.operations.append(OperationReport(0, "op", None, statements))
    return report


@pytest.fixture
def item(scenario):
    scenario("basic")
    run_safemigrate("scenarioapp", "0001")


def insert_a_row() -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_item (name) VALUES ('Tea')")


def test_not_null_on_a_column_put_back_empty_is_named(item):
    insert_a_row()
    problems = lost_values(
        connection, [migration("0003_b", DROP_BACK), migration("0002_a", NOT_NULL)]
    )
    assert problems == [
        "Unapplying scenarioapp.0002_a needs a value in every row of scenarioapp_item.note, "
        "which unapplying scenarioapp.0003_b puts back empty (its data went when the column "
        "was dropped): it would fail on the rows scenarioapp_item holds."
    ]


def test_a_step_that_writes_the_table_in_between_may_fill_it(item):
    insert_a_row()
    reports = [
        migration("0004_c", DROP_BACK),
        migration("0003_b", FILL),
        migration("0002_a", NOT_NULL),
    ]
    assert lost_values(connection, reports) == []


def test_an_empty_table_has_nothing_to_fail_on(item):
    assert (
        lost_values(connection, [migration("0003_b", DROP_BACK), migration("0002_a", NOT_NULL)])
        == []
    )


def test_a_table_locked_by_someone_else_is_taken_to_have_rows(item, blocker: Blocker):
    blocker.hold("LOCK TABLE scenarioapp_item IN ACCESS EXCLUSIVE MODE")
    reports = [migration("0003_b", DROP_BACK), migration("0002_a", NOT_NULL)]
    assert len(lost_values(connection, reports)) == 1
