"""``--fix`` on the ``AlterField`` forms ``makemigrations`` writes in practice: an index, a
unique constraint, a foreign key's constraint and NOT NULL become ``AlterFieldSafely``; a
type change that rewrites the table becomes ``AlterFieldTypeSafely``."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

from safemigrate.operations import AlterFieldSafely
from safemigrate.operations.fix import part_name
from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.test_fix import TABLES, final_state, forget_modules, reset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fixalter(copy_scenario: Callable[[str], Path]) -> Path:
    return copy_scenario("fixalter")


def migrate_with_rows(target: str, **options: Any) -> dict[str, Any]:
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO scenarioapp_author (name) VALUES ('a'), ('b')")
        cursor.execute(
            "INSERT INTO scenarioapp_item (name, qty, code, label, author_id) "
            "SELECT 'item ' || g, g, 'c' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'l' END, "
            "1 + g % 2 FROM generate_series(1, 400) g"
        )
    run_safemigrate("scenarioapp", target, **options)
    return catalog.schema(TABLES)


def rules(*args: str) -> list[str]:
    """The rule of every finding ``--lint`` reports on the plan."""
    out, code = StringIO(), 0
    try:
        call_command("safemigrate", *args, lint=True, format="json", stdout=out, no_color=True)
    except CommandError as error:
        code = error.returncode
    assert code in (0, 1), out.getvalue()  # findings, never a failure to judge the plan
    report = json.loads(out.getvalue())
    return sorted(
        finding["rule"]
        for migration in report["migrations"]
        for operation in migration["operations"]
        for finding in operation["findings"]
    )


def test_index_field_and_type_change(fixalter: Path) -> None:
    original_schema = migrate_with_rows("0002_changes", allow_unsafe=True)
    original_state = final_state()
    reset()
    run_safemigrate("scenarioapp", "0001")
    assert {"SM104", "SM109"} <= set(rules("scenarioapp", "0002_changes"))

    output = run_safemigrate("scenarioapp", "0002_changes", fix=True)
    forget_modules(fixalter.name)

    rewritten = (fixalter / "0002_changes.py").read_text()
    assert "safemigrate.operations.AddFieldSafely(" in rewritten
    assert "safemigrate.operations.AlterFieldSafely(" in rewritten
    assert "safemigrate.operations.AlterFieldTypeSafely(" in rewritten
    assert "atomic = False" in rewritten
    # The type change fills its shadow column in batches, whose checkpoints live there.
    assert "('safemigrate', '0003_backfill_state')" in rewritten
    assert "Not rewritten" not in output.out
    assert rules("scenarioapp", "0002_changes") == []

    reset()
    assert migrate_with_rows("0002_changes") == original_schema
    changes = MigrationAutodetector(final_state(), original_state).changes(graph=MigrationGraph())
    assert changes == {}


def test_unique_foreign_key_and_not_null(fixalter: Path) -> None:
    original_schema = migrate_with_rows("0003_constraints", allow_unsafe=True)
    original_state = final_state()
    reset()
    run_safemigrate("scenarioapp", "0001")
    run_safemigrate("scenarioapp", "0002_changes", allow_unsafe=True)
    assert {"SM103", "SM109", "SM111", "SM112"} <= set(rules("scenarioapp", "0003_constraints"))

    output = run_safemigrate("scenarioapp", "0003_constraints", fix=True)
    forget_modules(fixalter.name)

    assert "Not rewritten" not in output.out
    assert (fixalter / "0003_constraints.py").read_text().count("AlterFieldSafely(") == 3
    assert rules("scenarioapp", "0003_constraints") == []

    reset()
    assert migrate_with_rows("0003_constraints", allow_unsafe=True) == original_schema
    changes = MigrationAutodetector(final_state(), original_state).changes(graph=MigrationGraph())
    assert changes == {}
    # Backwards undoes each change as AlterField would, and forwards again redoes it.
    run_safemigrate("scenarioapp", "0002_changes")
    assert catalog.constraints("scenarioapp_item").keys() == {"scenarioapp_item_pkey"}
    run_safemigrate("scenarioapp", "0003_constraints")
    assert catalog.schema(TABLES) == original_schema


def test_alter_field_safely_refuses_a_type_change(fixalter: Path) -> None:
    state = MigrationLoader(None).project_state(("scenarioapp", "0001_initial"))
    operation = AlterFieldSafely("item", "qty", models.BigIntegerField())
    after = state.clone()
    operation.state_forwards("scenarioapp", after)

    with (
        connection.schema_editor(collect_sql=True, atomic=False) as editor,
        pytest.raises(ValueError, match=r"cannot change the column's type: .*AlterFieldTypeSafely"),
    ):
        operation.database_forwards("scenarioapp", editor, state, after)


def test_split_off_migrations_never_extend_the_original_name() -> None:
    assert part_name("0002_changes", 1) == "0002_1_changes"
    assert part_name("custom", 2) == "part2_custom"
