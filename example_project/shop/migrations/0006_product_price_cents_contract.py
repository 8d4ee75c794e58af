"""Seed type 4, change column type, contract: drop ``price`` once no process runs old code.

Post-deploy: ``safemigrate --phase post`` applies it only when every live process ships it
(the live-process gate). One short transaction drops the trigger and ``price``.
"""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0005_product_price_cents"),
    ]

    operations = [
        safemigrate.operations.FinishRenameField(
            model_name="product",
            old_name="price",
            new_name="price_cents",
            old_field=models.DecimalField(decimal_places=2, max_digits=10),
            using="price * 100",
            reverse_using="price_cents / 100.0",
        ),
    ]
