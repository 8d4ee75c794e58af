"""Seed type 7, create table: a new table is empty, so CreateModel with its indexes is safe.

Its foreign key locks ``shop_order`` only for the moment it takes to check an empty table.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0009_order_product"),
    ]

    operations = [
        migrations.CreateModel(
            name="Shipment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("carrier", models.CharField(max_length=50)),
                (
                    "shipped_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="shipments",
                        to="shop.order",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["shipped_at"], name="shipment_shipped_at_idx")],
            },
        ),
    ]
