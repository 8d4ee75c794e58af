"""A migration's SQL collected from the part of the state it needs is the SQL collected from
the whole state, on every migration of real histories that is collected that way."""

from __future__ import annotations

import pytest
from django.db import connection, migrations, models
from django.db.migrations.state import ModelState, ProjectState

from safemigrate.analysis.collect import collect
from safemigrate.analysis.scope import scoped_state
from tests.realapps.probe import run_json


def probe(settings: str) -> dict:
    name = connection.settings_dict["NAME"]
    databases = ("REAL_SAFE_DATABASE", "REAL_PLAIN_DATABASE", "EXAMPLE_DATABASE")
    found: dict = run_json("tests.analysis.scope_probe", settings, **dict.fromkeys(databases, name))
    return found


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("settings", ["tests.realapps.settings", "tests.example_settings"])
def test_the_part_of_the_state_gives_the_same_sql_as_the_whole(settings):
    found = probe(settings)
    assert found["differ"] == []
    # Enough of them are collected from a part of the state for the comparison to say
    # something: those that only add to or drop from their own tables.
    assert found["scoped"] >= 10


def project() -> ProjectState:
    state = ProjectState()
    key = models.BigAutoField(primary_key=True)
    state.add_model(ModelState("shop", "Customer", [("id", key)]))
    state.add_model(ModelState("shop", "Tag", [("id", models.BigAutoField(primary_key=True))]))
    state.add_model(ModelState("shop", "Coupon", [("id", models.BigAutoField(primary_key=True))]))
    state.add_model(
        ModelState(
            "shop",
            "Order",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("customer", models.ForeignKey("shop.Customer", models.CASCADE)),
            ],
        )
    )
    return state


def one(operation: object) -> migrations.Migration:
    migration = migrations.Migration("0002_next", "shop")
    migration.operations = [operation]
    return migration


def test_an_added_column_needs_its_model_and_what_it_refers_to():
    added = one(
        migrations.AddField(
            "order", "tag", models.ForeignKey("shop.Tag", models.CASCADE, null=True)
        )
    )
    part = scoped_state(added, project())
    assert part is not None
    assert set(part.models) == {("shop", "order"), ("shop", "customer"), ("shop", "tag")}
    note = one(migrations.AddField("order", "note", models.TextField(null=True)))
    assert set(scoped_state(note, project()).models) == {("shop", "order"), ("shop", "customer")}


@pytest.mark.django_db
def test_a_changed_field_that_others_may_refer_to_needs_the_whole_state():
    altered = one(migrations.AlterField("customer", "id", models.AutoField(primary_key=True)))
    assert scoped_state(altered, project()) is None
    # Collected from the whole state, the change reaches the order's key to the customer.
    items, _ = collect(connection, altered, project())
    assert any('"shop_order"' in sql for item in items for sql in item.sql)
