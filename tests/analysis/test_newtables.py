"""The check before a run judges a migration that only builds the plan's new tables from its
operations; anything that reaches a table in use is still judged by its SQL."""

from __future__ import annotations

from django.db import migrations, models
from django.db.migrations.state import ModelState, ProjectState

from safemigrate.analysis.newtables import only_new_tables


def migration(*operations: object) -> migrations.Migration:
    found = migrations.Migration("0002_next", "shop")
    found.operations = list(operations)
    return found


def state_with_customer() -> ProjectState:
    state = ProjectState()
    state.add_model(ModelState("shop", "Customer", [("id", models.BigAutoField(primary_key=True))]))
    return state


def create(name: str, *fields: tuple[str, models.Field]) -> migrations.CreateModel:
    return migrations.CreateModel(name, [("id", models.BigAutoField(primary_key=True)), *fields])


def test_a_new_table_with_a_key_to_another_new_table_is_judged_from_its_operations():
    built = migration(
        create("Order"),
        create("Line", ("order", models.ForeignKey("shop.Order", models.CASCADE))),
        migrations.AddField("line", "note", models.TextField(null=True)),
        migrations.AddIndex("line", models.Index(fields=["note"], name="line_note")),
    )
    assert only_new_tables(built, ProjectState(), set())


def test_a_table_created_earlier_in_the_plan_counts_as_new():
    altered = migration(migrations.AddField("customer", "phone", models.TextField(null=True)))
    assert only_new_tables(altered, state_with_customer(), {"shop_customer"})
    assert not only_new_tables(altered, state_with_customer(), set())


def test_a_key_to_a_table_in_use_is_judged_by_its_sql():
    # The foreign key locks the customer table, which the application uses.
    built = migration(
        create("Order", ("customer", models.ForeignKey("shop.Customer", models.CASCADE)))
    )
    assert not only_new_tables(built, state_with_customer(), set())


def test_sql_many_to_many_and_other_operations_are_judged_by_their_sql():
    state = state_with_customer()
    tags = create("Tag", ("customers", models.ManyToManyField("shop.Customer")))
    raw = migrations.RunSQL("CREATE INDEX ON shop_customer (id)")
    for operation in (tags, raw):
        assert not only_new_tables(migration(operation), state, {"shop_customer"})
