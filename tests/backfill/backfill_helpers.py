"""Shared helpers of the backfill tests: seed the products table, read it back, run manage.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from safemigrate.models import BackfillState

ROOT = Path(__file__).resolve().parents[2]
TABLE = "scenarioapp_product"
NAME = "scenarioapp.0002_backfill_price_cents"
FAST = {
    "BACKFILL_BATCH_SIZE": 50,
    "BACKFILL_MAX_BATCH_SIZE": 200,
    "BACKFILL_PAUSE": 0,
    "RETRY_BACKOFF": "20ms",
    "RETRY_BACKOFF_MAX": "100ms",
}


def seed(rows: int, preset_every: int = 0) -> None:
    """Insert ``rows`` products priced id + 0.99; every ``preset_every``-th already has cents."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (price, price_cents, touched, hits) "
            "SELECT g + 0.99, CASE WHEN %s > 0 AND g %% %s = 0 THEN -1 END, 0, 0 "
            "FROM generate_series(1, %s) AS g",
            [preset_every, max(preset_every, 1), rows],
        )


def table() -> list[tuple[int, str, int | None, int, int]]:
    """Every row as (id, price as text, price_cents, touched, hits), in key order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, price::text, price_cents, touched, hits FROM {TABLE} ORDER BY id"
        )
        return cursor.fetchall()


def state(direction: str = "forwards") -> BackfillState:
    return BackfillState.objects.get(name=NAME, direction=direction)


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def database_url() -> str:
    params = connection.settings_dict
    host = quote(params["HOST"] or "", safe="")
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"postgres://{params['USER']}@{host}{port}/{params['NAME']}"


def manage(
    *args: str, scenario: str, settings: dict[str, object], tasks: str = "immediate"
) -> subprocess.Popen[str]:
    """Start ``manage.py ARGS`` in another process, on the test database and scenario."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SAFEMIGRATE_TEST_MIGRATIONS": scenario,
        "SAFEMIGRATE_TEST_SETTINGS": json.dumps(settings),
        "SAFEMIGRATE_TEST_TASKS": tasks,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows_done() -> int:
    found = BackfillState.objects.filter(name=NAME, direction="forwards").first()
    return found.rows_done if found else 0
