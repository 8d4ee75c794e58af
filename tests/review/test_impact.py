"""The impact rules: durations from table sizes, and how sizes read."""

from __future__ import annotations

import pytest

from safemigrate.postgres.tables import format_bytes
from safemigrate.review.impact import breaking, estimate_ms, format_ms

GB = 1024**3


@pytest.mark.parametrize(
    ("sql", "expected_s"),
    [
        ('ALTER TABLE "t" ADD COLUMN "c" text NULL', 0),
        ('CREATE INDEX "i" ON "t" ("c")', 20),
        ('ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint USING "c"::bigint', 34),
        ('ALTER TABLE "t" ALTER COLUMN "c" SET NOT NULL', 5),
        ('ALTER TABLE "t" ADD CONSTRAINT "k" CHECK ("c" > 0)', 10),
        ('ALTER TABLE "t" ADD CONSTRAINT "k" CHECK ("c" > 0) NOT VALID', 0),
        ('UPDATE "t" SET "c" = 1', 51),
    ],
)
def test_estimate_from_the_kind_of_work_and_the_table_size(sql, expected_s):
    assert estimate_ms([(sql, GB)]) // 1000 == expected_s


def test_formats():
    assert format_ms(None) == "unknown (runs Python code)"
    assert format_ms(10) == "< 1 s"
    assert format_ms(90_000) == "90 s"
    assert format_ms(600_000, runs_python=True) == "10 min + the time of its Python code"
    assert format_bytes(None) == "-"
    assert format_bytes(100) == "100 bytes"
    assert format_bytes(8192) == "8.0 kB"
    assert format_bytes(3 * GB) == "3.0 GB"
    assert format_bytes(5 * 1024 * GB) == "5120.0 GB"


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ('ALTER TABLE "t" DROP COLUMN "c" CASCADE', 'drops column "c": its data is lost'),
        ('DROP TABLE "t" CASCADE', 'drops table "t": its data is lost'),
        ('ALTER TABLE "t" RENAME COLUMN "a" TO "b"', 'renames column "a"'),
        ('ALTER TABLE "t" RENAME TO "u"', 'renames table "t"'),
        ('ALTER TABLE "t" ALTER COLUMN "c" DROP DEFAULT', ""),
        ('DROP INDEX "i"', ""),
    ],
)
def test_breaking_changes_in_raw_sql(sql, why):
    from django.db import migrations

    assert breaking(migrations.RunSQL(sql), [sql]) == why
