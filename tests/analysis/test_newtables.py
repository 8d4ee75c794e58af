"""The check before a run judges a migration that only builds the plan's new tables from its
operations; anything that reaches a table in use is still judged by its SQL."""

from __future__ import annotations

from django.db import migrations, models
from django.db.migrations.state import ModelState, ProjectState

from safemigrate.analysis.newtables import only_new_tables
from safemigrate.operations import (
    AddFieldSafely,
    AddIndexConcurrently,
    Backfill,
    SetNotNull,
    Verify,
)


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


def test_safemigrates_own_operations_on_a_new_table_are_judged_from_their_operations():
    # As in a plan that builds the example shop from an empty database.
    phone = models.CharField(max_length=20, null=True)
    altered = migration(
        AddFieldSafely("customer", "phone", phone),
        Backfill("customer", {"phone": "?"}),
        Verify("SELECT count(*) FROM shop_customer WHERE phone IS NULL", expect=0),
        SetNotNull("customer", "phone"),
        AddIndexConcurrently("customer", models.Index(fields=["phone"], name="phone_idx")),
    )
    assert only_new_tables(altered, state_with_customer(), {"shop_customer"})
    assert not only_new_tables(altered, state_with_customer(), set())


def test_a_declared_operation_with_a_key_to_a_table_in_use_is_judged_by_its_sql():
    state = state_with_customer()
    state.add_model(ModelState("shop", "Order", [("id", models.BigAutoField(primary_key=True))]))
    key = models.ForeignKey("shop.Customer", models.CASCADE, null=True)
    altered = migration(AddFieldSafely("order", "customer", key))
    assert not only_new_tables(altered, state, {"shop_order"})
    assert only_new_tables(altered, state, {"shop_order", "shop_customer"})


def test_an_operation_that_declares_nothing_is_judged_by_its_sql():
    class Custom(migrations.AddField):  # a third party's: it may run any SQL
        pass

    added = migration(Custom("customer", "phone", models.TextField(null=True)))
    assert not only_new_tables(added, state_with_customer(), {"shop_customer"})


def test_a_field_of_a_new_table_that_a_table_in_use_refers_to_is_judged_by_its_sql():
    # Changing the key's type would change the referring column in the table in use too.
    state = state_with_customer()
    key = models.ForeignKey("shop.Customer", models.CASCADE)
    state.add_model(
        ModelState(
            "shop", "Order", [("id", models.BigAutoField(primary_key=True)), ("customer", key)]
        )
    )
    retyped = migration(migrations.AlterField("customer", "id", models.AutoField(primary_key=True)))
    assert not only_new_tables(retyped, state, {"shop_customer"})
    assert only_new_tables(retyped, state, {"shop_customer", "shop_order"})
