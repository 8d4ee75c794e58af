"""The impact rules: what breaks running code, and how durations and sizes read."""

from __future__ import annotations

import pytest

from safemigrate.analysis.sqlfacts import SchemaMemory, statement_facts
from safemigrate.postgres.tables import format_bytes
from safemigrate.review.impact import breaking, format_ms

GB = 1024**3


def test_formats():
    assert format_ms(None, runs_python=True) == "unknown (runs Python code)"
    assert format_ms(None) == "unknown (table size unknown)"
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
        ('ALTER TABLE "t" DROP COLUMN "c" CASCADE', "drops column c of t: code still using it"),
        ('DROP TABLE "t" CASCADE', "drops table t: code still using it fails"),
        ('ALTER TABLE "t" RENAME COLUMN "a" TO "b"', "renames column a of t"),
        ('ALTER TABLE "t" RENAME TO "u"', "renames table t"),
        ('ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint', "changes the type of column c of t"),
        ('ALTER TABLE "t" ALTER COLUMN "c" DROP DEFAULT', ""),
        ('DROP INDEX "i"', ""),
    ],
)
def test_breaking_changes_are_read_from_the_facts(sql, why):
    facts = [fact for found in statement_facts(sql, SchemaMemory(), True) for fact in found.facts]
    assert breaking(facts).startswith(why)
    assert bool(breaking(facts)) == bool(why)


def test_a_type_change_to_the_same_type_breaks_nothing():
    memory = SchemaMemory(resolve=lambda table, column: "bigint")
    sql = 'ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint'
    facts = [fact for found in statement_facts(sql, memory, True) for fact in found.facts]
    assert breaking(facts) == ""
