"""Fill products.price_cents from price, in batches, while the shop keeps selling.

The seed's one ``UPDATE products SET price_cents = CAST(price * 100 AS BIGINT)`` locks every
row at once; this backfill locks a few hundred at a time, commits each batch with its
checkpoint, and resumes where it stopped if the deploy dies.
"""

from django.db import migrations, models
from django.db.models import F, Q
from django.db.models.functions import Cast

import safemigrate.operations


class Migration(migrations.Migration):
    # Each batch commits on its own: a backfill cannot run inside the migration's transaction.
    atomic = False

    dependencies = [
        ("shop", "0005_product_price_cents"),
        # The backfill's checkpoint lives in safemigrate's tables.
        ("safemigrate", "0003_backfill_state"),
    ]

    operations = [
        safemigrate.operations.Backfill(
            model_name="product",
            values={"price_cents": Cast(F("price") * 100, models.BigIntegerField())},
            filter=Q(price_cents__isnull=True),
            reverse_values={"price_cents": None},
        ),
    ]
