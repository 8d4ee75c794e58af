"""Migrations import the operations by the path Django's writer put in them: the public one
from now on, and every module path an earlier safemigrate wrote must keep importing."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from safemigrate import operations
from tests import catalog
from tests.conftest import run_safemigrate

OLD_PATHS = Path(__file__).parents[1] / "scenarios" / "oldpaths"
#: Each module path an earlier safemigrate wrote, and the operations written by it.
WRITTEN_BEFORE = {
    "columns": ["AddFieldSafely", "SetNotNull", "SafeAddNotNull"],
    "constraints": [
        "AddConstraintNotValid",
        "AddUniqueConstraintConcurrently",
        "ValidateConstraint",
    ],
    "defaults": ["AlterDbDefault"],
    "fields": ["RemoveFieldFromDatabase", "RemoveFieldFromState", "SafeRemoveField"],
    "indexes": ["AddIndexConcurrently", "RemoveIndexConcurrently"],
    "tables": ["DeleteModelFromDatabase", "DeleteModelFromState", "SafeDeleteModel"],
    "partitions": ["AddIndexToPartitionedTable", "DetachPartitionConcurrently"],
    "backfill": ["Backfill", "RunBackfill"],
}


def test_every_operation_takes_the_public_path() -> None:
    assert {getattr(operations, name).__module__ for name in operations.__all__} == {
        "safemigrate.operations"
    }


@pytest.mark.parametrize(("module", "names"), WRITTEN_BEFORE.items())
def test_every_module_path_written_before_still_imports(module: str, names: list[str]) -> None:
    old = importlib.import_module(f"safemigrate.operations.{module}")
    for name in names:
        assert getattr(old, name) is getattr(operations, name)


def test_the_scenario_holds_every_old_module_path() -> None:
    source = "".join(path.read_text() for path in OLD_PATHS.glob("0*.py"))
    for module in WRITTEN_BEFORE:
        assert f"import safemigrate.operations.{module}\n" in source
    assert "import safemigrate.operations\n" not in source


def rows(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_migrations_written_by_an_earlier_fix_load_and_apply(scenario: Any) -> None:
    scenario("oldpaths")
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scenarioapp_item (name, qty, note) "
            "SELECT 'item ' || g, g, '' FROM generate_series(1, 300) g"
        )
        cursor.execute(
            "INSERT INTO scenarioapp_reading (taken_on, value) "
            "SELECT date '2024-01-01' + g, g FROM generate_series(1, 300) g"
        )

    run_safemigrate("scenarioapp")

    item = catalog.schema(["scenarioapp_item"])["scenarioapp_item"]
    assert "note" not in item["columns"]
    assert item["columns"]["qty"][1] is False
    assert item["columns"]["status"][2] == "'open'::character varying"
    assert item["columns"]["token"][:2] == ("uuid", False)
    assert {"item_name_idx", "item_name_uniq"} <= set(item["indexes"])
    assert "item_qty_idx" not in item["indexes"]
    assert all(valid for _, valid in item["constraints"].values())
    assert rows("SELECT min(qty), max(qty) FROM scenarioapp_item") == [(2, 301)]
    assert rows("SELECT to_regclass('scenarioapp_tag')") == [(None,)]
    assert "reading_value_idx" in catalog.indexes("scenarioapp_reading")
    parent = "'scenarioapp_reading'::regclass"
    assert rows(f"SELECT count(*) FROM pg_inherits WHERE inhparent = {parent}") == [(1,)]
    assert rows("SELECT sum(value) FROM scenarioapp_reading_2024") == [(2 * sum(range(1, 301)),)]
