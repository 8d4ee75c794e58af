"""The test kit in this suite (pytest loads it from the entry point, as in any project's): the
migrator between states with historical models and factory-boy volumes, and the migrations
check catching what a deploy or its rollback would trip over."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
import pytest
from django.db import connection

from safemigrate.exceptions import PostconditionFailed
from safemigrate.testing import factories
from safemigrate.testing.migrator import Migrator
from safemigrate.testing.reversibility import project_apps


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def test_a_data_migration_tested_at_production_volume(scenario: Any, migrator: Migrator) -> None:
    scenario("postconditions")
    before = migrator.apply("scenarioapp", "0001")
    product = before.get_model("scenarioapp", "Product")

    made = migrator.create_batch(
        product,
        5000,
        chunk=2000,
        name=factory.Sequence(lambda n: f"product {n}"),
        price=factory.Iterator([Decimal("4.50"), Decimal("0.99"), Decimal("120.00")]),
    )
    after = migrator.apply("scenarioapp", "0003")

    assert made == product.objects.count() == 5000
    filled = after.get_model("scenarioapp", "Product").objects
    assert not filled.filter(price_cents=None).exists()
    assert filled.get(name="product 2").price_cents == 12000
    assert filled.order_by("name").first().name == "product 0", "one sequence across chunks"


def test_a_failing_postcondition_fails_the_migration_in_a_test(scenario, migrator) -> None:
    scenario("postconditions")
    product = migrator.apply("scenarioapp", "0001").get_model("scenarioapp", "Product")
    migrator.factory(product, name="refund", price=Decimal("-1.00")).create()

    with pytest.raises(PostconditionFailed, match="no product without price_cents"):
        migrator.apply("scenarioapp", "0003")


def test_the_migrator_goes_backwards_to_zero_and_names_bad_targets(scenario, migrator) -> None:
    scenario("postconditions")
    migrator.apply("scenarioapp", "0004")
    assert "scenarioapp_productcopy" in tables()

    models = migrator.apply("scenarioapp", None)

    assert "scenarioapp_product" not in tables()
    with pytest.raises(LookupError):
        models.get_model("scenarioapp", "Product")
    with pytest.raises(LookupError, match="starts with '000': give more of its name"):
        migrator.target("scenarioapp", "000")
    with pytest.raises(LookupError, match="has no migration '0099'"):
        migrator.target("scenarioapp", "0099")


def test_the_check_passes_reversible_migrations_with_their_models(migrator) -> None:
    migrator.check_migrations("testapp")


def test_the_check_names_a_migration_that_cannot_be_unapplied(scenario, migrator) -> None:
    scenario("irreversible")

    with pytest.raises(AssertionError) as raised:
        migrator.check_migrations("scenarioapp")

    message = str(raised.value)
    assert message.startswith("scenarioapp.0002_item_slug is not reversible:")
    assert "RunPython.noop or RunSQL.noop when there is nothing to undo" in message


def test_the_check_names_a_backwards_step_that_leaves_something_behind(scenario, migrator):
    scenario("leaky")

    with pytest.raises(AssertionError) as raised:
        migrator.check_migrations("scenarioapp")

    message = str(raised.value)
    assert message.startswith(
        "scenarioapp.0002_leaves_a_table_behind failed when applying it again after "
        "unapplying it: ProgrammingError"
    )
    assert 'relation "scenarioapp_extra" already exists' in message
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE scenarioapp_extra")  # so the migrator can reset


def test_a_reset_that_cannot_apply_everything_says_so(scenario, migrator):
    scenario("leaky")
    migrator.apply("scenarioapp", "0001")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE scenarioapp_extra (id int)")

    with pytest.raises(RuntimeError, match="could not apply every migration again"):
        migrator.reset()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE scenarioapp_extra")


def test_the_check_names_model_changes_without_a_migration(scenario, migrator) -> None:
    # The scenario app has no models: makemigrations would delete what its migrations made.
    scenario("basic")

    with pytest.raises(AssertionError) as raised:
        migrator.check_migrations("scenarioapp")

    assert "makemigrations --check finds model changes without a migration" in str(raised.value)
    assert "Delete model Item" in str(raised.value)


def test_the_project_apps_are_those_outside_site_packages() -> None:
    apps = project_apps()
    assert "testapp" in apps
    assert "auth" not in apps, "Django's own apps are installed packages"


def test_without_factory_boy_the_helpers_say_what_to_install(monkeypatch) -> None:
    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(factories, "import_module", missing)

    with pytest.raises(ImportError, match="pip install factory-boy"):
        factories.model_factory(object, "default")  # type: ignore[arg-type]
