"""Seed type 4, change column type, contract: ``total_cents`` NOT NULL, ``total`` out of the code."""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0014_order_total_cents"),
    ]

    operations = [
        safemigrate.operations.SetNotNull(
            model_name="order",
            name="total_cents",
            field=models.BigIntegerField(),
        ),
        safemigrate.operations.RemoveFieldFromState(model_name="order", name="total"),
    ]
