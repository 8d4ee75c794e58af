"""SetNotNull and the doctor against the server's own NOT NULL bookkeeping, on 15 and on 18.

PostgreSQL 18 records each NOT NULL as a ``pg_constraint`` row and can add one NOT VALID:
``attnotnull`` is then true while old rows may still be NULL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from safemigrate.models import Statement
from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.test_operations import ITEM, populate
from tests.postgres.conftest import execute, server_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def items(scenario: Any) -> None:
    scenario("safeops")
    run_safemigrate("scenarioapp", "0004")
    populate(500)


@pytest.fixture
def server_messages() -> Iterator[list[str]]:
    """Collect the DEBUG1 messages the server sends this connection while a test runs."""
    messages: list[str] = []
    connection.ensure_connection()
    pg = connection.connection

    def handler(diagnostic: Any) -> None:
        messages.append(diagnostic.message_primary or "")

    pg.add_notice_handler(handler)
    execute("SET client_min_messages = debug1")
    yield messages
    execute("RESET client_min_messages")
    pg.remove_notice_handler(handler)


@pytest.fixture
def not_valid_not_null(items: None) -> None:
    """A ``NOT NULL ... NOT VALID`` on ``qty`` (PostgreSQL 18), over a column with no NULL."""
    if server_version() < 180000:
        pytest.skip("NOT NULL ... NOT VALID needs PostgreSQL 18")
    execute(f"ALTER TABLE {ITEM} ADD CONSTRAINT item_qty_nn NOT NULL qty NOT VALID")


def statements_run(migration: str) -> list[str]:
    return list(
        Statement.objects.filter(migration__name=migration)
        .order_by("position")
        .values_list("sql", flat=True)
    )


def test_set_not_null_needs_no_scan_under_the_exclusive_lock(
    items: None, server_messages: list[str]
) -> None:
    run_safemigrate("scenarioapp", "0005")

    # One scan, by VALIDATE under a lock that lets writes through; then the validated helper
    # check proves the column, and SET NOT NULL, under ACCESS EXCLUSIVE, reads no row.
    assert server_messages == [
        f'verifying table "{ITEM}"',
        f'existing constraints on column "{ITEM}.qty" are sufficient to prove that it does not '
        "contain nulls",
    ]
    assert catalog.columns(ITEM)["qty"][1] is False
    assert not [
        name for name in catalog.constraints(ITEM, not_null=True) if name.startswith("sm_nn_")
    ]


def test_set_not_null_validates_a_not_valid_not_null(not_valid_not_null: None) -> None:
    run_safemigrate("scenarioapp", "0005")

    assert catalog.constraints(ITEM, not_null=True)["item_qty_nn"] == ("NOT NULL qty", True)
    assert catalog.columns(ITEM)["qty"][1] is False
    ran = statements_run("0005_not_null")
    assert f'ALTER TABLE "{ITEM}" VALIDATE CONSTRAINT "item_qty_nn"' in ran
    assert not [sql for sql in ran if "SET NOT NULL" in sql]

    run_safemigrate("scenarioapp", "0004")
    assert catalog.columns(ITEM)["qty"][1] is True
    assert "item_qty_nn" not in catalog.constraints(ITEM, not_null=True)


def test_set_not_null_refuses_rows_a_not_valid_not_null_let_through(
    not_valid_not_null: None,
) -> None:
    execute(f"ALTER TABLE {ITEM} DROP CONSTRAINT item_qty_nn")
    execute(f"UPDATE {ITEM} SET qty = NULL WHERE id = 1")
    execute(f"ALTER TABLE {ITEM} ADD CONSTRAINT item_qty_nn NOT NULL qty NOT VALID")

    with pytest.raises(Exception, match="contains null values"):
        run_safemigrate("scenarioapp", "0005")

    assert catalog.constraints(ITEM, not_null=True)["item_qty_nn"] == (
        "NOT NULL qty NOT VALID",
        False,
    )


def test_doctor_finishes_a_not_valid_not_null(not_valid_not_null: None) -> None:
    output = run_safemigrate(doctor=True, yes=True)

    assert "NOT VALID constraint item_qty_nn on scenarioapp_item: NOT NULL qty NOT VALID" in (
        output.out
    )
    assert catalog.constraints(ITEM, not_null=True)["item_qty_nn"] == ("NOT NULL qty", True)
    assert "Nothing to do" in run_safemigrate(doctor=True).out


def test_doctor_undoes_a_not_valid_not_null(not_valid_not_null: None) -> None:
    run_safemigrate(doctor=True, yes=True, undo=True)

    assert "item_qty_nn" not in catalog.constraints(ITEM, not_null=True)
    assert catalog.columns(ITEM)["qty"][1] is True
