"""Seed type 2, remove column: drop the decimal ``total`` once no running code uses it."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0015_order_total_cents_contract"),
    ]

    operations = [
        safemigrate.operations.RemoveFieldFromDatabase(
            model_name="order",
            name="total",
            field=models.DecimalField(decimal_places=2, max_digits=10),
        ),
    ]
