"""A relation's name, as Django's ``db_table`` writes it, quoted for SQL exactly once."""

from __future__ import annotations

import pytest
from django.db import connection

from safemigrate.postgres.tables import (
    qualified_name,
    quote_relation,
    relation_exists,
    sibling,
    split_relation,
    table_stats,
    write_rate,
)

NAMES = [
    # (db_table, as SQL, schema, table)
    ("shop_order", '"shop_order"', "", "shop_order"),
    ("LegacyOrder", '"LegacyOrder"', "", "LegacyOrder"),
    ("Odd Table;drop", '"Odd Table;drop"', "", "Odd Table;drop"),
    ("select", '"select"', "", "select"),
    ("legacy.dotted", '"legacy.dotted"', "", "legacy.dotted"),
    ('say "hi"', '"say ""hi"""', "", 'say "hi"'),
    ('"legacy"."Remote Order"', '"legacy"."Remote Order"', "legacy", "Remote Order"),
]


@pytest.mark.parametrize(("name", "sql", "schema", "table"), NAMES)
def test_names_quote_and_split_back(name: str, sql: str, schema: str, table: str) -> None:
    assert quote_relation(name) == sql
    assert split_relation(name) == (schema, table)
    assert qualified_name(table, schema) == name


def test_an_index_lives_beside_its_table() -> None:
    assert sibling("LegacyOrder", "idx") == "idx"
    assert sibling('"legacy"."Remote Order"', "Remote Idx") == '"legacy"."Remote Idx"'


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("name", "sql", "schema", "table"), NAMES)
def test_table_probes_find_every_name(name: str, sql: str, schema: str, table: str) -> None:
    with connection.cursor() as cursor:
        if schema:
            cursor.execute(f"CREATE SCHEMA {quote_relation(schema)}")
        cursor.execute(f"CREATE TABLE {sql} (id int)")
        cursor.execute(f"INSERT INTO {sql} SELECT generate_series(1, 7)")
        try:
            assert relation_exists(cursor, name)
            assert table_stats(cursor, name).rows == 7
            assert write_rate(cursor, name) is not None
        finally:
            cursor.execute(f"DROP TABLE {sql}")
            if schema:
                cursor.execute(f"DROP SCHEMA {quote_relation(schema)}")
