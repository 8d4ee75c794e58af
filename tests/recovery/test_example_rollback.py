"""The example shop's history rolled back run by run, as far as its data allows."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from safemigrate.postgres.dump import client_environment
from tests.recovery.recovery_helpers import checksums, cursor_on, schema
from tests.test_example_project import example_database, manage, query, run_manage, seed

#: The shop's tables that exist before the second half of its history.
SHOP = ("shop_customer", "shop_order", "shop_product", "shop_auditlog")
#: The tables the second half of the history changes.
CONTRACTED = ("shop_customer", "shop_order")


@pytest.fixture
def shop(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    with example_database(params, "example_recovery") as db:
        yield db


def shop_migrations(db: dict[str, Any]) -> list[str]:
    rows = query(db, "SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY name")
    return [name for (name,) in rows]


def state(db: dict[str, Any]) -> tuple[Any, ...]:
    return shop_migrations(db), schema(*SHOP, dbname=db["dbname"])


def test_the_example_history_rolls_back_until_a_drop_took_data(shop, tmp_path):
    name, backups = shop["dbname"], {"BACKUP_DIR": str(tmp_path)}
    manage(shop, "safemigrate", "safemigrate")  # run 1: the history's tables, auth, contenttypes
    manage(shop, "safemigrate", "shop", "0004")  # run 2: the shop's first tables
    seed(shop)
    first, data = state(shop), checksums(*SHOP, dbname=name)
    manage(shop, "safemigrate", "shop", "0012", "--backup", settings=backups)  # run 3: expand

    undone = manage(shop, "safemigrate", "--rollback")

    assert "Rolling back run 3 " in undone
    assert "Unapplying shop.0012_customer_full_name_contract... OK" in undone
    assert state(shop) == first
    assert checksums(*SHOP, dbname=name) == data, "nothing was dropped: every value is back"

    manage(shop, "safemigrate", "shop", "0012")  # run 5: expand again
    expanded, data = state(shop), checksums(*CONTRACTED, dbname=name)
    manage(shop, "safemigrate", "--backup", settings=backups)  # run 6: contract, drops columns
    contracted = state(shop)
    assert contracted[0][-1] == "0016_remove_order_total"

    refused = run_manage(shop, "safemigrate", "--rollback")

    assert refused.returncode == 4, refused.stderr
    assert state(shop) == contracted, "a refused rollback changes nothing"
    assert (
        "Unapplying shop.0015_order_total_cents_contract needs a value in every row of "
        "shop_order.total, which unapplying shop.0016_remove_order_total puts back empty"
    ) in refused.stderr
    assert "The backup taken before run 6 holds its tables as they were" in refused.stderr
    assert state(shop) != expanded
    # What the refusal offers instead: the backup, restored into a new database, since
    # shop_auditlog references shop_customer.
    [(command, tables)] = query(
        shop, "SELECT restore_command, tables FROM safemigrate_backup WHERE run_id = 6"
    )
    assert {f"public.{table}" for table in CONTRACTED} <= set(json.loads(tables))
    assert command in refused.stderr
    restored = re.findall(r"--dbname=(\S+)", command)[-1]
    assert restored != name
    try:
        result = subprocess.run(
            command, shell=True, env=client_environment(shop), capture_output=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert checksums(*CONTRACTED, dbname=restored) == data
    finally:
        with cursor_on("postgres") as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
