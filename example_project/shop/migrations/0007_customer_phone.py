"""Seed type 1, add column: nullable, so the running code's inserts keep working."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0006_product_price_cents_contract"),
    ]

    operations = [
        safemigrate.operations.AddFieldSafely(
            model_name="customer",
            name="phone",
            field=models.CharField(blank=True, max_length=20, null=True),
        ),
    ]
