"""The estimate of how long an operation holds its table, from the table's size."""

from __future__ import annotations

import pytest

from safemigrate.analysis.estimate import describe, estimate_seconds
from safemigrate.analysis.report import StatementReport
from safemigrate.postgres.tables import TableStats

GB = 1024**3


def _statement(sql: str, rewrites: list[str], scans: list[str]) -> StatementReport:
    return StatementReport(sql=sql, locks={}, rewrites=rewrites, scans=scans)


@pytest.mark.parametrize(
    ("statement", "expected_s"),
    [
        (_statement('ALTER TABLE "t" ADD COLUMN "c" text NULL', [], []), 0),
        (_statement('CREATE INDEX "i" ON "t" ("c")', [], ["t"]), 34),
        (_statement('ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint', ["t"], []), 20),
        (_statement('ALTER TABLE "t" ALTER COLUMN "c" SET NOT NULL', [], ["t"]), 5),
    ],
)
def test_estimate_from_the_work_and_the_table_size(statement, expected_s):
    stats = TableStats("t", exists=True, rows=10**7, size_bytes=GB)
    assert int(estimate_seconds([statement], lambda table: stats)) == expected_s


def test_unknown_size_is_an_unknown_estimate():
    statement = _statement('CREATE INDEX "i" ON "t" ("c")', [], ["t"])
    assert estimate_seconds([statement], lambda table: None) is None
    assert estimate_seconds([statement], lambda table: TableStats("t", exists=False)) is None
    assert describe(None) == "unknown size"
    assert describe(0.01) == "instant"
    assert describe(600) == "~10min"
