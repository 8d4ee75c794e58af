from django.db import migrations
from django.db.models import F

import safemigrate.operations

#: The size of every batch the function was given, for the tests to look at.
BATCH_SIZES: list[int] = []


def to_cents(apps, batch):
    BATCH_SIZES.append(batch.count())
    rows = batch.select_for_update().filter(price_cents__isnull=True)
    changed = 0
    for product in rows:
        product.price_cents = int(product.price * 100)
        product.touched = F("touched") + 1
        product.save(update_fields=["price_cents", "touched"])
        changed += 1
    return changed


def from_cents(apps, batch):
    return batch.update(price_cents=None, touched=F("touched") - 1)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scenarioapp", "0001_initial"),
        ("safemigrate", "0003_backfill_state"),
    ]

    operations = [
        safemigrate.operations.RunBackfill("product", to_cents, from_cents),
    ]
