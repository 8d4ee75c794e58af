"""Renaming a model's table with a view bridging the old name: the old code keeps reading and
writing through it until the contract, and the final schema is ``RenameModel``'s."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import NotSupportedError, connection, models
from django.db.migrations.loader import MigrationLoader

from safemigrate.operations import RenameModelSafely
from tests import catalog
from tests.conftest import run_safemigrate
from tests.operations.expand_helpers import query
from tests.operations.test_fix_alter_field import rules

pytestmark = pytest.mark.django_db(transaction=True)

OLD, NEW, ORDERS = "scenarioapp_customer", "scenarioapp_client", "scenarioapp_order"


def seed() -> None:
    query(f"INSERT INTO {OLD} (email) SELECT 'c' || g || '@x.test' FROM generate_series(1, 200) g")
    query(f"INSERT INTO {ORDERS} (total, customer_id) SELECT g, g FROM generate_series(1, 200) g")


def reset() -> None:
    if query(f"SELECT relkind FROM pg_class WHERE relname = '{OLD}'") == [("v",)]:
        query(f"DROP VIEW {OLD}")
    query(f"DROP TABLE IF EXISTS {OLD}, {NEW}, {ORDERS} CASCADE")
    query("DELETE FROM django_migrations WHERE app = 'scenarioapp'")
    # The plain rename renamed the content type too: the safe one must find it unrenamed.
    query(
        "DELETE FROM auth_permission WHERE content_type_id IN "
        "(SELECT id FROM django_content_type WHERE app_label = 'scenarioapp')"
    )
    query("DELETE FROM django_content_type WHERE app_label = 'scenarioapp'")


def schema() -> dict[str, Any]:
    views = query("SELECT viewname FROM pg_views WHERE viewname LIKE 'scenarioapp%%'")
    return {"tables": catalog.schema([NEW, ORDERS]), "views": views}


def test_final_schema_is_rename_models(scenario: Any) -> None:
    scenario("bridge_plain")
    run_safemigrate("scenarioapp", "0001")
    seed()
    run_safemigrate("scenarioapp", allow_unsafe=True)
    plain = schema()
    reset()

    scenario("bridge")
    run_safemigrate("scenarioapp", "0001")
    seed()
    run_safemigrate("scenarioapp")

    assert schema() == plain
    assert query(f"SELECT count(*) FROM {NEW} JOIN {ORDERS} o ON o.customer_id = {NEW}.id") == [
        (200,)
    ]


def old_code_writes(conn: psycopg.Connection[Any]) -> None:
    """What the code of the release before does, by the table's old name."""
    new_id = conn.execute(
        f"INSERT INTO {OLD} (email) VALUES ('old@x.test') RETURNING id"
    ).fetchone()[0]
    conn.execute(f"UPDATE {OLD} SET referrer_id = 1 WHERE id = %s", [new_id])
    conn.execute(f"INSERT INTO {ORDERS} (total, customer_id) VALUES (7, %s)", [new_id])
    gone = conn.execute(f"INSERT INTO {OLD} (email) VALUES ('gone@x.test') RETURNING id")
    conn.execute(f"DELETE FROM {OLD} WHERE id = %s", [gone.fetchone()[0]])
    selected = conn.execute(f"SELECT email FROM {OLD} WHERE id = %s FOR UPDATE", [new_id])
    assert selected.fetchone() == ("old@x.test",)


def test_old_code_reads_and_writes_through_the_view_until_the_contract(scenario: Any) -> None:
    scenario("bridge")
    run_safemigrate("scenarioapp", "0001")
    seed()
    run_safemigrate("scenarioapp", "0002")

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as conn:
        old_code_writes(conn)
        conn.execute(f"INSERT INTO {NEW} (email) VALUES ('new@x.test')")  # the new code

    emails = {email for (email,) in query(f"SELECT email FROM {NEW}")}
    assert {"old@x.test", "new@x.test"} <= emails
    assert len(emails) == 202  # 200 seeded, and one from each code (another was deleted)
    run_safemigrate("scenarioapp", "0003")
    assert query(f"SELECT to_regclass('{OLD}')") == [(None,)]


def test_each_step_rolls_back(scenario: Any) -> None:
    scenario("bridge")
    run_safemigrate("scenarioapp", "0001")
    seed()
    original = catalog.schema([OLD, ORDERS])
    run_safemigrate("scenarioapp", "0003")
    final = schema()

    run_safemigrate("scenarioapp", "0002")
    assert query(f"SELECT count(*) FROM {OLD}") == [(200,)]  # the view is back
    run_safemigrate("scenarioapp", "0001")
    assert catalog.schema([OLD, ORDERS]) == original
    assert query(f"SELECT to_regclass('{NEW}')") == [(None,)]
    run_safemigrate("scenarioapp", "0003")
    assert schema() == final


def test_analysis_judges_the_bridge_safe_and_the_plain_rename_not(scenario: Any) -> None:
    scenario("bridge")
    run_safemigrate("scenarioapp", "0001")
    assert rules("scenarioapp") == []
    reset()
    scenario("bridge_plain")
    run_safemigrate("scenarioapp", "0001")
    assert "SM106" in rules("scenarioapp")


def test_many_to_many_relations_are_refused_with_the_reason(scenario: Any) -> None:
    scenario("bridge")
    state = MigrationLoader(None).project_state(("scenarioapp", "0001_initial"))
    field = models.ManyToManyField("scenarioapp.customer", related_name="+")
    state.models["scenarioapp", "order"].fields["buyers"] = field
    state.reload_model("scenarioapp", "order")
    operation = RenameModelSafely("Customer", "Client")
    after = state.clone()
    operation.state_forwards("scenarioapp", after)

    with (
        connection.schema_editor(collect_sql=True, atomic=False) as editor,
        pytest.raises(NotSupportedError, match="many-to-many relations"),
    ):
        operation.database_forwards("scenarioapp", editor, state, after)
