"""The catalog probes, each on the real server: PostgreSQL 18 in one CI stack, 15 in the other.

PostgreSQL 18 records every NOT NULL as a ``pg_constraint`` row and can add one NOT VALID;
the tests below that create such rows run only there, and the others check that the rows
PostgreSQL 18 adds for ordinary NOT NULL columns never read as leftovers.
"""

from __future__ import annotations

import pytest
from django.db import connection

from safemigrate.postgres import catalog
from tests.postgres.conftest import (
    Background,
    execute,
    server_version,
    session,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOT_NULL_CONSTRAINTS = 180000  # PostgreSQL 18: NOT NULL in pg_constraint, NOT VALID allowed


def needs_not_null_constraints() -> None:
    if server_version() < NOT_NULL_CONSTRAINTS:
        pytest.skip("NOT NULL ... NOT VALID needs PostgreSQL 18")


def leave_invalid_index(table: str, name: str) -> None:
    """Fail a CREATE UNIQUE INDEX CONCURRENTLY on duplicates: it leaves an INVALID index."""
    execute(f"UPDATE {table} SET qty = 1 WHERE id <= 2")
    with pytest.raises(Exception, match="could not create unique index"):
        execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} (qty)")


def test_index_validity(probe_table: str) -> None:
    execute(f"CREATE INDEX probe_name_idx ON {probe_table} (name)")
    leave_invalid_index(probe_table, "probe_qty_uniq")

    with connection.cursor() as cursor:
        assert catalog.index_validity(cursor, probe_table, "probe_name_idx") is True
        assert catalog.index_validity(cursor, probe_table, "probe_qty_uniq") is False
        assert catalog.index_validity(cursor, probe_table, "probe_missing_idx") is None


def test_constraint_validity(probe_table: str) -> None:
    execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT probe_qty_pos CHECK (qty > 0) NOT VALID")

    with connection.cursor() as cursor:
        assert catalog.constraint_validity(cursor, probe_table, "probe_qty_pos") is False
        execute(f"ALTER TABLE {probe_table} VALIDATE CONSTRAINT probe_qty_pos")
        assert catalog.constraint_validity(cursor, probe_table, "probe_qty_pos") is True
        assert catalog.constraint_validity(cursor, probe_table, "probe_missing") is None
        assert catalog.constraint_validity(cursor, "probe_no_table", "probe_qty_pos") is None


def test_column_info(probe_table: str) -> None:
    execute(f"ALTER TABLE {probe_table} ADD COLUMN gone text")
    execute(f"ALTER TABLE {probe_table} DROP COLUMN gone")

    with connection.cursor() as cursor:
        assert catalog.column_info(cursor, probe_table, "name") == (True, False)
        assert catalog.column_info(cursor, probe_table, "qty") == (False, True)
        assert catalog.column_info(cursor, probe_table, "id") == (False, False)
        assert catalog.column_info(cursor, probe_table, "gone") is None
        assert catalog.column_info(cursor, probe_table, "missing") is None


def test_unvalidated_not_null_is_none_for_ordinary_columns(probe_table: str) -> None:
    with connection.cursor() as cursor:
        for column in ("id", "name", "qty"):
            assert catalog.unvalidated_not_null(cursor, probe_table, column) is None


def test_unvalidated_not_null_names_a_not_valid_not_null(probe_table: str) -> None:
    needs_not_null_constraints()
    execute(f"UPDATE {probe_table} SET name = NULL WHERE id = 1")
    execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT probe_name_nn NOT NULL name NOT VALID")

    with connection.cursor() as cursor:
        # New rows may no longer be NULL, yet an old one is: the column is not yet NOT NULL.
        assert catalog.column_info(cursor, probe_table, "name") == (False, False)
        assert catalog.unvalidated_not_null(cursor, probe_table, "name") == "probe_name_nn"
        assert catalog.unvalidated_not_null(cursor, probe_table, "qty") is None
        execute(f"UPDATE {probe_table} SET name = 'item 1' WHERE id = 1")
        execute(f"ALTER TABLE {probe_table} VALIDATE CONSTRAINT probe_name_nn")
        assert catalog.unvalidated_not_null(cursor, probe_table, "name") is None


def test_any_volatile() -> None:
    with connection.cursor() as cursor:
        assert catalog.any_volatile(cursor, ["random"]) is True
        assert catalog.any_volatile(cursor, ["now", "RANDOM"]) is True
        assert catalog.any_volatile(cursor, ["now"]) is False
        assert catalog.any_volatile(cursor, ["no_such_function"]) is False
        assert catalog.any_volatile(cursor, []) is False


@pytest.fixture
def partitioned(transactional_db: None) -> object:
    execute("CREATE TABLE probe_reading (id bigint, at date NOT NULL) PARTITION BY RANGE (at)")
    for year in (2024, 2025):
        execute(
            f"CREATE TABLE probe_reading_{year} PARTITION OF probe_reading "
            f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        )
    yield
    execute("DROP TABLE IF EXISTS probe_reading, probe_reading_2024, probe_reading_2025")


def test_partitions_and_their_indexes(partitioned: object) -> None:
    execute("CREATE INDEX probe_reading_at ON ONLY probe_reading (at)")
    execute("CREATE INDEX probe_reading_2024_at ON probe_reading_2024 (at)")

    with connection.cursor() as cursor:
        assert catalog.partitions_of(cursor, "probe_reading") == [
            "probe_reading_2024",
            "probe_reading_2025",
        ]
        assert catalog.partitions_of(cursor, "probe_reading_2024") == []
        assert catalog.index_attached(cursor, "probe_reading_at", "probe_reading_2024_at") is False
        execute("ALTER INDEX probe_reading_at ATTACH PARTITION probe_reading_2024_at")
        assert catalog.index_attached(cursor, "probe_reading_at", "probe_reading_2024_at") is True


def test_partition_state(partitioned: object) -> None:
    with connection.cursor() as cursor:
        assert catalog.partition_state(cursor, "probe_reading", "probe_reading_2024") == "attached"
        with session(autocommit=False) as reader:
            reader.execute("SELECT count(*) FROM probe_reading")
            # The detach's second phase waits for the reader; cancelled there, it leaves
            # the partition "detach pending".
            cursor.execute("SET statement_timeout = '300ms'")
            with pytest.raises(Exception, match="statement timeout"):
                cursor.execute(
                    "ALTER TABLE probe_reading DETACH PARTITION probe_reading_2024 CONCURRENTLY"
                )
            cursor.execute("SET statement_timeout = 0")
        state = catalog.partition_state(cursor, "probe_reading", "probe_reading_2024")
        assert state == "detach pending"
        cursor.execute("ALTER TABLE probe_reading DETACH PARTITION probe_reading_2024 FINALIZE")
        assert catalog.partition_state(cursor, "probe_reading", "probe_reading_2024") is None


def test_index_progress_reads_a_build_in_progress(probe_table: str) -> None:
    waiting = "waiting for writers before build"

    def phase(cursor: object, pid: int) -> str | None:
        reading = catalog.index_progress(cursor, pid)
        return None if reading is None else reading.phase

    with session(autocommit=False) as writer:
        # CREATE INDEX CONCURRENTLY first waits for every transaction that writes the table.
        writer.execute(f"UPDATE {probe_table} SET qty = qty WHERE id = 1")
        build = f"CREATE INDEX CONCURRENTLY probe_qty_idx ON {probe_table} (qty)"
        with Background(build) as builder:
            try:
                with connection.cursor() as cursor:
                    wait_until(lambda: phase(cursor, builder.pid) == waiting)
                    reading = catalog.index_progress(cursor, builder.pid)
                    assert reading is not None
                    assert reading.describe() == waiting
                    assert catalog.index_progress(cursor, writer.info.backend_pid) is None
            finally:
                writer.commit()
    assert builder.error is None
    with connection.cursor() as cursor:
        assert catalog.index_validity(cursor, probe_table, "probe_qty_idx") is True


def test_invalid_indexes_lists_only_invalid_ones(probe_table: str, partitioned: object) -> None:
    execute(f"CREATE INDEX probe_name_idx ON {probe_table} (name)")
    leave_invalid_index(probe_table, "probe_qty_uniq")
    # A partitioned parent's index stays invalid until every partition's index is attached.
    execute("CREATE INDEX probe_reading_at ON ONLY probe_reading (at)")

    with connection.cursor() as cursor:
        found = catalog.invalid_indexes(cursor)

    assert [(f.kind, f.table, f.name) for f in found] == [
        ("invalid index", probe_table, "probe_qty_uniq")
    ]
    assert found[0].definition.startswith("CREATE UNIQUE INDEX probe_qty_uniq ON public.probe_item")


def test_unvalidated_constraints_lists_not_valid_checks_and_foreign_keys(probe_table: str) -> None:
    execute("CREATE TABLE probe_owner (id bigint PRIMARY KEY)")
    try:
        execute(f"ALTER TABLE {probe_table} ADD COLUMN owner_id bigint")
        execute(
            f"ALTER TABLE {probe_table} ADD CONSTRAINT probe_owner_fk FOREIGN KEY (owner_id) "
            "REFERENCES probe_owner (id) NOT VALID"
        )
        execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT probe_qty_pos CHECK (qty > 0) NOT VALID")
        execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT probe_id_pos CHECK (id > 0)")

        with connection.cursor() as cursor:
            found = catalog.unvalidated_constraints(cursor)
    finally:
        execute(f"ALTER TABLE {probe_table} DROP COLUMN IF EXISTS owner_id")
        execute("DROP TABLE probe_owner")

    assert [(f.table, f.name, f.definition) for f in found] == [
        (
            probe_table,
            "probe_owner_fk",
            "FOREIGN KEY (owner_id) REFERENCES probe_owner(id) NOT VALID",
        ),
        (probe_table, "probe_qty_pos", "CHECK ((qty > 0)) NOT VALID"),
    ]


def test_unvalidated_constraints_lists_a_not_valid_not_null(probe_table: str) -> None:
    needs_not_null_constraints()
    execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT probe_name_nn NOT NULL name NOT VALID")

    with connection.cursor() as cursor:
        found = catalog.unvalidated_constraints(cursor)

    assert [(f.table, f.name, f.definition) for f in found] == [
        (probe_table, "probe_name_nn", "NOT NULL name NOT VALID")
    ]


def test_not_null_checks_lists_only_safemigrate_helpers(probe_table: str) -> None:
    helper = f"{catalog.NOT_NULL_CHECK_PREFIX}{probe_table}_name"
    execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT {helper} CHECK (name IS NOT NULL) NOT VALID")
    # "_" is a LIKE wildcard: a name that only looks like the prefix is no helper.
    execute(f"ALTER TABLE {probe_table} ADD CONSTRAINT smXnnXqty CHECK (qty IS NOT NULL)")

    with connection.cursor() as cursor:
        found = catalog.not_null_checks(cursor)

    assert [(f.kind, f.table, f.name, f.definition) for f in found] == [
        ("not-null check", probe_table, helper, "CHECK ((name IS NOT NULL)) NOT VALID")
    ]


def test_not_null_columns_are_never_leftovers(probe_table: str) -> None:
    # On PostgreSQL 18 each NOT NULL column (id, qty) has a validated pg_constraint row.
    with connection.cursor() as cursor:
        assert catalog.unvalidated_constraints(cursor) == []
        assert catalog.not_null_checks(cursor) == []
        assert catalog.invalid_indexes(cursor) == []
