"""The application's heaviest queries, and what PostgreSQL plans and spends on one of them.

``pg_stat_statements`` keeps each normalised query with its total execution time; its
constants are replaced by parameters (``$1``), which only ``EXPLAIN (GENERIC_PLAN)``
(PostgreSQL 16 and later) can plan, and nothing can time. A plan's *shape* is its node types
with the relations and indexes they read: two plans of the same shape do the same work, and
an index scan that became a sequential scan is a changed shape.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

_PARAMETER = re.compile(r"\$\d+")
_READING = re.compile(r"^\s*(select|with|values|table)\b", re.IGNORECASE)


@dataclass
class Measured:
    """One query's plan shape and median execution time on one database, or why not."""

    shape: list[str] = field(default_factory=list)
    median_ms: float | None = None
    error: str = ""


def heaviest(connection: psycopg.Connection[Any], limit: int) -> list[str] | None:
    """Return this database's ``limit`` reading queries of most total time, or ``None``
    when ``pg_stat_statements`` is not installed here, or not loaded by the server."""
    installed = connection.execute(
        "SELECT extnamespace::regnamespace::text FROM pg_extension "
        "WHERE extname = 'pg_stat_statements'"
    ).fetchone()
    if installed is None:
        return None
    try:
        rows = connection.execute(
            f"SELECT query FROM {installed[0]}.pg_stat_statements "  # the schema it lives in
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND toplevel ORDER BY total_exec_time DESC LIMIT 500"
        ).fetchall()
    except psycopg.Error:
        return None  # installed, but not in shared_preload_libraries: it has nothing
    reading = [query for (query,) in rows if _READING.match(query) and not _catalog(query)]
    return reading[:limit]


def _catalog(query: str) -> bool:
    """Whether a query reads PostgreSQL's catalog (safemigrate's and tools' own probes)."""
    return bool(re.search(r"\b(pg_catalog|pg_stat\w*|pg_class|pg_locks|information_schema)\b",
                          query))  # fmt: skip


def parameterised(query: str) -> bool:
    return bool(_PARAMETER.search(query))


def measure(
    connection: psycopg.Connection[Any],
    query: str,
    *,
    repeats: int,
    timeout_ms: int,
    generic: bool,
) -> Measured:
    """Plan the query and time ``repeats`` runs of it after a warm-up, in a read-only
    transaction that is rolled back; a generic plan is only planned, never run."""
    options = "GENERIC_PLAN, FORMAT JSON" if generic else "ANALYZE, TIMING OFF, FORMAT JSON"
    times: list[float] = []
    shape: list[str] = []
    try:
        for run in range(1 if generic else repeats + 1):
            with connection.transaction(force_rollback=True):
                connection.execute("SET TRANSACTION READ ONLY")
                connection.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"]
                )
                row = connection.execute(f"EXPLAIN ({options}) {query}").fetchone()
            assert row is not None
            plan = row[0][0]
            shape = list(_shape(plan["Plan"]))
            if run and not generic:
                times.append(float(plan["Execution Time"]))
    except psycopg.Error as error:
        return Measured(error=str(error).strip().splitlines()[0])
    return Measured(shape, statistics.median(times) if times else None)


def _shape(node: dict[str, Any]) -> Iterator[str]:
    what = node["Node Type"]
    target = node.get("Index Name") or node.get("Relation Name")
    yield f"{what} on {target}" if target else what
    for child in node.get("Plans", ()):
        yield from _shape(child)
