"""Run one postcondition, a query or a function, and judge what it returns.

Only what the check itself returns is judged here. A query that fails (a syntax error, a
lock timeout) raises as any statement of the migration would: the guard records it, retries
it if it is a lock timeout, and fails the migration otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.apps.registry import Apps
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from safemigrate.verify.results import CheckResult, shown

#: ``check(apps, schema_editor)``, as ``RunPython`` calls its code; true when the condition holds.
Check = Callable[[Apps, BaseDatabaseSchemaEditor], object]


def check_query(
    connection: BaseDatabaseWrapper,
    sql: str,
    params: Sequence[Any] | None,
    expect: Any,
    description: str,
) -> CheckResult:
    """Run ``sql``, which must return one row of one value, and compare it with ``expect``."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchmany(2)
        columns = len(cursor.description or ())
    found = {"description": description, "sql": sql, "expected": shown(expect)}
    elapsed = (time.perf_counter() - started) * 1000
    error = _shape_error(len(rows), columns)
    if error:
        return CheckResult(**found, passed=False, error=error, duration_ms=elapsed)
    value = rows[0][0]
    return CheckResult(
        **found, passed=bool(value == expect), actual=shown(value), duration_ms=elapsed
    )


def _shape_error(rows: int, columns: int) -> str:
    """Say what is wrong with a result that is not one row of one value, or return ``""``."""
    if rows == 1 and columns == 1:
        return ""
    shape = ("no row" if rows == 0 else "more than one row") if rows != 1 else f"{columns} columns"
    return f"the query returned {shape}: a postcondition query returns exactly one value"


def check_callable(
    check: Check, apps: Apps, schema_editor: BaseDatabaseSchemaEditor, description: str
) -> CheckResult:
    """Call ``check``: a true result holds, a false one or an ``AssertionError`` fails."""
    started = time.perf_counter()
    try:
        value = check(apps, schema_editor)
    except AssertionError as failed:
        elapsed = (time.perf_counter() - started) * 1000
        found = str(failed) or "AssertionError"
        return CheckResult(description, passed=False, actual=found, duration_ms=elapsed)
    elapsed = (time.perf_counter() - started) * 1000
    if value is None:
        # A function that forgot its return would pass every time: refuse to guess.
        why = (
            f"{getattr(check, '__name__', 'the check')} returned None: return True when the "
            "condition holds and False when it does not (or raise AssertionError)"
        )
        return CheckResult(description, passed=False, error=why, duration_ms=elapsed)
    return CheckResult(description, passed=bool(value), actual=shown(value), duration_ms=elapsed)
