"""The example shop's migrations, one per seed migration type, on a database of their own."""

from __future__ import annotations

import json
import os
import re
import shutil
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


@pytest.fixture
def demo_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    with example_database(params, "example_demo") as db:
        yield db


def run_manage(
    db: dict[str, Any], *args: str, settings: dict[str, Any] | None = None, migrations: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the example project's ``manage.py ARGS`` on ``db``, with SAFEMIGRATE ``settings``;
    ``migrations`` names another package of the shop's migrations (a release before the one
    on disk)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.example_settings",
        "EXAMPLE_DATABASE": db["dbname"],
        "EXAMPLE_MIGRATIONS": migrations,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
        "SAFEMIGRATE_TEST_SETTINGS": json.dumps(settings or {}),
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def manage(
    db: dict[str, Any], *args: str, settings: dict[str, Any] | None = None, migrations: str = ""
) -> str:
    """``run_manage``, which must succeed; return what it printed."""
    result = run_manage(db, *args, settings=settings, migrations=migrations)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def query(db: dict[str, Any], statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(**db, autocommit=True) as conn:
        return conn.execute(statement).fetchall()


def seed(db: dict[str, Any]) -> None:
    with psycopg.connect(**db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO shop_customer (email, name) "
            "SELECT 'C' || g || '@Example.com', 'Customer ' || g FROM generate_series(1, 2500) g"
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
    # 0019 lower-cased every email, in the column 0017 and 0018 renamed.
    assert query(
        example_db,
        "SELECT count(*) FROM shop_customer WHERE email_address = 'c' || id || '@example.com'",
    ) == [(2500,)]
    assert query(example_db, "SELECT name, price_cents FROM shop_product") == [("Tea", 450)]
    assert query(example_db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sm\\_%'") == [(0,)]
    # Every order's total, in cents: the sum of 1..3000.
    assert query(example_db, "SELECT sum(total_cents) FROM shop_order") == [(4501500,)]
    columns = query(
        example_db,
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
        "WHERE table_name IN ('shop_customer', 'shop_order') ORDER BY 1, 2",
    )
    assert ("shop_customer", "full_name", "NO") in columns
    assert ("shop_order", "total_cents", "NO") in columns
    assert not [c for c in columns if c[1] in ("name", "total", "email")]
    invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
    assert query(example_db, invalid) == [(0,)]
    unvalidated = "SELECT count(*) FROM pg_constraint WHERE NOT convalidated"
    assert query(example_db, unvalidated) == [(0,)]
    assert query(example_db, "SELECT to_regclass('order_status_idx') IS NOT NULL") == [(True,)]
    checks = "SELECT description, bool_and(passed) FROM safemigrate_postcondition GROUP BY 1"
    assert sorted(query(example_db, checks)) == [
        ("Every customer has a full_name", True),
        ("The copy (total_cents) has as many values as the original (total)", True),
        ("every price_cents is its price in cents", True),
        ("no product without price_cents", True),
    ]


def test_the_example_projects_own_tests_pass_with_the_test_kit(example_db: dict[str, Any]) -> None:
    """The shop's tests get the migrator from the installed entry point, as any project would."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.example_settings",
        # pytest-django creates (and drops) test_<this>, next to this run's own databases.
        "EXAMPLE_DATABASE": f"{example_db['dbname']}_kit",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT / "example_project",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_makemigrations_check_is_quiet(example_db: dict[str, Any]) -> None:
    assert "No changes detected" in manage(
        example_db, "makemigrations", "--check", "--dry-run", "shop"
    )


def test_demo_records_every_run_and_leaves_one_migration_pending(demo_db: dict[str, Any]) -> None:
    output = manage(demo_db, "demo")

    # The blockers' notes come from another thread than the commands' output: never mid-line.
    notes = [line for line in output.splitlines() if "blocker:" in line]
    assert len(notes) == 6
    assert all(line.startswith("   blocker: ") for line in notes)
    # Each migration is applied once: the pre-flight's wait did not lose 0003.
    assert output.count("Applying shop.0003_auditlog...") == 1
    runs = query(
        demo_db,
        "SELECT targets->>0, targets->>1, status FROM safemigrate_run ORDER BY started_at",
    )
    assert runs == [
        ("safemigrate", None, "succeeded"),
        ("auth", None, "succeeded"),
        ("admin", None, "succeeded"),
        ("sessions", None, "succeeded"),
        ("shop", "0002_order", "succeeded"),
        ("shop", "0003_auditlog", "succeeded"),
        ("shop", "0018", "succeeded"),
    ]
    assert "the run history recorded 7 runs" in output
    outcomes = """
        SELECT a.outcome FROM safemigrate_attempt a
        JOIN safemigrate_migrationrun m ON m.id = a.migration_id
        WHERE m.name = %s ORDER BY a.number
    """
    with psycopg.connect(**demo_db) as conn:
        assert conn.execute(outcomes, ["0003_auditlog"]).fetchall() == [("blocked",), ("ok",)]
        waits = [row[0] for row in conn.execute(outcomes, ["0004_order_status"]).fetchall()]
    assert waits[0] == "lock_timeout"
    assert waits[-1] == "ok"

    # One migration is left pending, and the closing text says where to review it.
    unapplied = [line for line in manage(demo_db, "showmigrations").splitlines() if "[ ]" in line]
    assert unapplied == [" [ ] 0019_customer_email_lowercase"]
    assert "/admin/safemigrate/review/pending/" in output
    assert "shop.0019_customer_email_lowercase, left pending on purpose" in output
    gated = run_manage(demo_db, "safemigrate", "--require-approval")
    assert gated.returncode == 4
    assert "shop.0019_customer_email_lowercase: not reviewed" in gated.stderr


@pytest.fixture
def rename_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    with example_database(params, "example_rename") as db:
        yield db


@pytest.fixture
def release_before_contract(tmp_path: Path) -> str:
    """The shop's migrations of the release that renames ``email``: its contract not there yet."""
    package = tmp_path / "shop_release"
    shutil.copytree(ROOT / "example_project" / "shop" / "migrations", package)
    for later in ("0018_customer_email_address_contract.py", "0019_customer_email_lowercase.py"):
        (package / later).unlink()
    sys.path.insert(0, str(tmp_path))
    yield "shop_release"
    sys.path.remove(str(tmp_path))


def test_pgtrigger_lists_an_open_renames_trigger_and_prune_keeps_it(
    rename_db: dict[str, Any], release_before_contract: str
) -> None:
    example_db = rename_db
    manage(example_db, "safemigrate", "shop", "0004")
    seed(example_db)
    manage(example_db, "safemigrate", "shop", "0016")
    manage(example_db, "safemigrate", "shop", "0017", migrations=release_before_contract)

    listed = manage(example_db, "pgtrigger", "ls", migrations=release_before_contract)
    assert re.search(r"INSTALLED.*ENABLED.*shop\.Customer:sm_sync_email_address_", listed)
    manage(example_db, "pgtrigger", "prune", migrations=release_before_contract)
    manage(example_db, "pgtrigger", "prune")  # the next release's code: the contract is on disk
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sm\\_sync\\_%'"
    assert query(example_db, triggers) == [(1,)]
    # The old code's write reaches the new column, through the trigger prune kept.
    with psycopg.connect(**example_db, autocommit=True) as conn:
        conn.execute("UPDATE shop_customer SET email = 'moved@example.com' WHERE id = 1")
    renamed = "SELECT email_address FROM shop_customer WHERE id = 1"
    assert query(example_db, renamed) == [("moved@example.com",)]
    manage(example_db, "safemigrate", "shop", "0018")
    assert query(example_db, triggers) == [(0,)]
