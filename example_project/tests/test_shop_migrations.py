"""The shop's migrations, tested as a project tests its own with safemigrate's test kit.

``migrator`` comes from safemigrate's pytest plugin: no conftest, no import. Each data
migration is tested the way it runs: rows created with the models of the state before it,
at a volume where batching matters, then checked with the models of the state after it.
Going back to those states crosses 0019, which cannot be undone: the migrator rebuilds the
test database below it instead.
"""

from __future__ import annotations

from decimal import Decimal

import factory

from safemigrate.testing.migrator import Migrator


def test_every_migration_is_reversible_and_makemigrations_is_quiet(migrator: Migrator) -> None:
    migrator.check_migrations(
        "shop",
        irreversible={
            "shop.0019_customer_email_lowercase": "the case emails were typed in is not kept",
        },
    )


def test_price_cents_is_filled_for_every_product_and_both_rollbacks_keep_every_price(
    migrator: Migrator,
) -> None:
    before = migrator.apply("shop", "0004")
    product = before.get_model("shop", "Product")
    migrator.create_batch(
        product,
        10_000,
        name=factory.Sequence(lambda n: f"product {n}"),
        price=factory.Iterator([Decimal("4.50"), Decimal("0.99"), Decimal("1250.00")]),
    )

    # 0005 adds price_cents and fills it in batches, then its postconditions check every row.
    expanded = migrator.apply("shop", "0005").get_model("shop", "Product").objects
    assert not expanded.filter(price_cents=None).exists()
    assert expanded.get(name="product 2").price_cents == 125_000

    # 0006 drops price; going back fills it again from price_cents.
    migrator.apply("shop", "0006")
    restored = migrator.apply("shop", "0004").get_model("shop", "Product").objects
    assert restored.count() == 10_000
    assert restored.get(name="product 2").price == Decimal("1250.00")
    assert restored.get(name="product 1").price == Decimal("0.99")


def test_renaming_name_to_full_name_keeps_every_name_both_ways(migrator: Migrator) -> None:
    before = migrator.apply("shop", "0010")
    customer = before.get_model("shop", "Customer")
    migrator.create_batch(
        customer,
        5_000,
        email=factory.Sequence(lambda n: f"customer{n}@example.com"),
        name=factory.Sequence(lambda n: f"Customer {n}"),
    )

    contracted = migrator.apply("shop", "0012")

    renamed = contracted.get_model("shop", "Customer").objects
    assert renamed.get(email="customer7@example.com").full_name == "Customer 7"
    restored = migrator.apply("shop", "0010").get_model("shop", "Customer").objects
    assert restored.filter(name__startswith="Customer ").count() == 5_000


def test_the_total_cents_copy_matches_every_order(migrator: Migrator) -> None:
    before = migrator.apply("shop", "0013")
    customer = migrator.factory(
        before.get_model("shop", "Customer"), email="c@example.com", full_name="C"
    ).create()
    migrator.create_batch(
        before.get_model("shop", "Order"),
        3_000,
        customer=customer,
        total=factory.Sequence(lambda n: Decimal(n) / 100),
    )

    after = migrator.apply("shop", "0015")

    orders = after.get_model("shop", "Order").objects
    assert sorted(orders.values_list("total_cents", flat=True))[:3] == [0, 1, 2]
