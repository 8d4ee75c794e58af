"""``--fix`` on ``RenameField``, a type-changing ``AlterField`` and ``RenameModel``: the safe
forms in pre- and post-deploy migrations, with the schema the originals give."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

from safemigrate.deploy.phases import migration_phase
from tests.conftest import run_safemigrate
from tests.operations import test_bridge
from tests.operations.expand_helpers import reset, rows, schema, seed
from tests.operations.test_fix import final_state, forget_modules
from tests.operations.test_fix_alter_field import rules

pytestmark = pytest.mark.django_db(transaction=True)


def fix(package: Path, *names: str) -> list[str]:
    """``--fix`` each migration, as a user would one after the other; return the reports."""
    reports = []
    for name in names:
        reports.append(run_safemigrate("scenarioapp", name, fix=True).out)
        forget_modules(package.name)
    return reports


def plain_run(**options: Any) -> tuple[dict[str, Any], list[Any]]:
    run_safemigrate("scenarioapp", "0001")
    seed(300)
    run_safemigrate("scenarioapp", **options)
    return schema(), rows()


def test_renames_and_type_changes_are_rewritten_with_the_same_schema(
    copy_scenario: Callable[[str], Path],
) -> None:
    package = copy_scenario("expand_plain")
    plain, plain_rows = plain_run(allow_unsafe=True)
    plain_state = final_state()
    reset()
    run_safemigrate("scenarioapp", "0001")
    assert {"SM104", "SM105"} <= set(rules("scenarioapp"))

    reports = fix(package, "0002", "0004", "0005", "0007")

    assert "Not rewritten" not in "".join(reports)
    expand = (package / "0002_1_rename_email.py").read_text()
    contract = (package / "0002_rename_email.py").read_text()
    assert "safemigrate.operations.RenameFieldSafely(" in expand
    assert "safemigrate.operations.FinishRenameField(" in contract
    assert "atomic = False" in contract
    assert "Hold 0002_rename_email back" in reports[0]
    retype = (package / "0004_qty_bigint.py").read_text()
    assert "safemigrate.operations.AlterFieldTypeSafely(" in retype
    # A rename with a new type is one new column of that type, not a rename then a shadow.
    price = (package / "0005_1_price_cents.py").read_text()
    assert "field=models.BigIntegerField()" in price
    assert "reverse_using='CAST(\"price_cents\" AS numeric(10, 2))'" in price
    assert "AlterFieldTypeSafely" not in price
    assert rules("scenarioapp") == []
    reset()

    assert plain_run() == (plain, plain_rows)
    changes = MigrationAutodetector(final_state(), plain_state).changes(graph=MigrationGraph())
    assert changes == {}


def test_the_contracts_are_post_deploy_and_the_rest_pre_deploy(
    copy_scenario: Callable[[str], Path],
) -> None:
    package = copy_scenario("expand_plain")
    fix(package, "0002", "0004")
    loader = MigrationLoader(None, ignore_no_migrations=True)
    phases = {
        name: migration_phase(migration).phase.value
        for (app, name), migration in loader.disk_migrations.items()
        if app == "scenarioapp"
    }
    assert phases["0002_1_rename_email"] == "pre_deploy"
    assert phases["0002_rename_email"] == "post_deploy"
    assert phases["0004_qty_bigint"] == "pre_deploy"  # the swap: old code sees the same column


def test_rename_model_is_rewritten_with_the_same_schema(
    copy_scenario: Callable[[str], Path],
) -> None:
    package = copy_scenario("bridge_plain")
    run_safemigrate("scenarioapp", "0001")
    test_bridge.seed()
    run_safemigrate("scenarioapp", allow_unsafe=True)
    plain = test_bridge.schema()
    test_bridge.reset()

    report = fix(package, "0002")[0]

    assert "RenameModelSafely(" in (package / "0002_1_rename_customer_client.py").read_text()
    assert "FinishRenameModel(" in (package / "0002_rename_customer_client.py").read_text()
    assert "Hold 0002_rename_customer_client back" in report
    run_safemigrate("scenarioapp", "0001")
    test_bridge.seed()
    assert rules("scenarioapp") == []
    run_safemigrate("scenarioapp")
    assert test_bridge.schema() == plain
