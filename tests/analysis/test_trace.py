"""The static catalogue agrees with what PostgreSQL really does, statement by statement.

Each corpus case runs on real tables seeded with rows: ``pg_locks`` shows the locks each
statement took and ``relfilenode`` whether it rewrote a table. Where the two disagree, the
trace is right and this test fails until the catalogue (``statements.py``, ``sqlfacts.py``)
is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.state import ProjectState

from safemigrate.analysis.collect import collect
from safemigrate.analysis.trace import seed, trace_statement
from safemigrate.postgres.locks import LockMode
from tests.analysis.corpus.base import COUPON, CUSTOMER, ORDER, base_migration
from tests.analysis.corpus.cases import CASES, Case
from tests.analysis.corpus.run import analyse_case

pytestmark = pytest.mark.django_db

#: Cases whose SQL is meant to fail on a table with rows, or needs what the corpus lacks.
EXPECTED_ERRORS = {
    "not_null_no_default_sql": 'column "ref" of relation "scenarioapp_order" contains null values',
    "unparseable_sql": "syntax error",
    "unique_using_index_sql": "does not exist",
    "primary_key_using_index_sql": "does not exist",
    "text_to_int_sql": "invalid input syntax",
}


@pytest.fixture
def scratch() -> Iterator[Any]:
    """A second, autocommit session on the test database, with the base schema and rows."""
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    state = ProjectState()
    with raw.cursor() as cursor:
        for operation in collect(connection, base_migration(), state)[0]:
            for sql in operation.sql:
                cursor.execute(sql)
    # Only the corpus's tables: rows committed into safemigrate's own would outlive the test.
    seed(raw, tables={ORDER, CUSTOMER, COUPON})
    yield raw
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
            "WHERE tablename LIKE 'scenarioapp%%'"
        )
        (tables,) = cursor.fetchone()
        if tables:
            cursor.execute(f"DROP TABLE {tables} CASCADE")
    raw.close()


def _param(case: Case) -> object:
    concurrent = any(type(op).__name__.endswith("Concurrently") for op in case.operations)
    marks = [pytest.mark.django_db(transaction=True)] if concurrent else []
    return pytest.param(case, marks=marks, id=case.name)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_static_locks_and_rewrites_match_the_trace(case: Case, scratch: Any) -> None:
    report = analyse_case(connection, case)
    created: set[str] = set()
    differences = []
    errors = []
    for operation in report.operations:
        for statement in operation.statements:
            traced = trace_statement(scratch, statement.sql)
            if traced.error:
                errors.append(traced.error)
                continue
            created |= traced.created
            if not traced.observed:
                continue
            static = {t: m for t, m in statement.locks.items() if t not in created}
            real = {t: m for t, m in traced.locks.items() if t not in created}
            if static != real:
                differences.append((statement.sql, _names(static), _names(real)))
            if set(statement.rewrites) - created != traced.rewritten - created:
                differences.append((statement.sql, statement.rewrites, traced.rewritten))
    assert differences == []
    if case.name in EXPECTED_ERRORS:
        assert errors
        assert EXPECTED_ERRORS[case.name] in errors[0]
    else:
        assert errors == []


def _names(locks: dict[str, LockMode]) -> dict[str, str]:
    return {table: mode.pg_name for table, mode in sorted(locks.items())}
