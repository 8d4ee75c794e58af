"""Rebuilding a table through a shadow table: the plain ``AlterField``s' schema, every write
kept (deletes too), and a rollback that swaps the archive back, or rebuilds once it is gone."""

from __future__ import annotations

from typing import Any

import pytest

from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.expand_helpers import query
from tests.operations.test_expand_writers import Writer, during, expected, let_them_write
from tests.operations.test_fix_alter_field import rules

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ["scenarioapp_item", "scenarioapp_line", "scenarioapp_owner"]
ROWS = 4000


def seed() -> None:
    query("INSERT INTO scenarioapp_owner DEFAULT VALUES")
    query(
        "INSERT INTO scenarioapp_item (qty, score, code, owner_id, parent_id) "
        "SELECT g, g %% 100, 'c' || g, 1, NULLIF(g - 1, 0) FROM generate_series(1, %s) g",
        [ROWS],
    )
    query("INSERT INTO scenarioapp_line (item_id) SELECT g FROM generate_series(1, 100) g")


def reset() -> None:
    query("DROP TABLE IF EXISTS scenarioapp_line, scenarioapp_item, scenarioapp_owner CASCADE")
    query("DELETE FROM django_migrations WHERE app = 'scenarioapp'")
    query("DELETE FROM safemigrate_backfillstate WHERE app_label = 'scenarioapp'")


def delete(low: int, high: int) -> None:
    """Delete items ``low`` to ``high``, their children first let go of them."""
    query(
        "UPDATE scenarioapp_item SET parent_id = NULL WHERE parent_id BETWEEN %s AND %s",
        [low, high],
    )
    query("DELETE FROM scenarioapp_item WHERE id BETWEEN %s AND %s", [low, high])


def items() -> list[tuple[Any, ...]]:
    return query("SELECT id, qty, score, code, parent_id FROM scenarioapp_item ORDER BY id")


def side_tables() -> list[tuple[Any, ...]]:
    return query("SELECT relname FROM pg_class WHERE relname LIKE 'scenarioapp_item\\_\\_sm%%'")


def test_final_schema_is_the_plain_alter_fields(scenario: Any) -> None:
    scenario("rebuild_plain")
    run_safemigrate("scenarioapp", "0001")
    seed()
    run_safemigrate("scenarioapp", allow_unsafe=True)
    plain, plain_items = catalog.schema(TABLES), items()
    reset()

    scenario("rebuild")
    run_safemigrate("scenarioapp", "0001")
    seed()
    run_safemigrate("scenarioapp", "0002")
    assert side_tables() == [("scenarioapp_item__sm_old",)]  # kept for a rollback
    run_safemigrate("scenarioapp", "0003")

    assert catalog.schema(TABLES) == plain
    assert items() == plain_items
    assert side_tables() == []
    assert rules("scenarioapp", "0001") == []


def test_writes_during_the_rebuild_all_land_and_deletes_stay_deleted(
    scenario: Any, settings: Any
) -> None:
    settings.SAFEMIGRATE = {"BACKFILL_BATCH_SIZE": 100, "BACKFILL_MAX_BATCH_SIZE": 100}
    scenario("rebuild")
    run_safemigrate("scenarioapp", "0001")
    seed()
    ids = list(range(1000, ROWS + 1))
    started = [Writer(n, ids[n::4][:300], lambda v: v % 1_000_000) for n in range(4)]
    for writer in started:
        writer.sql = (
            "UPDATE scenarioapp_item SET qty = %s WHERE id = %s",
            "INSERT INTO scenarioapp_item (qty, score, code) "
            "VALUES (%s, 0, left(md5(random()::text), 20)) RETURNING id",
        )
        writer.start()
    try:
        delete(500, 600)
        during(started, "scenarioapp", "0002")
        delete(700, 800)  # after the swap
        let_them_write(started)
    finally:
        for writer in started:
            writer.stopping.set()
            writer.join(timeout=30)
    assert [e for writer in started for e in writer.errors] == []

    values = dict(query("SELECT id, qty FROM scenarioapp_item"))
    kept = [n for n in range(1, ROWS + 1) if not (500 <= n <= 600 or 700 <= n <= 800)]
    assert values == {n: n for n in kept} | expected(started)
    # The archive followed every write since the swap: a rollback loses nothing.
    archived = dict(query("SELECT id, qty FROM scenarioapp_item__sm_old"))
    assert archived == values


def test_rollback_swaps_the_archive_back_or_rebuilds_once_it_is_gone(scenario: Any) -> None:
    scenario("rebuild")
    run_safemigrate("scenarioapp", "0001")
    seed()
    original = catalog.schema(TABLES)
    run_safemigrate("scenarioapp", "0002")
    query("UPDATE scenarioapp_item SET qty = 7 WHERE id = 1")  # written to the new table
    rebuilt = catalog.schema(TABLES)

    run_safemigrate("scenarioapp", "0001")  # the archive is swapped back in
    assert catalog.schema(TABLES) == original
    assert query("SELECT qty FROM scenarioapp_item WHERE id = 1") == [(7,)]
    assert side_tables() == []

    run_safemigrate("scenarioapp", "0003")
    run_safemigrate("scenarioapp", "0001")  # no archive: rebuilt back through a shadow
    assert catalog.schema(TABLES) == original
    assert query("SELECT qty FROM scenarioapp_item WHERE id = 1") == [(7,)]
    run_safemigrate("scenarioapp", "0002")
    assert catalog.schema(TABLES) == rebuilt
    assert len(items()) == ROWS
