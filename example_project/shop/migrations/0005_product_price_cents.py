"""Seed type 4, change column type, expand: ``price`` (decimal) becomes ``price_cents`` (bigint).

The seed adds ``price_cents``, copies ``CAST(price * 100 AS BIGINT)`` in one UPDATE, and asks
the application to write both columns. Here ``RenameFieldSafely`` adds ``price_cents``
(nullable while it fills), installs a trigger that keeps both columns equal whichever one a
write sets (``price * 100`` one way, ``price_cents / 100.0`` the other), fills the existing
rows in batches with checkpoints, then makes it NOT NULL through a validated check. Django's
state calls the field ``price_cents`` from here on: deploy the code that uses it after this
migration. The code still running uses ``price``, which the trigger keeps right. The seed's
"verify data integrity" step follows as two postconditions: if either does not hold, the
migration fails and the run history says which and what it found.
"""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    # Each batch commits on its own, with its checkpoint.
    atomic = False

    dependencies = [
        ("shop", "0004_order_status"),
        # The backfill's checkpoint lives in safemigrate's tables.
        ("safemigrate", "0003_backfill_state"),
    ]

    operations = [
        safemigrate.operations.RenameFieldSafely(
            model_name="product",
            old_name="price",
            new_name="price_cents",
            field=models.BigIntegerField(),
            using="price * 100",
            reverse_using="price_cents / 100.0",
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
