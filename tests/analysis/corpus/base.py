"""The schema every corpus case starts from: a shop whose tables exist in production."""

from __future__ import annotations

from django.db import migrations, models

APP = "scenarioapp"
ORDER = "scenarioapp_order"
CUSTOMER = "scenarioapp_customer"
COUPON = "scenarioapp_coupon"


class BaseMigration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("email", models.CharField(max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Coupon",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("code", models.CharField(max_length=20)),
            ],
        ),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("total", models.DecimalField(max_digits=10, decimal_places=2)),
                ("status", models.CharField(max_length=20, default="new")),
                ("note", models.TextField(null=True)),
                ("code", models.CharField(max_length=10, null=True)),
                ("quantity", models.IntegerField(default=1)),
                ("legacy", models.TextField(null=True)),
                (
                    "customer",
                    models.ForeignKey("scenarioapp.Customer", models.PROTECT, null=True),
                ),
            ],
            options={"indexes": [models.Index(fields=["status"], name="order_status_idx")]},
        ),
    ]


def base_migration() -> migrations.Migration:
    return BaseMigration("0001_base", APP)
