"""Every operation writes itself into a migration file and reads back the same, and leaves
Django's state exactly as the plain operation would, so ``makemigrations`` stays quiet."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.postgres.functions import RandomUUID
from django.db import migrations, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import OperationWriter

from safemigrate import operations as safe

INDEX = models.Index(fields=["name"], name="item_name_idx")
UNIQUE = models.UniqueConstraint(fields=["name"], name="item_name_uniq")
CHECK = models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_gte_0")
FK = models.ForeignKey("scenarioapp.author", models.CASCADE, null=True)
TOKEN = models.UUIDField(db_default=RandomUUID())

#: (safe operations, the plain operations makemigrations writes for the same change)
PAIRS: list[tuple[list[Operation], list[Operation]]] = [
    ([safe.AddIndexConcurrently("item", INDEX)], [migrations.AddIndex("item", INDEX)]),
    (
        [safe.AddUniqueConstraintConcurrently("item", UNIQUE)],
        [migrations.AddConstraint("item", UNIQUE)],
    ),
    (
        [safe.AddConstraintNotValid("item", CHECK), safe.ValidateConstraint("item", CHECK.name)],
        [migrations.AddConstraint("item", CHECK)],
    ),
    (
        [safe.SetNotNull("item", "qty", models.IntegerField())],
        [migrations.AlterField("item", "qty", models.IntegerField())],
    ),
    ([safe.AddFieldSafely("item", "author", FK)], [migrations.AddField("item", "author", FK)]),
    ([safe.AddFieldSafely("item", "token", TOKEN)], [migrations.AddField("item", "token", TOKEN)]),
    (
        [safe.AlterDbDefault("item", "note", models.TextField(db_default="", default=""))],
        [migrations.AlterField("item", "note", models.TextField(db_default="", default=""))],
    ),
    (
        [safe.SafeAddNotNull("item", "qty")],
        [migrations.AlterField("item", "qty", models.IntegerField())],
    ),
    ([safe.SafeDeleteModel("author")], [migrations.DeleteModel("author")]),
    (
        [safe.DeleteModelFromState("author"), safe.DeleteModelFromDatabase("scenarioapp_author")],
        [migrations.DeleteModel("author")],
    ),
    ([safe.SafeRemoveField("item", "note")], [migrations.RemoveField("item", "note")]),
    (
        [
            safe.RemoveFieldFromState("item", "note"),
            safe.RemoveFieldFromDatabase("item", "note", models.TextField(default="")),
        ],
        [migrations.RemoveField("item", "note")],
    ),
    (
        [
            safe.RenameFieldSafely("item", "name", "title"),
            safe.FinishRenameField(
                "item", "name", "title", old_field=models.CharField(max_length=100)
            ),
        ],
        [migrations.RenameField("item", "name", "title")],
    ),
    (
        [
            safe.RenameFieldSafely(
                "item", "qty", "qty_big", models.BigIntegerField(), "qty * 100", "qty_big / 100"
            ),
            safe.FinishRenameField(
                "item", "qty", "qty_big", models.IntegerField(), "qty * 100", "qty_big / 100"
            ),
        ],
        [
            migrations.RenameField("item", "qty", "qty_big"),
            migrations.AlterField("item", "qty_big", models.BigIntegerField()),
        ],
    ),
    (
        [safe.AlterFieldTypeSafely("item", "qty", models.BigIntegerField(), using="qty::bigint")],
        [migrations.AlterField("item", "qty", models.BigIntegerField())],
    ),
]
EXTRA: list[Operation] = [
    safe.RemoveIndexConcurrently("item", "item_name_idx"),
    safe.AddIndexToPartitionedTable("reading", models.Index(fields=["value"], name="r_idx")),
    safe.DetachPartitionConcurrently("t", "t_2024", bound="FROM (1) TO (2)"),
    safe.DetachPartitionConcurrently("t", "t_2024"),
]
ALL = [op for safe_ops, _ in PAIRS for op in safe_ops] + EXTRA


def write(operation: Operation) -> str:
    text, imports = OperationWriter(operation, indentation=0).serialize()
    return "\n".join(sorted(imports)) + f"\noperation = {text.rstrip().rstrip(',')}"


@pytest.mark.parametrize("operation", ALL, ids=lambda op: type(op).__name__)
def test_deconstruct_round_trips_through_the_migration_writer(operation: Operation) -> None:
    source = write(operation)
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    reloaded = namespace["operation"]

    assert type(reloaded) is type(operation)
    assert write(reloaded) == source
    # The public path, which no later move of a module can break.
    assert "import safemigrate.operations\n" in source
    assert f"operation = safemigrate.operations.{type(operation).__name__}(" in source


@pytest.fixture
def initial_state(settings: Any) -> ProjectState:
    settings.MIGRATION_MODULES = {
        **settings.MIGRATION_MODULES,
        "scenarioapp": "tests.scenarios.safeops",
    }
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state(("scenarioapp", "0001_initial"))


def apply(state: ProjectState, operations: list[Operation]) -> ProjectState:
    state = state.clone()
    for operation in operations:
        operation.state_forwards("scenarioapp", state)
    return state


@pytest.mark.parametrize(("safe_ops", "plain_ops"), PAIRS, ids=lambda ops: type(ops[0]).__name__)
def test_state_matches_the_plain_operation(
    initial_state: ProjectState, safe_ops: list[Operation], plain_ops: list[Operation]
) -> None:
    after_safe = apply(initial_state, safe_ops)
    after_plain = apply(initial_state, plain_ops)

    changes = MigrationAutodetector(after_safe, after_plain).changes(graph=MigrationGraph())

    assert changes == {}
