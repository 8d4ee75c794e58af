"""Every safe operation, the doctor, the analysis and the runbook on names that need quoting:
mixed case, spaces and a semicolon, a reserved word, a dot inside a name, and a table in a
schema off the search path (``tests/scenarios/oddnames``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.test_operations import Crash, crash_at

pytestmark = pytest.mark.django_db(transaction=True)

ORDER = '"LegacyOrder"'
ODD = '"Odd Table;drop"'
REMOTE = '"legacy"."Remote Order"'
READINGS = '"legacy"."Readings"'
ROWS = 300

Check = Callable[[], None]


def scalar(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture
def odd(scenario: Any) -> Iterator[None]:
    scenario("oddnames")
    run_safemigrate("scenarioapp", "0001")
    execute(
        f'INSERT INTO {ORDER} ("Total", "Ref No") SELECT g, \'r\' || g '
        f"FROM generate_series(1, {ROWS}) g",
        f'INSERT INTO {ODD} ("Na me; x", "select") SELECT \'n\' || g, g '
        f"FROM generate_series(1, {ROWS}) g",
        f'INSERT INTO {REMOTE} ("Amount", "Me mo", "La bel") SELECT g, \'m\', \'l\' || g '
        f"FROM generate_series(1, {ROWS}) g",
        f"INSERT INTO {READINGS} (taken_on, \"Value\") SELECT date '2024-01-01' + g, g "
        f"FROM generate_series(1, {ROWS}) g",
    )
    yield
    execute(
        f'DROP TABLE IF EXISTS {ORDER}, {ODD}, "legacy.dotted" CASCADE',
        "DROP SCHEMA IF EXISTS legacy CASCADE",
    )


def valid_index(table: str, name: str) -> Check:
    return lambda: assert_valid(catalog.indexes(table), name)


def validated(table: str, name: str) -> Check:
    return lambda: assert_valid(catalog.constraints(table), name)


def assert_valid(found: dict[str, tuple[str, bool]], name: str) -> None:
    assert found[name][1] is True, found


def lacks(table: str, *names: str) -> Check:
    def check() -> None:
        found = {**catalog.indexes(table), **catalog.constraints(table), **catalog.columns(table)}
        assert not set(names) & set(found), found

    return check


def nullable(table: str, column: str, expected: bool) -> Check:
    def check() -> None:
        assert catalog.columns(table)[column][1] is expected
        assert not [c for c in catalog.constraints(table) if c.startswith("sm_nn_")]

    return check


def default(table: str, column: str, expected: str | None) -> Check:
    return lambda: _equal(catalog.columns(table)[column][2], expected)


def _equal(found: Any, expected: Any) -> None:
    assert found == expected


def both(*checks: Check) -> Check:
    def check() -> None:
        for each in checks:
            each()

    return check


def added_fields() -> None:
    columns = catalog.columns(ODD)
    assert columns["Owner Id"][:2] == ("bigint", True)
    assert columns["To ken"] == ("uuid", False, "gen_random_uuid()")
    assert scalar(f'SELECT count(DISTINCT "To ken") FROM {ODD}') == ROWS
    foreign_keys = [d for d, valid in catalog.constraints(ODD).values() if "FOREIGN" in d and valid]
    assert foreign_keys == [
        'FOREIGN KEY ("Owner Id") REFERENCES "LegacyOrder"(id) DEFERRABLE INITIALLY DEFERRED'
    ]
    assert any('("Owner Id")' in d and valid for d, valid in catalog.indexes(ODD).values())
    assert any(d == 'UNIQUE ("Co de")' and ok for d, ok in catalog.constraints(REMOTE).values())


def altered_fields() -> None:
    assert any(
        d == 'UNIQUE ("Ref No")' and name != "LegacyOrder Ref Uniq"
        for name, (d, _) in catalog.constraints(ORDER).items()
    )
    assert _indexes_on(ODD, '("Na me; x")') == 2  # Odd Name Idx, and the field's own


def not_altered() -> None:
    assert [d for d, _ in catalog.constraints(ORDER).values() if "Ref No" in d] == [
        'UNIQUE ("Ref No")'
    ]
    assert _indexes_on(ODD, '("Na me; x")') == 1


def _indexes_on(table: str, columns: str) -> int:
    """Count the valid btree indexes on ``columns`` (not the pattern-ops ones)."""
    return sum(f"btree {columns}" in d and ok for d, ok in catalog.indexes(table).values())


def choices_sum(expected: int) -> Check:
    return lambda: _equal(scalar(f'SELECT sum("select") FROM {ODD}'), expected)


def partition_indexes(count: int) -> Check:
    def check() -> None:
        found = [
            name
            for table in (READINGS, '"legacy"."Readings 2024"', '"legacy"."Readings 2025"')
            for name, (definition, valid) in catalog.indexes(table).items()
            if '("Value")' in definition and valid
        ]
        assert len(found) == count, found

    return check


def partitions(count: int) -> Check:
    return lambda: _equal(
        scalar(f"SELECT count(*) FROM pg_inherits WHERE inhparent = '{READINGS}'::regclass"),
        count,
    )


SUM = sum(range(1, ROWS + 1))
#: migration -> (what forwards leaves, what backwards leaves)
STEPS: dict[str, tuple[Check, Check]] = {
    "0002_index": (
        both(valid_index(ODD, "Odd Name Idx"), valid_index(REMOTE, "Remote Label Idx")),
        both(lacks(ODD, "Odd Name Idx"), lacks(REMOTE, "Remote Label Idx")),
    ),
    "0003_unique": (
        both(validated(ORDER, "LegacyOrder Ref Uniq"), validated(REMOTE, "Remote Label Uniq")),
        both(lacks(ORDER, "LegacyOrder Ref Uniq"), lacks(REMOTE, "Remote Label Uniq")),
    ),
    "0004_check": (
        validated(REMOTE, "Remote Amount Check"),
        lacks(REMOTE, "Remote Amount Check"),
    ),
    "0005_not_null": (
        both(nullable(ODD, "select", False), nullable(REMOTE, "Amount", False)),
        both(nullable(ODD, "select", True), nullable(REMOTE, "Amount", True)),
    ),
    "0006_add_field": (
        added_fields,
        both(lacks(ODD, "Owner Id", "To ken"), lacks(REMOTE, "Co de")),
    ),
    "0007_db_default": (default(ORDER, "Total", "0"), default(ORDER, "Total", None)),
    "0008_alter_field": (altered_fields, not_altered),
    "0009_backfill": (choices_sum(SUM + ROWS), choices_sum(SUM)),
    "0010_remove_from_state": (nullable(REMOTE, "Me mo", True), nullable(REMOTE, "Me mo", False)),
    "0011_remove_from_database": (lacks(REMOTE, "Me mo"), nullable(REMOTE, "Me mo", True)),
    "0012_partitions": (partition_indexes(3), partition_indexes(0)),
    "0013_detach": (partitions(1), partitions(2)),
    "0014_drop_index": (
        both(lacks(ODD, "Odd Name Idx"), lacks(REMOTE, "Remote Label Idx")),
        both(valid_index(ODD, "Odd Name Idx"), valid_index(REMOTE, "Remote Label Idx")),
    ),
}
NAMES = list(STEPS)


def previous(name: str) -> str:
    index = NAMES.index(name)
    return NAMES[index - 1] if index else "0001_initial"


def test_every_operation_forwards_backwards_forwards(odd: None) -> None:
    for name in NAMES:
        forwards, backwards = STEPS[name]
        run_safemigrate("scenarioapp", name)
        forwards()
        run_safemigrate("scenarioapp", previous(name))
        backwards()
        run_safemigrate("scenarioapp", name)
        forwards()

    run_safemigrate("scenarioapp", "0015_delete_model")
    assert scalar("SELECT to_regclass('\"legacy.dotted\"')") is None
    run_safemigrate("scenarioapp", "0016_alter_remote")
    assert _indexes_on(REMOTE, '("Amount")') == 1


@pytest.mark.parametrize("step", ["add column", "backfill", "build index Remote Order_Co de_key"])
def test_a_rerun_after_a_crash_finds_what_was_done(
    odd: None, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    run_safemigrate("scenarioapp", "0005")
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", "0006")
    monkeypatch.undo()

    run_safemigrate("scenarioapp", "0006")

    added_fields()


def test_an_invalid_leftover_index_is_found_and_rebuilt(odd: None) -> None:
    execute(f'UPDATE {ODD} SET "select" = 1 WHERE id <= 2')
    with pytest.raises(Exception, match="could not create unique index"):
        execute(f'CREATE UNIQUE INDEX CONCURRENTLY "Odd Name Idx" ON {ODD} ("select")')
    assert catalog.indexes(ODD)["Odd Name Idx"][1] is False

    run_safemigrate("scenarioapp", "0002")

    definition, valid = catalog.indexes(ODD)["Odd Name Idx"]
    assert valid is True
    assert definition.endswith('USING btree ("Na me; x")')


def test_the_doctor_finds_and_finishes_leftovers(
    odd: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_safemigrate("scenarioapp", "0004")
    crash_at(monkeypatch, "add check not valid")
    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", "0005")
    monkeypatch.undo()
    execute(f'UPDATE {ORDER} SET "Total" = 1 WHERE id <= 2')
    with pytest.raises(Exception, match="could not create unique index"):
        execute(f'CREATE UNIQUE INDEX CONCURRENTLY "Order Total" ON {ORDER} ("Total")')
    execute(
        f'UPDATE {ORDER} SET "Total" = id',
        f'ALTER TABLE {REMOTE} ADD CONSTRAINT "Remote Positive" CHECK ("Amount" > 0) NOT VALID',
    )

    output = run_safemigrate(doctor=True, yes=True)

    assert "INVALID index Order Total on LegacyOrder" in output.out
    assert f"NOT VALID constraint Remote Positive on {REMOTE}" in output.out
    assert "Helper check sm_nn_Odd Table;drop_select on Odd Table;drop" in output.out
    assert catalog.indexes(ORDER)["Order Total"][1] is True
    assert catalog.constraints(REMOTE)["Remote Positive"][1] is True
    assert catalog.columns(ODD)["select"][1] is False
    assert "Nothing to do" in run_safemigrate(doctor=True).out


def lint_json(*args: str) -> dict[str, Any]:
    out, code = StringIO(), 0
    try:
        call_command("safemigrate", *args, lint=True, format="json", stdout=out, no_color=True)
    except CommandError as error:
        code = error.returncode
    assert code in (0, 1), out.getvalue()
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def test_the_analysis_and_the_runbook_read_their_statistics(odd: None) -> None:
    run_safemigrate("scenarioapp", "0016")
    execute(f"ANALYZE {ORDER}", f"ANALYZE {ODD}", f"ANALYZE {REMOTE}")

    [migration] = lint_json("scenarioapp")["migrations"]
    stats = {t: s["rows"] for op in migration["operations"] for t, s in op["stats"].items()}
    assert stats == {"LegacyOrder": ROWS, "Odd Table;drop": ROWS, REMOTE: ROWS}
    for operation in migration["operations"]:
        [finding] = operation["findings"]
        assert (finding["rule"], finding["severity"]) == ("SM109", "info")
        assert finding["context"] == f"small table: about {ROWS} rows"

    runbook = run_safemigrate("scenarioapp", runbook=True).out
    assert f"| Odd Table;drop | {ROWS} |" in runbook
    assert "--table='\"LegacyOrder\"'" in runbook
