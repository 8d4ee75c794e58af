"""Fill products.price_cents from price, in batches, while the shop keeps selling.

The seed's one ``UPDATE products SET price_cents = CAST(price * 100 AS BIGINT)`` locks every
row at once; this backfill locks a few hundred at a time, commits each batch with its
checkpoint, and resumes where it stopped if the deploy dies. The seed's "verify data
integrity" step follows it as two postconditions: if either does not hold, the migration
fails and the run history says which and what it found.
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
        safemigrate.operations.Verify(
            "SELECT count(*) FROM shop_product WHERE price_cents IS NULL",
            expect=0,
            description="no product without price_cents",
        ),
        safemigrate.operations.Verify(
            "SELECT count(*) FROM shop_product WHERE price_cents <> (price * 100)::bigint",
            expect=0,
            description="every price_cents is its price in cents",
        ),
    ]
