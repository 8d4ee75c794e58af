"""Shared by the expand/contract tests: the ``expand`` scenario's table, seeded and read back.

``tests/scenarios/expand`` renames ``item.email`` (0002, contract 0003), changes ``qty`` to
bigint in place (0004), moves ``price`` to ``price_cents`` bigint (0005, contract 0006) and
changes the primary key ``id`` to bigint (0007); ``expand_plain`` makes the same changes
with the plain operations makemigrations writes.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from tests import catalog

TABLES = ["scenarioapp_item", "scenarioapp_author"]
STEPS = ["0002", "0003", "0004", "0005", "0006", "0007"]
#: The migrations of ``expand`` and what each is called.
NAMES = {
    "0001": "0001_initial",
    "0002": "0002_rename_email",
    "0003": "0003_rename_email_contract",
    "0004": "0004_qty_bigint",
    "0005": "0005_price_cents",
    "0006": "0006_price_cents_contract",
    "0007": "0007_id_bigint",
}


def query(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def seed(rows: int) -> None:
    """``rows`` items: email ``e<n>@x.test``, qty ``n``, price ``n / 100`` (in cents once
    ``price_cents`` replaced it), whatever the columns are called at this step."""
    columns = set(catalog.columns("scenarioapp_item"))
    email = "email" if "email" in columns else "email_address"
    price = ("price", "g / 100.0") if "price" in columns else ("price_cents", "g")
    query("INSERT INTO scenarioapp_author DEFAULT VALUES")
    query(
        f"INSERT INTO scenarioapp_item ({email}, qty, {price[0]}, author_id) "
        f"SELECT 'e' || g || '@x.test', g, {price[1]}, 1 FROM generate_series(1, %s) g",
        [rows],
    )


def reset() -> None:
    query("DROP TABLE IF EXISTS scenarioapp_item, scenarioapp_author CASCADE")
    query("DELETE FROM django_migrations WHERE app = 'scenarioapp'")
    query("DELETE FROM safemigrate_backfillstate WHERE app_label = 'scenarioapp'")


def schema() -> dict[str, Any]:
    return catalog.schema(TABLES)


def rows() -> list[tuple[Any, ...]]:
    """Every item's values, whatever the columns are called at this step, by id."""
    columns = {name for name in catalog.columns("scenarioapp_item")}
    picked = [
        name
        for name in ("id", "email", "email_address", "qty", "price", "price_cents", "note")
        if name in columns
    ]
    return query(f"SELECT {', '.join(picked)} FROM scenarioapp_item ORDER BY id")


def column_type(column: str) -> str | None:
    """The type of ``scenarioapp_item.column``, or ``None`` when it has no such column."""
    found = catalog.columns("scenarioapp_item").get(column)
    return found[0] if found else None


def applied() -> set[str]:
    """The migrations of ``scenarioapp`` recorded as applied."""
    return {
        name for (name,) in query("SELECT name FROM django_migrations WHERE app = 'scenarioapp'")
    }


def leftovers() -> list[tuple[Any, ...]]:
    """Anything a transition may leave: sync triggers, shadow columns, copies' names."""
    return query(
        """
        SELECT 'trigger', tgname FROM pg_trigger WHERE tgname LIKE 'sm\\_sync\\_%%'
        UNION ALL SELECT 'function', proname FROM pg_proc WHERE proname LIKE 'sm\\_sync\\_%%'
        UNION ALL SELECT 'column', attname FROM pg_attribute
            WHERE attrelid = to_regclass('scenarioapp_item') AND attname LIKE 'sm\\_shadow\\_%%'
            AND NOT attisdropped
        UNION ALL SELECT 'relation', relname FROM pg_class WHERE relname ~ '_sm[0-9a-f]{6}$'
        UNION ALL SELECT 'constraint', conname FROM pg_constraint WHERE conname ~ '_sm[0-9a-f]{6}$'
            OR conname LIKE 'sm\\_nn\\_%%'
        UNION ALL SELECT 'invalid index', indexrelid::regclass::text FROM pg_index
            WHERE NOT indisvalid
        """
    )
