"""Seed type 6, add foreign key: column, index CONCURRENTLY, constraint NOT VALID, VALIDATE."""

import django.db.models.deletion
from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0008_order_status_idx"),
    ]

    operations = [
        safemigrate.operations.AddFieldSafely(
            model_name="order",
            name="product",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="shop.product",
            ),
        ),
    ]
