"""Going back across a migration that cannot be unapplied: the migrator rebuilds the test
database below it (only ever the test database, during a test), and the migrations check
walks on below the irreversible migrations a project acknowledges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from safemigrate.testing.migrator import Migrator
from safemigrate.testing.rebuild import RebuildRefused, refuse_unless_test_database

#: What ``tests/scenarios/kitrebuild`` makes that the ``scenario`` fixture's table drop leaves.
LEFTOVERS = [
    "DROP FUNCTION IF EXISTS scenarioapp_answer()",
    "DROP TYPE IF EXISTS scenarioapp_mood",
    "DROP DOMAIN IF EXISTS scenarioapp_positive",
    "DROP SEQUENCE IF EXISTS scenarioapp_counter",
    "DROP COLLATION IF EXISTS scenarioapp_c",
]
LEAKY = ("scenarioapp", "0002_leaves_a_table_behind")
IRREVERSIBLE = ("scenarioapp", "0003_upper_names")
ACKNOWLEDGED = {"scenarioapp.0003_upper_names": "the names' case is not kept"}


@pytest.fixture
def rebuild_scenario(scenario: Any) -> Iterator[None]:
    """``tests/scenarios/kitrebuild``; asked for before ``migrator``, so cleaned after its reset."""
    scenario("kitrebuild")
    yield
    with connection.cursor() as cursor:
        for statement in LEFTOVERS:
            cursor.execute(statement)


def applied() -> set[tuple[str, str]]:
    return set(MigrationRecorder(connection).applied_migrations())


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def drop_the_leaked_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE scenarioapp_extra")


def test_going_back_across_an_irreversible_migration_rebuilds_the_state_below_it(
    rebuild_scenario: None, migrator: Migrator
) -> None:
    item = migrator.apply("scenarioapp", "0003").get_model("scenarioapp", "Item")
    migrator.factory(item, name="made before").create()
    Group.objects.create(name="editors")
    before = applied()

    models = migrator.apply("scenarioapp", "0001")

    assert applied() == before - {LEAKY, IRREVERSIBLE}
    assert "scenarioapp_extra" not in tables(), "0002 is gone, though its backwards step is empty"
    assert models.get_model("scenarioapp", "Item").objects.count() == 0
    assert not Group.objects.exists(), "a rebuild starts from an empty database"
    with connection.cursor() as cursor:
        # 0001 made each of them again: the rebuild had dropped them all.
        cursor.execute(
            "SELECT scenarioapp_answer(), 'ok'::scenarioapp_mood::text, 5::scenarioapp_positive, "
            "nextval('scenarioapp_counter'), 'b' < ('a' COLLATE scenarioapp_c), "
            "(SELECT count(*) FROM scenarioapp_names)"
        )
        assert cursor.fetchone() == (42, "ok", 5, 1, False, 0)


def test_going_back_through_reversible_migrations_unapplies_them_and_keeps_every_row(
    rebuild_scenario: None, migrator: Migrator
) -> None:
    migrator.apply("scenarioapp", "0002")
    Group.objects.create(name="editors")

    migrator.apply("scenarioapp", "0001")

    assert Group.objects.filter(name="editors").exists()
    assert "scenarioapp_extra" in tables(), "0002's empty backwards step ran: no rebuild"
    drop_the_leaked_table()


@pytest.mark.parametrize(
    ("name", "test_name", "refusal"),
    [
        ("shop", None, "the 'default' database is 'shop'"),
        ("test_shop", "test_shop_gw0", "the 'default' database is 'test_shop'"),
        ("test_shop", None, None),
        ("shop_ci_gw1", "shop_ci_gw1", None),
    ],
)
def test_only_the_test_database_may_be_emptied(
    db: None, monkeypatch: pytest.MonkeyPatch, name: str, test_name: str | None, refusal: str
) -> None:
    monkeypatch.setitem(connection.settings_dict, "NAME", name)
    monkeypatch.setitem(connection.settings_dict, "TEST", {"NAME": test_name})

    if refusal:
        with pytest.raises(RebuildRefused, match=refusal):
            refuse_unless_test_database(connection)
    else:
        refuse_unless_test_database(connection)


def test_a_rebuild_outside_the_test_database_refuses_before_touching_anything(
    rebuild_scenario: None, migrator: Migrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrator.apply("scenarioapp", "0003")
    before = applied()

    monkeypatch.setitem(connection.settings_dict, "NAME", "shop")
    with pytest.raises(RebuildRefused, match="Fix: run the test with pytest-django's"):
        migrator.apply("scenarioapp", "0001")
    with pytest.raises(RebuildRefused):
        migrator.check_migrations("scenarioapp", irreversible=ACKNOWLEDGED)
    monkeypatch.undo()
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    with pytest.raises(RebuildRefused, match="only during a pytest test"):
        migrator.apply("scenarioapp", "0001")

    assert applied() == before
    assert "scenarioapp_extra" in tables()


def test_the_check_walks_on_below_an_acknowledged_irreversible_migration(
    rebuild_scenario: None, migrator: Migrator
) -> None:
    with pytest.raises(AssertionError) as raised:
        migrator.check_migrations("scenarioapp", irreversible=ACKNOWLEDGED)

    # 0002, below the irreversible 0003, went down and could not come up again.
    assert str(raised.value).startswith(
        "scenarioapp.0002_leaves_a_table_behind failed when applying it again after "
        "unapplying it: ProgrammingError"
    )
    drop_the_leaked_table()


def test_the_check_names_a_migration_the_rebuild_cannot_apply_again(
    rebuild_scenario: None, migrator: Migrator
) -> None:
    migrator.apply("scenarioapp", "0003")
    with connection.cursor() as cursor:
        # What an extension holds is never dropped: 0001's function is in the way now.
        cursor.execute("ALTER EXTENSION plpgsql ADD FUNCTION scenarioapp_answer()")
    try:
        with pytest.raises(AssertionError) as raised:
            migrator.check_migrations("scenarioapp", irreversible=ACKNOWLEDGED)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER EXTENSION plpgsql DROP FUNCTION scenarioapp_answer()")
            cursor.execute("DROP FUNCTION scenarioapp_answer()")

    assert str(raised.value).startswith(
        "scenarioapp.0001_initial failed when applying it while rebuilding below "
        "scenarioapp.0003_upper_names: ProgrammingError: function "
        '"scenarioapp_answer" already exists'
    )


def test_an_irreversible_migration_not_acknowledged_fails_before_anything_is_unapplied(
    rebuild_scenario: None, migrator: Migrator
) -> None:
    migrator.apply("scenarioapp", "0003")

    with pytest.raises(AssertionError) as raised:
        migrator.check_migrations("scenarioapp")

    assert str(raised.value).startswith("scenarioapp.0003_upper_names is not reversible:")
    assert str(raised.value).endswith(
        'acknowledge it: check_migrations(irreversible={"scenarioapp.0003_upper_names": "why"}).'
    )
    assert IRREVERSIBLE in applied()


@pytest.mark.parametrize(
    ("irreversible", "error", "message"),
    [
        (
            {"scenarioapp.0003": "case"},
            LookupError,
            r"'scenarioapp.0003', which is not a migration \(did you mean "
            r"scenarioapp.0003_upper_names\?\). Fix: name each migration app_label.migration_name",
        ),
        (
            {"scenarioapp0003_upper_names": "case"},
            LookupError,
            "which is not a migration. Fix:",
        ),
        (
            {"scenarioapp.0003_upper_names": "  "},
            ValueError,
            "no reason for scenarioapp.0003_upper_names. Fix: say what undoing it would need",
        ),
        (
            {"scenarioapp.0002_leaves_a_table_behind": "it leaks"},
            ValueError,
            "every operation of it has a backwards step. Fix: take it out of irreversible",
        ),
    ],
)
def test_an_acknowledgement_that_is_wrong_says_how_to_fix_it(
    rebuild_scenario: None,
    migrator: Migrator,
    irreversible: dict[str, str],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        migrator.check_migrations("scenarioapp", irreversible=irreversible)
