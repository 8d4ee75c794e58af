"""Partitioned tables: an index built partition by partition, and a concurrent detach."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection

from safemigrate.operations import base
from tests import catalog
from tests.conftest import Blocker, run_safemigrate
from tests.operations.test_locks import Writer
from tests.operations.test_operations import Crash, crash_at

pytestmark = pytest.mark.django_db(transaction=True)

PARENT = "scenarioapp_reading"
PARTITIONS = ("scenarioapp_reading_2024", "scenarioapp_reading_2025")


@pytest.fixture
def readings(scenario: Any) -> None:
    scenario("partitioned")
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PARENT} (taken_on, value) "
            "SELECT date '2024-01-01' + (g % 700), g FROM generate_series(1, 5000) g"
        )


def value_indexes() -> dict[str, tuple[str, bool]]:
    found = {}
    for table in (PARENT, *PARTITIONS):
        for name, (definition, valid) in catalog.indexes(table).items():
            if "(value)" in definition:
                found[name] = (table, valid)
    return found


def test_index_forwards_backwards_forwards(readings: None) -> None:
    run_safemigrate("scenarioapp", "0002")
    found = value_indexes()
    assert found["reading_value_idx"] == (PARENT, True)
    assert found["scenarioapp_reading_2024_reading_value_idx"] == (PARTITIONS[0], True)
    assert found["scenarioapp_reading_2025_reading_value_idx"] == (PARTITIONS[1], True)

    run_safemigrate("scenarioapp", "0001")
    assert value_indexes() == {}

    run_safemigrate("scenarioapp", "0002")
    assert len(value_indexes()) == 3


def test_index_resumes_after_a_crash_between_partitions(
    readings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_at(monkeypatch, "attach scenarioapp_reading_2024_reading_value_idx")
    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", "0002")
    # The parent's index stays INVALID until every partition's index is attached.
    assert value_indexes()["reading_value_idx"] == (PARENT, False)

    monkeypatch.setattr(base, "_after_step", lambda operation, step: None)
    run_safemigrate("scenarioapp", "0002")
    assert {valid for _, valid in value_indexes().values()} == {True}


def partition_of() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [PARENT],
        )
        return {row[0] for row in cursor.fetchall()}


def test_detach_concurrently_and_back(readings: None) -> None:
    run_safemigrate("scenarioapp", "0003")
    assert partition_of() == {PARTITIONS[1]}

    run_safemigrate("scenarioapp", "0002")
    assert partition_of() == set(PARTITIONS)

    run_safemigrate("scenarioapp", "0003")
    assert partition_of() == {PARTITIONS[1]}


def test_detach_finishes_a_pending_detach(readings: None, blocker: Blocker) -> None:
    run_safemigrate("scenarioapp", "0002")
    blocker.hold(f"SELECT count(*) FROM {PARENT}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', '300ms', false)")
        # The detach's second phase waits for the blocker's transaction; cancelled there,
        # it leaves the partition "detach pending", which a plain DETACH refuses.
        with pytest.raises(OperationalError, match="statement timeout"):
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {PARTITIONS[0]} CONCURRENTLY")
        cursor.execute("SELECT set_config('statement_timeout', '0', false)")
        cursor.execute(
            "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = %s::regclass",
            [PARTITIONS[0]],
        )
        assert cursor.fetchone()[0] is True
    blocker.release()

    run_safemigrate("scenarioapp", "0003")
    assert partition_of() == {PARTITIONS[1]}


def test_writes_go_on_while_indexing_and_detaching(readings: None) -> None:
    """Inserts and updates of the partitioned table never wait for a lock beyond the timeout."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PARENT} (taken_on, value) "
            "SELECT date '2025-01-01' + (g % 300), g FROM generate_series(1, 200000) g"
        )

    def writes(n: int) -> list[tuple[str, list[Any]]]:
        return [
            (f"INSERT INTO {PARENT} (taken_on, value) VALUES ('2025-06-01', %s)", [n]),
            (f"UPDATE {PARENT} SET value = value + 1 WHERE id = %s", [1 + n % 5000]),
        ]

    writer = Writer(writes)
    writer.start()
    try:
        run_safemigrate("scenarioapp", "0002", lock_timeout="200ms", lock_timeout_max="200ms")
        run_safemigrate("scenarioapp", "0003", lock_timeout="200ms", lock_timeout_max="200ms")
    finally:
        writer.stop.set()
        writer.join()

    assert writer.errors == [], writer.slowest
    assert len(writer.durations_ms) > 100
    assert partition_of() == {PARTITIONS[1]}
