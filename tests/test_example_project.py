"""The example shop's migrations, one per seed migration type, on a database of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def example_database(params: dict[str, Any], suffix: str) -> Iterator[dict[str, Any]]:
    """A database of the example project's own next to the test database, dropped after."""
    name = f"{params['dbname']}_{suffix}"
    admin = psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    admin.execute(drop)
    admin.execute(create)
    try:
        yield {**params, "dbname": name}
    finally:
        admin.execute(drop)
        admin.close()


@pytest.fixture(scope="module")
def example_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    with example_database(params, "example_ops") as db:
        yield db


def run_manage(
    db: dict[str, Any], *args: str, settings: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the example project's ``manage.py ARGS`` on ``db``, with SAFEMIGRATE ``settings``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.example_settings",
        "EXAMPLE_DATABASE": db["dbname"],
        "PYTHONPATH": str(ROOT),
        "SAFEMIGRATE_TEST_SETTINGS": json.dumps(settings or {}),
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def manage(db: dict[str, Any], *args: str, settings: dict[str, Any] | None = None) -> str:
    """``run_manage``, which must succeed; return what it printed."""
    result = run_manage(db, *args, settings=settings)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def query(db: dict[str, Any], statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(**db, autocommit=True) as conn:
        return conn.execute(statement).fetchall()


def seed(db: dict[str, Any]) -> None:
    with psycopg.connect(**db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO shop_customer (email, name) "
            "SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 2500) g"
        )
        conn.execute("INSERT INTO shop_product (name, price) VALUES ('Tea', 4.50)")
        conn.execute(
            "INSERT INTO shop_order (customer_id, total, status) "
            "SELECT 1 + g % 2500, g / 100.0, 'new' FROM generate_series(1, 3000) g"
        )


def test_migrations_forwards_backwards_forwards(example_db: dict[str, Any]) -> None:
    manage(example_db, "safemigrate", "shop", "0004")
    seed(example_db)

    manage(example_db, "safemigrate", "shop", "0012")
    manage(example_db, "safemigrate", "shop", "0004")
    manage(example_db, "safemigrate")

    assert query(example_db, "SELECT count(*) FROM shop_customer WHERE full_name IS NULL") == [(0,)]
    # Every order's total, in cents: the sum of 1..3000.
    assert query(example_db, "SELECT sum(total_cents) FROM shop_order") == [(4501500,)]
    columns = query(
        example_db,
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
        "WHERE table_name IN ('shop_customer', 'shop_order') ORDER BY 1, 2",
    )
    assert ("shop_customer", "full_name", "NO") in columns
    assert ("shop_order", "total_cents", "NO") in columns
    assert not [c for c in columns if c[1] in ("name", "total")]
    invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
    assert query(example_db, invalid) == [(0,)]
    unvalidated = "SELECT count(*) FROM pg_constraint WHERE NOT convalidated"
    assert query(example_db, unvalidated) == [(0,)]
    assert query(example_db, "SELECT to_regclass('order_status_idx') IS NOT NULL") == [(True,)]


def test_makemigrations_check_is_quiet(example_db: dict[str, Any]) -> None:
    assert "No changes detected" in manage(
        example_db, "makemigrations", "--check", "--dry-run", "shop"
    )
