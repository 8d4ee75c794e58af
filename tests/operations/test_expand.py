"""The expand/contract operations against the plain ones: same schema, same state, no findings,
every step rolled back to exactly where it started, and refusals that name the reason."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import NotSupportedError, connection, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

from safemigrate.operations import AlterFieldTypeSafely, RenameFieldSafely
from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.expand_helpers import (
    NAMES,
    STEPS,
    column_type,
    leftovers,
    query,
    reset,
    rows,
    schema,
    seed,
)
from tests.operations.test_fix_alter_field import rules

pytestmark = pytest.mark.django_db(transaction=True)


def plain_schemas(scenario: Any) -> dict[str, Any]:
    """The schema after each step of ``expand_plain``, the plain operations."""
    scenario("expand_plain")
    run_safemigrate("scenarioapp", "0001")
    seed(300)
    found = {}
    for step in STEPS:
        run_safemigrate("scenarioapp", step, allow_unsafe=True)
        found[step] = schema()
    reset()
    return found


def test_final_schema_is_the_plain_operations_at_every_step(scenario: Any) -> None:
    plain = plain_schemas(scenario)
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    seed(300)

    for step in STEPS:
        run_safemigrate("scenarioapp", step)
        if step not in ("0002", "0005"):  # an expand has both columns: compared after contract
            assert schema() == plain[step], step
    # Every value went where it belongs: renamed, converted, widened.
    assert rows() == [(n, f"e{n}@x.test", n, n, None) for n in range(1, 301)]
    assert leftovers() == []


def test_every_step_rolls_back_to_where_it_started(scenario: Any) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    seed(200)
    before = {"0001": (schema(), rows())}
    for step in STEPS:
        run_safemigrate("scenarioapp", step)
        before[step] = (schema(), rows())

    for step, previous in reversed(list(zip(STEPS, ["0001", *STEPS[:-1]], strict=True))):
        run_safemigrate("scenarioapp", previous)
        assert (schema(), rows()) == before[previous], f"back from {step}"
        run_safemigrate("scenarioapp", step)
        assert (schema(), rows()) == before[step], f"forwards again to {step}"
        run_safemigrate("scenarioapp", previous)
    assert leftovers() == []


def final_state(name: str, settings: Any) -> Any:
    settings.MIGRATION_MODULES = {**settings.MIGRATION_MODULES, "scenarioapp": name}
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def test_state_follows_the_plain_operations_so_makemigrations_stays_quiet(settings: Any) -> None:
    safe = final_state("tests.scenarios.expand", settings)
    plain = final_state("tests.scenarios.expand_plain", settings)
    assert MigrationAutodetector(safe, plain).changes(graph=MigrationGraph()) == {}
    renamed = final_state("tests.scenarios.expand", settings).models["scenarioapp", "item"]
    assert {"email_address", "price_cents"} <= set(renamed.fields)


def test_analysis_finds_nothing_in_the_safe_forms_and_keeps_the_plain_ones_findings(
    scenario: Any,
) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    assert rules("scenarioapp") == []
    reset()
    scenario("expand_plain")
    run_safemigrate("scenarioapp", "0001")
    found = set(rules("scenarioapp"))
    assert {"SM104", "SM105"} <= found


def test_sqlmigrate_shows_each_step(scenario: Any) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    out = StringIO()
    call_command("sqlmigrate", "scenarioapp", NAMES["0004"], stdout=out)
    sql = out.getvalue()
    assert 'ADD COLUMN IF NOT EXISTS "sm_shadow_qty" bigint NULL' in sql
    assert re.search(r"CREATE +TRIGGER sm_sync_sm_shadow_qty_", sql)
    assert 'DROP COLUMN IF EXISTS "qty"' in sql
    assert 'RENAME COLUMN "sm_shadow_qty" TO "qty"' in sql


def test_a_foreign_key_pointing_at_the_column_is_refused_with_the_reason(scenario: Any) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    state = MigrationLoader(None).project_state(("scenarioapp", "0001_initial"))
    operation = AlterFieldTypeSafely("author", "id", models.IntegerField(primary_key=True))
    after = state.clone()
    operation.state_forwards("scenarioapp", after)

    with (
        connection.schema_editor(atomic=False) as editor,
        pytest.raises(NotSupportedError, match=r"foreign keys point at it \(scenarioapp_item\."),
    ):
        operation.database_forwards("scenarioapp", editor, state, after)
    assert leftovers() == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"field": models.BigIntegerField()}, "needs reverse_using"),
        ({"using": "email || 'x'"}, "give the new field"),
    ],
)
def test_rename_arguments_that_cannot_work_are_refused(arguments: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RenameFieldSafely("item", "email", "email_address", **arguments)


def test_an_expression_naming_another_column_is_refused(scenario: Any) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    state = MigrationLoader(None).project_state(("scenarioapp", "0001_initial"))
    field = models.PositiveBigIntegerField(db_index=True, db_default=1)
    operation = AlterFieldTypeSafely("item", "qty", field, using="qty + id")
    after = state.clone()
    operation.state_forwards("scenarioapp", after)

    with (
        connection.schema_editor(atomic=False) as editor,
        pytest.raises(ValueError, match="may name only the column 'qty', not id"),
    ):
        operation.database_forwards("scenarioapp", editor, state, after)


def test_a_type_change_with_other_changes_is_refused(scenario: Any) -> None:
    scenario("expand")
    state = MigrationLoader(None).project_state(("scenarioapp", "0001_initial"))
    field = models.PositiveBigIntegerField(db_index=True, db_default=1, null=True)
    operation = AlterFieldTypeSafely("item", "qty", field)
    after = state.clone()
    operation.state_forwards("scenarioapp", after)

    with (
        connection.schema_editor(collect_sql=True, atomic=False) as editor,
        pytest.raises(ValueError, match="may change only the column's type, not null"),
    ):
        operation.database_forwards("scenarioapp", editor, state, after)


def test_an_atomic_migration_is_refused_before_anything_runs(scenario: Any) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0001")
    state = MigrationLoader(None).project_state(("scenarioapp", "0001_initial"))
    operation = RenameFieldSafely("item", "email", "email_address")
    after = state.clone()
    operation.state_forwards("scenarioapp", after)

    with (
        connection.schema_editor(atomic=True) as editor,
        pytest.raises(NotSupportedError, match="set `atomic = False`"),
    ):
        operation.database_forwards("scenarioapp", editor, state, after)
    assert column_type("email_address") is None


def test_a_contract_without_its_expand_is_a_check_error(settings: Any) -> None:
    settings.MIGRATION_MODULES = {
        **settings.MIGRATION_MODULES,
        "scenarioapp": "tests.scenarios.expand_orphan",
    }
    with pytest.raises(CommandError, match=r"safemigrate\.E111"):
        call_command("check", tags=["compatibility"], stdout=StringIO(), stderr=StringIO())


def test_a_sync_trigger_left_after_its_contract_is_a_check_error(scenario: Any) -> None:
    scenario("expand")
    run_safemigrate("scenarioapp", "0002")
    ((name,),) = query("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'sm\\_sync\\_%%'")
    run_safemigrate("scenarioapp", "0003")
    check = {"databases": ["default"], "tags": ["database"], "stdout": StringIO()}
    call_command("check", **check)

    # A trigger of that name is back (restored from a dump taken mid-transition, say).
    query(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; "
        f"END$$; CREATE TRIGGER {name} BEFORE UPDATE ON scenarioapp_item FOR EACH ROW "
        f"EXECUTE FUNCTION {name}()"
    )
    with pytest.raises(CommandError, match=r"safemigrate\.E110"):
        call_command("check", **check)
    output = run_safemigrate(doctor=True, yes=True).out
    assert "outlived scenarioapp.0003_rename_email_contract" in output
    call_command("check", **check)
    assert leftovers() == []


def serial_run(scenario: Any, name: str, **options: Any) -> tuple[Any, ...]:
    scenario(name)
    run_safemigrate("scenarioapp", "0001")
    query("INSERT INTO scenarioapp_ticket (title) SELECT 't' || g FROM generate_series(1, 300) g")
    run_safemigrate("scenarioapp", **options)
    query("INSERT INTO scenarioapp_ticket DEFAULT VALUES")  # the sequence goes on
    found = (
        catalog.schema(["scenarioapp_ticket"]),
        query("SELECT id, title FROM scenarioapp_ticket ORDER BY id"),
    )
    query("DROP TABLE scenarioapp_ticket")
    query("DELETE FROM django_migrations WHERE app = 'scenarioapp'")
    return found


def test_a_serial_key_keeps_its_sequence_and_default(scenario: Any) -> None:
    plain = serial_run(scenario, "serial_plain", allow_unsafe=True)
    safe = serial_run(scenario, "serial")

    assert safe == plain
    assert safe[1][-1] == (301, "untitled")
    assert safe[0]["scenarioapp_ticket"]["generated"]["id"][1] == "scenarioapp_ticket_id_seq"
