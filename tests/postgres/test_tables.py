"""The table probes: a relation's name, its size and rows, its write rate, a row estimate."""

from __future__ import annotations

import pytest
from django.db import connection

from safemigrate.postgres import tables
from tests.postgres.conftest import execute, server_version, session, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_locked_table_is_the_table_or_the_index_s_table(probe_table: str) -> None:
    execute(f"CREATE INDEX probe_name_idx ON {probe_table} (name)")

    with connection.cursor() as cursor:
        assert tables.locked_table(cursor, probe_table, via_index=False) == probe_table
        assert tables.locked_table(cursor, "probe_name_idx", via_index=True) == probe_table
        assert tables.locked_table(cursor, "probe_missing", via_index=False) is None
        assert tables.locked_table(cursor, "probe_missing_idx", via_index=True) is None


def test_relation_exists(probe_table: str) -> None:
    with connection.cursor() as cursor:
        assert tables.relation_exists(cursor, probe_table) is True
        assert tables.relation_exists(cursor, f'"public"."{probe_table}"') is True
        # Unquoted, a dot is part of the table's name, as in Django's db_table.
        assert tables.relation_exists(cursor, f"public.{probe_table}") is False
        assert tables.relation_exists(cursor, "probe_missing") is False


def test_tables_columns_reads_many_tables_at_once(probe_table: str) -> None:
    execute('CREATE TABLE "Probe Odd" ("Mixed" int)')
    try:
        with connection.cursor() as cursor:
            found = tables.tables_columns(cursor, [probe_table, "probe_missing", "Probe Odd"])
    finally:
        execute('DROP TABLE "Probe Odd"')

    assert found == {
        probe_table: {"id", "name", "qty"},
        "probe_missing": set(),
        "Probe Odd": {"Mixed"},
    }


def test_table_stats_counts_a_small_table_never_analysed(probe_table: str) -> None:
    with connection.cursor() as cursor:
        counted = tables.table_stats(cursor, probe_table)
        missing = tables.table_stats(cursor, "probe_missing")

    assert counted.exists
    assert counted.rows == 100
    assert counted.counted
    assert counted.known_rows is None, "a mere count is not the server's statistics"
    assert counted.size_bytes is not None
    assert counted.size_bytes > 0
    assert missing == tables.TableStats("probe_missing", exists=False)


def test_table_stats_reads_the_planner_estimate_once_analysed(probe_table: str) -> None:
    execute(f"INSERT INTO {probe_table} SELECT g, 'more', g FROM generate_series(101, 150) g")
    execute(f"ANALYZE {probe_table}")

    with connection.cursor() as cursor:
        stats = tables.table_stats(cursor, probe_table)

    assert stats.rows == 150
    assert stats.known_rows == 150


def test_quote_relation_quotes_each_part_as_written() -> None:
    assert tables.quote_relation("shop_order") == '"shop_order"'
    assert tables.quote_relation("sales.Order") == '"sales.Order"'
    assert tables.quote_relation('"sales"."Order"') == '"sales"."Order"'
    assert tables.quote_relation('odd"name') == '"odd""name"'


def test_write_rate_counts_inserts_updates_and_deletes(probe_table: str) -> None:
    with session() as writer:
        writer.execute(f"UPDATE {probe_table} SET qty = qty + 1")
        writer.execute(f"DELETE FROM {probe_table} WHERE id <= 10")
        if server_version() >= 150000:
            # Since PostgreSQL 15 a session reports its statistics when idle, at most once a
            # second; this makes it report now.
            writer.execute("SELECT pg_stat_force_next_flush()")

    def rate() -> float:
        with connection.cursor() as cursor:
            found = tables.write_rate(cursor, probe_table)
        assert found is not None
        return found

    # The statistics arrive asynchronously: 100 inserts, 100 updates, 10 deletes.
    wait_until(lambda: rate() > 0)
    with connection.cursor() as cursor:
        assert tables.write_rate(cursor, "probe_missing") is None


def test_estimated_rows_asks_the_planner(probe_table: str) -> None:
    execute(f"ANALYZE {probe_table}")

    with connection.cursor() as cursor:
        everything = tables.estimated_rows(cursor, f"SELECT * FROM {probe_table}", [])
        some = tables.estimated_rows(cursor, f"SELECT * FROM {probe_table} WHERE id <= %s", [10])

    assert everything == 100
    assert 1 <= some <= 20
