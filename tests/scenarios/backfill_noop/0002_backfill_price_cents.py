from django.db import migrations
from django.db.models import F

import safemigrate.operations


def to_cents(apps, batch):
    return batch.update(price_cents=F("price") * 100)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scenarioapp", "0001_initial"),
        ("safemigrate", "0003_backfill_state"),
    ]

    operations = [
        safemigrate.operations.RunBackfill(
            "product", to_cents, safemigrate.operations.RunBackfill.noop
        ),
    ]
