"""``safemigrate --fix``: rewritten migrations give exactly the schema the originals gave."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection, migrations
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

from safemigrate.operations.fix import group, safe_steps
from tests import catalog
from tests.conftest import run_safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ["scenarioapp_author", "scenarioapp_item"]


@pytest.fixture
def fixable(copy_scenario: Callable[[str], Path]) -> Path:
    return copy_scenario("fixable")


def reset() -> None:
    """Drop the scenario's tables and forget its migrations, for a fresh start."""
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'scenarioapp'")


def migrate_with_rows(**options: Any) -> dict[str, Any]:
    run_safemigrate("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scenarioapp_item (name, qty, note) "
            "SELECT 'item ' || g, g, '' FROM generate_series(1, 500) g"
        )
    run_safemigrate("scenarioapp", **options)
    return catalog.schema(TABLES)


def forget_modules(package: str) -> None:
    """Make the next load read the rewritten files, as a new ``manage.py`` process would."""
    for module in [name for name in sys.modules if name.startswith(f"{package}.")]:
        del sys.modules[module]


def final_state() -> Any:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state()


def test_rewritten_migrations_give_the_same_schema(fixable: Path) -> None:
    with pytest.raises(CommandError, match="refuses to run 8 unsafe operation"):
        migrate_with_rows()
    reset()
    original_schema = migrate_with_rows(allow_unsafe=True)
    original_state = final_state()
    reset()

    output = run_safemigrate("scenarioapp", "0002", fix=True)
    forget_modules(fixable.name)

    assert "Wrote" in output.out
    assert "Hold 0002_changes back" in output.out
    names = sorted(path.name for path in fixable.glob("0*.py"))
    assert names == [
        "0001_initial.py",
        "0002_1_changes.py",
        "0002_changes.py",
        "0003_author_email.py",
    ]
    second = (fixable / "0002_1_changes.py").read_text()
    assert "import safemigrate.operations\n" in second
    assert "safemigrate.operations.RemoveFieldFromState(" in second
    assert "atomic = False" in second
    for name in ("AddFieldSafely", "SetNotNull", "AddIndexConcurrently"):
        assert name in second
    assert "AddUniqueConstraintConcurrently" in second
    assert "AddConstraintNotValid" in second
    assert "ValidateConstraint" in second
    assert "RemoveFieldFromDatabase" in (fixable / "0002_changes.py").read_text()

    assert migrate_with_rows() == original_schema
    changes = MigrationAutodetector(final_state(), original_state).changes(graph=MigrationGraph())
    assert changes == {}


def test_a_safe_migration_is_left_alone(fixable: Path) -> None:
    before = (fixable / "0003_author_email.py").read_text()

    output = run_safemigrate("scenarioapp", "0003", fix=True)

    assert "already safe" in output.out
    assert (fixable / "0003_author_email.py").read_text() == before


@pytest.fixture
def initial_state_for_fix(settings: Any) -> Any:
    settings.MIGRATION_MODULES = {
        **settings.MIGRATION_MODULES,
        "scenarioapp": "tests.scenarios.fixable",
    }
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state(("scenarioapp", "0001_initial"))


def test_fix_needs_a_migration() -> None:
    with pytest.raises(CommandError, match="--fix needs the migration"):
        run_safemigrate(fix=True)


def test_delete_model_becomes_state_first_then_drop(initial_state_for_fix: Any) -> None:
    steps = safe_steps([migrations.DeleteModel("author")], initial_state_for_fix, "scenarioapp")

    groups = group(steps)

    assert [kind for kind, _ in groups] == ["atomic", "contract"]
    assert [type(op).__name__ for _, ops in groups for op in ops] == [
        "DeleteModelFromState",
        "DeleteModelFromDatabase",
    ]
    assert groups[1][1][0].table == "scenarioapp_author"
