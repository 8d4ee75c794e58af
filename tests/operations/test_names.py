"""safemigrate names what it creates as Django and PostgreSQL would, so schemas compare equal."""

from __future__ import annotations

import pytest
from django.db import connection

from safemigrate.operations.columns import unique_key_name
from safemigrate.operations.constraints import not_null_check_name
from safemigrate.operations.partitions import partition_index_name

TABLES = [("t", "c"), ("shop_customer", "email"), ("a" * 40, "b" * 40), ("x" * 70, "y")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("table", "column"), TABLES)
def test_unique_key_name_is_the_one_postgresql_chooses(table: str, column: str) -> None:
    table, column = table[:63], column[:63]
    qtable, qcolumn = connection.ops.quote_name(table), connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {qtable} (id int)")
        try:
            cursor.execute(f"ALTER TABLE {qtable} ADD COLUMN {qcolumn} int UNIQUE")
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass", [qtable]
            )
            assert cursor.fetchone()[0] == unique_key_name(table, column)
        finally:
            cursor.execute(f"DROP TABLE {qtable}")


def test_helper_names_fit_in_63_bytes() -> None:
    assert not_null_check_name("shop_order", "total") == "sm_nn_shop_order_total"
    long = not_null_check_name("t" * 60, "c" * 60)
    assert len(long) == 63
    assert long.startswith("sm_nn_")
    assert long != not_null_check_name("t" * 60, "c" * 61)
    assert partition_index_name("p_2024", "idx") == "p_2024_idx"
    assert len(partition_index_name("p" * 60, "i" * 30)) == 63
