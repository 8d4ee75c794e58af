"""Each safe operation on real PostgreSQL: forwards, backwards, forwards again, and the catalog."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from safemigrate.operations import ValidateConstraint, base
from tests import catalog
from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = "scenarioapp_item"
ROWS = 2000

Check = Callable[[dict[str, Any]], None]


def populate(rows: int = ROWS) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ITEM} (name, qty, note) "
            "SELECT 'item ' || g, g, '' FROM generate_series(1, %s) g",
            [rows],
        )


def item() -> dict[str, Any]:
    return catalog.schema([ITEM])[ITEM]


def scalar(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def has_valid_index(name: str) -> Check:
    def check(table: dict[str, Any]) -> None:
        assert table["indexes"][name][1] is True

    return check


def lacks_index(name: str) -> Check:
    def check(table: dict[str, Any]) -> None:
        assert name not in table["indexes"]

    return check


def has_validated(name: str) -> Check:
    def check(table: dict[str, Any]) -> None:
        assert table["constraints"][name][1] is True

    return check


def lacks_constraint(name: str) -> Check:
    def check(table: dict[str, Any]) -> None:
        assert name not in table["constraints"]

    return check


def nullable(column: str, expected: bool) -> Check:
    def check(table: dict[str, Any]) -> None:
        assert table["columns"][column][1] is expected
        assert not [name for name in table["constraints"] if name.startswith("sm_nn_")]

    return check


def lacks_column(column: str) -> Check:
    def check(table: dict[str, Any]) -> None:
        assert column not in table["columns"]

    return check


def unique_tokens(table: dict[str, Any]) -> None:
    assert table["columns"]["token"] == ("uuid", False, "gen_random_uuid()")
    assert scalar(f"SELECT count(DISTINCT token) FROM {ITEM}") == ROWS


def status_filled(table: dict[str, Any]) -> None:
    assert table["columns"]["status"] == ("character varying(10)", False, None)
    assert scalar(f"SELECT count(*) FROM {ITEM} WHERE status = 'new'") == ROWS


def status_db_default(table: dict[str, Any]) -> None:
    assert table["columns"]["status"][2] == "'new'::character varying"


def fk_added(table: dict[str, Any]) -> None:
    assert table["columns"]["author_id"] == ("bigint", True, None)
    fks = [c for c, (d, valid) in table["constraints"].items() if "FOREIGN KEY" in d and valid]
    assert fks == ["scenarioapp_item_author_id_2f3554b3_fk_scenarioapp_author_id"]
    assert table["indexes"]["scenarioapp_item_author_id_2f3554b3"][1] is True


#: migration -> (what forwards leaves, what backwards leaves)
STEPS: dict[str, tuple[Check, Check]] = {
    "0002_index": (has_valid_index("item_name_idx"), lacks_index("item_name_idx")),
    "0003_unique": (has_validated("item_name_uniq"), lacks_index("item_name_uniq")),
    "0004_check": (has_validated("item_qty_gte_0"), lacks_constraint("item_qty_gte_0")),
    "0005_not_null": (nullable("qty", False), nullable("qty", True)),
    "0006_fk": (fk_added, lacks_column("author_id")),
    "0007_volatile_default": (unique_tokens, lacks_column("token")),
    "0008_static_default": (status_filled, lacks_column("status")),
    "0009_db_default": (status_db_default, lambda t: status_filled(t)),
    "0010_remove_from_state": (nullable("note", True), nullable("note", False)),
    "0011_remove_from_database": (lacks_column("note"), nullable("note", True)),
    "0012_drop_index": (lacks_index("item_name_idx"), has_valid_index("item_name_idx")),
}
NAMES = list(STEPS)


def previous(name: str) -> str:
    index = NAMES.index(name)
    return NAMES[index - 1] if index else "0001_initial"


@pytest.fixture
def items(scenario: Any) -> None:
    scenario("safeops")
    run_safemigrate("scenarioapp", "0001")
    populate()


@pytest.mark.parametrize("name", NAMES)
def test_forwards_backwards_forwards(items: None, name: str) -> None:
    forwards, backwards = STEPS[name]
    run_safemigrate("scenarioapp", previous(name))

    run_safemigrate("scenarioapp", name)
    forwards(item())
    run_safemigrate("scenarioapp", previous(name))
    backwards(item())
    run_safemigrate("scenarioapp", name)
    forwards(item())


class Crash(Exception):
    pass


def crash_at(monkeypatch: pytest.MonkeyPatch, wanted: str) -> list[str]:
    """Make the step named ``wanted`` crash once, right after it committed."""
    seen: list[str] = []

    def after_step(operation: str, step: str) -> None:
        seen.append(step)
        if step == wanted and seen.count(step) == 1:
            raise Crash(f"injected after {operation}: {step}")

    monkeypatch.setattr(base, "_after_step", after_step)
    return seen


CRASHES = [
    ("0002_index", "build index item_name_idx"),
    ("0003_unique", "build index item_name_uniq"),
    ("0005_not_null", "add check not valid"),
    ("0005_not_null", "validate check"),
    ("0005_not_null", "set not null"),
    ("0006_fk", "add column"),
    ("0006_fk", "build index scenarioapp_item_author_id_2f3554b3"),
    ("0006_fk", "add foreign key not valid"),
    ("0007_volatile_default", "add column"),
    ("0007_volatile_default", "backfill"),
    ("0007_volatile_default", "validate check"),
    ("0008_static_default", "add column"),
]


@pytest.mark.parametrize(("name", "step"), CRASHES)
def test_rerun_after_a_crash_between_steps_completes(
    items: None, monkeypatch: pytest.MonkeyPatch, name: str, step: str
) -> None:
    run_safemigrate("scenarioapp", previous(name))
    seen = crash_at(monkeypatch, step)

    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", name)
    assert step in seen

    run_safemigrate("scenarioapp", name)
    STEPS[name][0](item())


def test_rerun_after_a_crash_between_add_and_validate_completes(
    items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_safemigrate("scenarioapp", "0003")
    validate = ValidateConstraint.database_forwards

    def crash(self: Any, app_label: str, schema_editor: Any, *states: Any) -> None:
        if schema_editor.collect_sql:  # the analysis before the run only reads the SQL
            return validate(self, app_label, schema_editor, *states)
        raise Crash("injected before VALIDATE")

    monkeypatch.setattr(ValidateConstraint, "database_forwards", crash)
    with pytest.raises(Crash):
        run_safemigrate("scenarioapp", "0004")
    assert item()["constraints"]["item_qty_gte_0"][1] is False

    monkeypatch.setattr(ValidateConstraint, "database_forwards", validate)
    run_safemigrate("scenarioapp", "0004")
    has_validated("item_qty_gte_0")(item())


def test_invalid_leftover_index_is_dropped_and_rebuilt(items: None) -> None:
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ITEM} SET qty = 1 WHERE id <= 2")
        # A unique build over duplicates fails and leaves an INVALID index of that name.
        with pytest.raises(Exception, match="could not create unique index"):
            cursor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY item_name_idx ON {ITEM} (qty)")
    assert item()["indexes"]["item_name_idx"][1] is False

    run_safemigrate("scenarioapp", "0002")

    definition, valid = item()["indexes"]["item_name_idx"]
    assert valid is True
    assert definition.endswith("USING btree (name)")


def test_atomic_migration_is_refused_with_the_fix(
    scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario("safeops")
    module = importlib.import_module("tests.scenarios.safeops.0002_index")
    monkeypatch.setattr(module.Migration, "atomic", True)
    run_safemigrate("scenarioapp", "0001")

    # The analysis before the run refuses it first (SM125) ...
    with pytest.raises(CommandError, match="SM125"):
        run_safemigrate("scenarioapp", "0002")
    # ... and the operation itself, when the analysis is skipped.
    with pytest.raises(CommandError) as raised:
        run_safemigrate("scenarioapp", "0002", allow_unsafe=True)

    message = str(raised.value)
    assert "AddIndexConcurrently cannot run inside a transaction" in message
    assert "set `atomic = False` on the migration" in message
    assert "docs/operations/indexes.md" in message


def test_sqlmigrate_shows_every_step(scenario: Any) -> None:
    scenario("safeops")
    out = StringIO()
    call_command("sqlmigrate", "scenarioapp", "0005", stdout=out)
    sql = out.getvalue()
    assert 'CHECK ("qty" IS NOT NULL) NOT VALID' in sql
    assert "VALIDATE CONSTRAINT" in sql
    assert "SET NOT NULL" in sql
    assert "DROP CONSTRAINT IF EXISTS" in sql
