"""``safemigrate --doctor``: what interrupted operations left, finished or undone."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.test_operations import ITEM, Crash, crash_at, item, populate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def items(scenario: Any) -> None:
    scenario("safeops")
    run_safemigrate("scenarioapp", "0001")
    populate(500)


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def leave_invalid_index() -> None:
    execute(f"UPDATE {ITEM} SET qty = 1 WHERE id <= 2")
    with pytest.raises(Exception, match="could not create unique index"):
        execute(f"CREATE UNIQUE INDEX CONCURRENTLY item_qty_uniq ON {ITEM} (qty)")
    execute(f"UPDATE {ITEM} SET qty = id")


def applied(name: str) -> bool:
    return ("scenarioapp", name) in MigrationRecorder(connection).applied_migrations()


def test_nothing_to_do(items: None) -> None:
    assert "Nothing to do" in run_safemigrate(doctor=True).out


def test_lists_without_acting_and_exits_non_zero(items: None) -> None:
    leave_invalid_index()

    with pytest.raises(CommandError, match="1 finding"):
        run_safemigrate(doctor=True)

    assert item()["indexes"]["item_qty_uniq"][1] is False


def test_finishes_an_invalid_index_and_a_not_valid_constraint(items: None) -> None:
    leave_invalid_index()
    execute(f"ALTER TABLE {ITEM} ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID")

    output = run_safemigrate(doctor=True, yes=True)

    assert "INVALID index item_qty_uniq" in output.out
    assert "NOT VALID constraint qty_positive" in output.out
    assert item()["indexes"]["item_qty_uniq"][1] is True
    assert item()["constraints"]["qty_positive"][1] is True
    assert "Nothing to do" in run_safemigrate(doctor=True).out


def test_undoes_an_invalid_index(items: None) -> None:
    leave_invalid_index()

    run_safemigrate(doctor=True, yes=True, undo=True)

    assert "item_qty_uniq" not in item()["indexes"]


def test_finishes_a_set_not_null_that_stopped_midway(
    items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_safemigrate("scenarioapp", "0004")
    crash_at(monkeypatch, "add check not valid")
    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", "0005")
    monkeypatch.undo()

    output = run_safemigrate(doctor=True, yes=True)

    assert "Helper check sm_nn_scenarioapp_item_qty" in output.out
    assert "Non-atomic migration scenarioapp.0005_not_null stopped midway" in output.out
    assert applied("0005_not_null")
    assert catalog.columns(ITEM)["qty"][1] is False
    assert not [c for c in catalog.constraints(ITEM) if c.startswith("sm_nn_")]


def test_undoes_a_migration_that_stopped_midway(
    items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_safemigrate("scenarioapp", "0005")
    crash_at(monkeypatch, "build index scenarioapp_item_author_id_2f3554b3")
    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", "0006")
    monkeypatch.undo()
    assert "author_id" in catalog.columns(ITEM)

    output = run_safemigrate(doctor=True, yes=True, undo=True)

    assert "scenarioapp.0006_fk stopped midway" in output.out
    assert "author_id" not in catalog.columns(ITEM)
    assert not applied("0006_fk")
    assert applied("0005_not_null")
    assert "Nothing to do" in run_safemigrate(doctor=True).out


def test_does_not_rerun_a_migration_of_plain_operations(scenario: Any) -> None:
    scenario("failing")
    run_safemigrate("scenarioapp", "0001")
    with pytest.raises(CommandError):
        run_safemigrate("scenarioapp")

    with pytest.raises(CommandError, match="1 finding"):
        run_safemigrate(doctor=True, yes=True)

    output = run_safemigrate(doctor=True, yes=True, undo=True)
    assert "not offered: AddField, RunSQL cannot resume where it stopped" in output.out
    assert "note" not in catalog.columns("scenarioapp_item")
