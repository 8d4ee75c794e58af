"""``--lint --trace``: a throwaway database built from the migration history, then traced.

The scratch database gets the migrations taken as already applied (those applied here, or
in CI the ones not judged), a few rows in every table, and then each judged statement runs
through ``safemigrate.analysis.trace``. What the trace saw is attached to the report; where it
disagrees with the static catalogue, the report takes the trace's word and says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor

from safemigrate.analysis.plan import PlanItem
from safemigrate.analysis.report import AnalysisReport, StatementReport
from safemigrate.analysis.trace import TracedStatement, seed, trace_statement
from safemigrate.exceptions import ConfigurationError
from safemigrate.postgres.locks import LockMode

ALIAS = "safemigrate_trace"


@contextmanager
def scratch_database(connection: BaseDatabaseWrapper) -> Iterator[BaseDatabaseWrapper]:
    """Create an empty database next to ``connection``'s, yield a connection, drop it after."""
    if connection.in_atomic_block:
        raise ConfigurationError("--trace cannot create its database inside a transaction.")
    name = f"{connection.settings_dict['NAME']}_trace_{os.getpid()}"[:63]
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quoted} TEMPLATE template0")
    connections.settings[ALIAS] = {**connection.settings_dict, "NAME": name}
    try:
        yield connections[ALIAS]
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        del connections.settings[ALIAS]
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


def trace_report(
    connection: BaseDatabaseWrapper, report: AnalysisReport, items: list[PlanItem]
) -> None:
    """Build the scratch database, trace every judged statement, and correct the report."""
    history = _history(connection, items)
    with scratch_database(connection) as scratch:
        executor = MigrationExecutor(scratch)
        leaves = executor.loader.graph.leaf_nodes()
        executor.migrate(leaves, plan=[(migration, False) for migration in history])
        scratch.ensure_connection()
        raw = scratch.connection
        seed(raw)
        for migration in report.migrations:
            for operation in migration.operations:
                for statement in operation.statements:
                    _apply(statement, trace_statement(raw, statement.sql))


def _history(connection: BaseDatabaseWrapper, items: list[PlanItem]) -> list[Migration]:
    """Return what the scratch database starts from: applied here, or skipped, in order."""
    executor = MigrationExecutor(connection)
    applied = set(executor.loader.applied_migrations or {})
    applied |= {(i.migration.app_label, i.migration.name) for i in items if i.skip}
    full = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    return [migration for migration, _ in full if (migration.app_label, migration.name) in applied]


def _apply(statement: StatementReport, traced: TracedStatement) -> None:
    """Attach the trace; where it saw something else than the catalogue, the trace wins."""
    statement.trace = traced
    if traced.error or not traced.observed:
        return
    real = {t: m for t, m in traced.locks.items() if t not in traced.created}
    if real != statement.locks or set(statement.rewrites) != traced.rewritten:
        statement.disagreement = (
            f"catalogue said locks {_show(statement.locks)}, rewrites {statement.rewrites}; "
            f"trace saw {_show(real)}, rewrites {sorted(traced.rewritten)}"
        )
        statement.locks = real
        statement.rewrites = sorted(traced.rewritten)


def _show(locks: dict[str, LockMode]) -> str:
    return ", ".join(f"{t}={m.pg_name}" for t, m in sorted(locks.items())) or "none"
